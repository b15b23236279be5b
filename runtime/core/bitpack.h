// Bit-packing of the innermost (channel) axis, per docs/op-format.md: channel c is bit c % 32 of
// word c / 32, bit 1 = -1, bit 0 = +1, padding bits of the last word are always 0.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/core/types.h"

namespace lc {

// The bit-packers, one file per ISA variant (bitpack.cpp is the portable reference twin;
// bitpack_avx2.cpp, bitpack_avx512.cpp, bitpack_neon.cpp), selected like the binary GEMM kernels
// (kernel_dispatch.cpp). Every variant gives bit-identical results. Ops resolve theirs once at
// Init (SelectBitpackKernels) and keep the pointer: no dispatch work per call.
struct BitpackKernels {
  const char* name;  // "portable", "avx2", "avx512", "neon"
  // in: [rows, channels] float; out: [rows, PackedSize(channels)]. bit = (x < 0), so 0, -0 and
  // NaN pack to +1.
  void (*pack_float)(const float* in, std::int64_t rows, int channels, TBitpacked* out);
  // in: [rows, channels] int8; out: [rows, PackedSize(channels)]. bit = (q < zero_point).
  void (*pack_int8)(const std::int8_t* in, std::int64_t rows, int channels,
                    std::int8_t zero_point, TBitpacked* out);
};

const BitpackKernels* BitpackKernelsPortable();
const BitpackKernels* BitpackKernelsAvx2();
const BitpackKernels* BitpackKernelsAvx512();
const BitpackKernels* BitpackKernelsNeon();

// As SelectBGemmKernels (bgemm.h): kAuto means LARQ_COMPUTE_KERNEL if set, else the best this CPU
// and build support; null with *error set when the variant is unknown, not built, or not supported
// by this CPU (a forced variant never falls back to another one).
const BitpackKernels* SelectBitpackKernels(IsaVariant variant, std::string* error);

// in: [rows, PackedSize(channels)]; out: [rows, channels] of exactly +1.0f / -1.0f.
void UnpackToFloat(const TBitpacked* in, std::int64_t rows, int channels, float* out);

// in: [rows, PackedSize(channels)]; out: [rows, channels] of the quantized +1 / -1 of the given
// scale and zero point (round half away from zero, saturated to [-128, 127]).
void UnpackToInt8(const TBitpacked* in, std::int64_t rows, int channels, float scale,
                  int zero_point, std::int8_t* out);

// Quantizes one float like the int8 outputs of every binary op: round half away from zero of
// y / scale, plus zero_point, saturated to [-128, 127].
std::int8_t QuantizeToInt8(float y, float scale, int zero_point);

}  // namespace lc
