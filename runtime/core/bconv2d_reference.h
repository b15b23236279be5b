// The plain reference twin of BConv2D: direct loops over output pixels, channels, taps and
// input channels, bit by bit, straight from the semantics in docs/op-format.md. Slow on purpose;
// every optimized variant is tested against it.
#pragma once

#include <string>

#include "runtime/core/bconv2d.h"

namespace lc {

// Same arguments and layouts as BConv2D::Create + Run. Returns an error message (empty on
// success) instead of running when ValidateBConv2D rejects the arguments or when `residual` is
// null although transform.residual asks for one.
std::string BConv2DReference(const BConv2DGeometry& geometry, const TBitpacked* filter,
                             const OutputTransform& transform, const TBitpacked* input, int batch,
                             void* output, const float* residual = nullptr);

}  // namespace lc
