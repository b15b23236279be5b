// Binary GEMM micro-kernels: the ISA-specific part of BConv2D and BFullyConnected.
//
// How a variant plugs in (portable, avx2, avx512, neon — one file each, named
// bgemm_<MR>x<NR>_<isa>.cpp; only *_avx2/*_avx512/*_neon files get ISA flags, see CMakeLists.txt):
//   1. Define `const BGemmKernels* BGemmKernels<Isa>()` (declared below) returning a static table.
//   2. List its getter in kernel_dispatch.cpp for the architectures that build the file; a build
//      without it lacks the variant, and forcing it reports an error.
//
// The left operand ("A": one row per output pixel) is never materialized (no im2col). A row is
// `taps` segments of `words` 32-bit words; segment t of pixel m starts at
//   rows[m] + tap_offsets[t]
// (rows[m]: the pixel's first tap in the NHWC input, or in a padded copy of it, plus the group's
// word offset; tap_offsets: the filter taps' offsets, shared by every pixel). Rows beyond the
// real pixel count repeat a valid pointer; their results are ignored.
//
// The right operand ("B": one column per output channel) is packed once at Create into blocks of
// NR channels, channel-minor, in K words of `b_word_bits` (BGemmKernels):
//   64: b[(t * W64 + w) * NR + n] (uint64), W64 = ceil(words / 2), where 64-bit word w of channel
//       n's segment t holds its 32-bit words 2w (low half) and 2w+1 (high half; 0 when words is
//       odd);
//   32: b[(t * words + w) * NR + n] (uint32 viewed through the same storage).
// Channels past the real count are all-zero columns.
//
// popcount_tile computes the MR x NR tile of XOR-popcounts
//   acc[m * NR + n] = sum_t sum_w popcount(A segment word ^ B segment word)
// Padding bits are 0 in both operands (docs/op-format.md), so they never count. A kernel must
// read exactly `words` 32-bit words per segment (never 2 * W64: the next pixel follows).
//
// The output stages turn a tile's popcounts for channels [c0, c0 + n), n <= NR, into outputs
// with the numerics of OutputStage (output_transform.h); bgemm_variant_common.h has a portable
// implementation a variant may instantiate under its own ISA flags.
//
// ODR caution for ISA files: define helpers in an anonymous namespace and avoid out-of-line
// std:: templates (std::min, std::clamp, ...) in them — the linker may otherwise keep the AVX-512
// copy of a shared inline function and call it from portable code on a CPU without AVX-512.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/output_transform.h"
#include "runtime/core/types.h"

namespace lc {

constexpr int kMaxTileRows = 8;       // MR limit (the driver keeps A pointers on the stack)
constexpr int kMaxTileChannels = 64;  // NR limit; NR must be a multiple of 8

// One tile's outputs: `rows` pixels x channels [c0, c0 + n), n <= NR, from the popcounts the
// micro-kernel left in `popcounts` ([rows][NR]).
struct OutputTileArgs {
  const std::int32_t* popcounts;
  int rows;
  int k;                                   // K: bits per output (taps * channels per group)
  int c0, n;
  const std::int32_t* const* corrections;  // [rows]: zero-padding correction rows indexed by
                                           // output channel, or null entries
  // float / int8: &output[pixel0][c0], pixels `out_stride` elements apart. Bits: uint32
  // [rows][out_stride] words, word i holding channels c0 + 32i .. (bit j = channel c0 + 32i + j).
  void* out;
  std::ptrdiff_t out_stride;
  // Float output with a residual: &residual[pixel0][c0], laid out like `out`; added to each
  // output after its clamp (OutputStage). Null otherwise.
  const float* residual;
};

struct BGemmKernels {
  const char* name;  // "portable", "avx2", "avx512", "neon"
  int mr, nr;
  int b_word_bits;  // 64 or 32: the K word of the packed B layout
  void (*popcount_tile)(int taps, int words, const TBitpacked* const* rows,
                        const std::ptrdiff_t* tap_offsets, const std::uint64_t* b,
                        std::int32_t* acc);
  // Optional (null: not provided): popcount_tile for the first `rows` < MR rows only, so the
  // last tile of a small image (7x7 = 8 x 6 + 1 pixels) costs what its real pixels cost.
  void (*popcount_rows)(int rows, int taps, int words, const TBitpacked* const* a_rows,
                        const std::ptrdiff_t* tap_offsets, const std::uint64_t* b,
                        std::int32_t* acc);
  // conv = k - 2 * popcount - correction, then OutputStage's float / int8 numerics.
  void (*output_float)(const OutputTileArgs& args, const OutputStage& stage);
  void (*output_int8)(const OutputTileArgs& args, const OutputStage& stage);
  // Bit = popcount > thresholds[channel].
  void (*output_bits)(const OutputTileArgs& args, const OutputStage& stage);
  // output_float plus args.residual (not null) after the output clamp, then the residual clamp.
  // A separate entry, so output_float itself costs nothing more per tile.
  void (*output_float_residual)(const OutputTileArgs& args, const OutputStage& stage);
};

const BGemmKernels* BGemmKernelsPortable();
const BGemmKernels* BGemmKernelsAvx2();
const BGemmKernels* BGemmKernelsAvx512();
const BGemmKernels* BGemmKernelsNeon();

// The kernels of `variant`; kAuto means LARQ_COMPUTE_KERNEL if set, else the best this CPU and
// build support. Returns null and sets *error when the variant is unknown, not built, or not
// supported by this CPU.
const BGemmKernels* SelectBGemmKernels(IsaVariant variant, std::string* error);

// Replaces kAuto by the variant SelectBGemmKernels picks for it now (LARQ_COMPUTE_KERNEL or the
// CPU's best), so an op checks a forced variant once at model load and every kernel object it
// builds later uses the same one. False with *error set as SelectBGemmKernels.
bool ResolveBGemmVariant(IsaVariant* variant, std::string* error);

// Names of the variants that are built into this library and run on this CPU, best last (a
// subset of AvailableIsaVariants(), which lists what the CPU supports).
std::vector<std::string> UsableIsaVariants();

// "portable" -> kPortable etc. ("auto" -> kAuto); false for an unknown name.
bool ParseIsaVariant(const std::string& name, IsaVariant* variant);
const char* IsaVariantName(IsaVariant variant);

}  // namespace lc
