// The ISA-independent part of BConv2D and BFullyConnected: filter packing into the BGemmKernels
// layout and the tile loop that feeds the micro-kernel and the output stage, threaded over
// (pixel tile, channel block) pairs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/core/bgemm.h"
#include "runtime/core/output_transform.h"
#include "runtime/core/thread_pool.h"

namespace lc {

// The right operand in the layout of bgemm.h: blocks of up to NR channels; a block never spans
// two groups.
struct PackedColumns {
  struct Block {
    int c0, n;                   // output channels [c0, c0 + n)
    std::ptrdiff_t a_offset;     // word offset of the block's group inside an input pixel
    std::size_t b_offset;        // start of the block in `b`
  };
  int taps = 0, words = 0, nr = 0;
  std::vector<Block> blocks;
  std::vector<std::uint64_t> b;

  // filter: [channels_out, taps, words] bit-packed (OHWI with H*W = taps). Group g reads input
  // words [g * words, (g + 1) * words).
  static PackedColumns Pack(const TBitpacked* filter, int channels_out, int groups, int taps,
                            int words, int nr);
};

// Taps per micro-kernel call: the A pointers of a tile live on the stack.
constexpr int kMaxTapsPerCall = 64;

// Runs the GEMM over `pixels` output rows.
//   fill(pixel0, count, tap_begin, tap_count, a, corrections): writes a[t * MR + m] for
//   m < count, t < tap_count, and corrections[m]: the pixel's zero-padding correction row indexed
//   by output channel, or null.
// Output: float/int8 [pixels, channels_out], or bit-packed [pixels, PackedSize(channels_out)].
template <typename Fill>
void RunBGemm(const BGemmKernels& kernels, const PackedColumns& columns, const OutputStage& stage,
              int k, int channels_out, std::int64_t pixels, void* output, ThreadPool* pool,
              const Fill& fill) {
  const int mr = kernels.mr, nr = kernels.nr;
  const std::int64_t tiles = (pixels + mr - 1) / mr;
  const std::int64_t blocks = static_cast<std::int64_t>(columns.blocks.size());
  const int w64 = (columns.words + 1) / 2;
  const int out_words = PackedSize(channels_out);
  const bool single_call = columns.taps <= kMaxTapsPerCall;
  const int threads = pool ? pool->NumThreads() : 1;
  // Split by pixel tiles when there are enough (each thread then reuses its A pointers across
  // blocks, and bit-packed words are never shared); otherwise by channel blocks too.
  const bool split_pixels_only = stage.type == OutputType::kBitpacked || tiles >= 4 * threads;
  const std::int64_t grain = split_pixels_only ? blocks : 1;

  ParallelFor(pool, tiles * blocks, grain, [&](std::int64_t begin, std::int64_t end, int) {
    const TBitpacked* a[kMaxTapsPerCall * kMaxTileRows];
    const std::int32_t* corrections[kMaxTileRows];
    alignas(64) std::int32_t acc[kMaxTileRows * kMaxTileChannels];
    std::int64_t filled_tile = -1;
    // (tile, block) of `index`, advanced without divisions.
    std::int64_t tile = begin / blocks, block_index = begin % blocks;
    for (std::int64_t index = begin; index < end; ++index) {
      const PackedColumns::Block& block = columns.blocks[block_index];
      const std::int64_t pixel0 = tile * mr;
      const int count = static_cast<int>(std::min<std::int64_t>(mr, pixels - pixel0));
      for (int tap0 = 0; tap0 < columns.taps; tap0 += kMaxTapsPerCall) {
        const int tap_count = std::min(kMaxTapsPerCall, columns.taps - tap0);
        if (!single_call || filled_tile != tile) {
          fill(pixel0, count, tap0, tap_count, a, corrections);
          for (int t = 0; t < tap_count; ++t) {
            for (int m = count; m < mr; ++m) a[t * mr + m] = a[t * mr + count - 1];
          }
          filled_tile = tile;
        }
        kernels.popcount_tile(tap_count, columns.words, a, block.a_offset,
                              columns.b.data() + block.b_offset +
                                  static_cast<std::size_t>(tap0) * w64 * nr,
                              acc, tap0 > 0);
      }
      OutputTileArgs args = {acc, count, k, block.c0, block.n, corrections, nullptr, channels_out};
      switch (stage.type) {
        case OutputType::kFloat:
          args.out = static_cast<float*>(output) + pixel0 * channels_out + block.c0;
          kernels.output_float(args, stage);
          break;
        case OutputType::kInt8:
          args.out = static_cast<std::int8_t*>(output) + pixel0 * channels_out + block.c0;
          kernels.output_int8(args, stage);
          break;
        case OutputType::kBitpacked: {
          std::uint32_t bits[kMaxTileRows][kMaxTileChannels / kBitsPerWord];
          args.out = bits;
          args.out_stride = kMaxTileChannels / kBitsPerWord;
          kernels.output_bits(args, stage);
          // Blocks of a pixel come in channel order on one thread. A word-aligned part is
          // stored; a block starting mid-word (grouped convs, NR < 32) ORs into the word its
          // predecessor stored and stores the word it spills into. No read-modify-write of
          // words just written by other code (that would stall on store forwarding).
          const int shift = block.c0 % kBitsPerWord;
          for (int m = 0; m < count; ++m) {
            auto* words = reinterpret_cast<std::uint32_t*>(output) + (pixel0 + m) * out_words +
                          block.c0 / kBitsPerWord;
            for (int w = 0; w * kBitsPerWord < block.n; ++w) {
              const int chunk = std::min(kBitsPerWord, block.n - w * kBitsPerWord);
              const std::uint64_t shifted = static_cast<std::uint64_t>(bits[m][w]) << shift;
              if (shift == 0) {
                words[w] = static_cast<std::uint32_t>(shifted);
              } else {
                words[w] |= static_cast<std::uint32_t>(shifted);
              }
              if (shift + chunk > kBitsPerWord) words[w + 1] = static_cast<std::uint32_t>(shifted >> kBitsPerWord);
            }
          }
          break;
        }
      }
      if (++block_index == blocks) {
        block_index = 0;
        ++tile;
      }
    }
  });
}

}  // namespace lc
