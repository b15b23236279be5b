// Shared vocabulary of the binary kernels. See docs/op-format.md for the bit-packing contract.
#pragma once

#include <cstdint>

namespace lc {

// One word of a bit-packed tensor: 32 channels, channel i in bit i, bit 1 = -1, bit 0 = +1.
using TBitpacked = std::int32_t;
constexpr int kBitsPerWord = 32;

constexpr int PackedSize(int channels) { return (channels + kBitsPerWord - 1) / kBitsPerWord; }

// TFLite's Padding enum order, as stored in the ops' custom options.
enum class Padding : int { kSame = 0, kValid = 1 };

// TFLite's fused activation enum values used by the ops' custom options.
enum class Activation : int { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };

enum class OutputType : int { kFloat = 0, kInt8 = 1, kBitpacked = 2 };

// Kernel ISA variant. kAuto picks the best the CPU supports; the environment variable
// LARQ_COMPUTE_KERNEL=portable|avx2|avx512|neon overrides kAuto (tests and benchmarks use it).
// Forcing a variant the CPU or build lacks is an error, never a silent fallback.
enum class IsaVariant : int { kAuto = 0, kPortable = 1, kAvx2 = 2, kAvx512 = 3, kNeon = 4 };

}  // namespace lc
