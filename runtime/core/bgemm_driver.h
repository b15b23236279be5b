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
//   fill(pixel0, count, tap_begin, tap_count, a): writes a[t * MR + m] for m < count, t < tap_count.
//   correction(pixel): zero-padding correction row indexed by output channel, or null.
// Output: float/int8 [pixels, channels_out], or bit-packed [pixels, PackedSize(channels_out)].
template <typename Fill, typename Correction>
void RunBGemm(const BGemmKernels& kernels, const PackedColumns& columns, const OutputStage& stage,
              int k, int channels_out, std::int64_t pixels, void* output, ThreadPool* pool,
              const Fill& fill, const Correction& correction) {
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
    alignas(64) std::int32_t acc[kMaxTileRows * kMaxTileChannels];
    std::int64_t filled_tile = -1;
    for (std::int64_t index = begin; index < end; ++index) {
      const std::int64_t tile = index / blocks;
      const PackedColumns::Block& block = columns.blocks[index % blocks];
      const std::int64_t pixel0 = tile * mr;
      const int count = static_cast<int>(std::min<std::int64_t>(mr, pixels - pixel0));
      for (int tap0 = 0; tap0 < columns.taps; tap0 += kMaxTapsPerCall) {
        const int tap_count = std::min(kMaxTapsPerCall, columns.taps - tap0);
        if (!single_call || filled_tile != tile) {
          fill(pixel0, count, tap0, tap_count, a);
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
      for (int m = 0; m < count; ++m) {
        const std::int64_t pixel = pixel0 + m;
        const std::int32_t* correction_row = correction(pixel);
        const OutputRowArgs args = {k, block.c0, block.n,
                                    correction_row ? correction_row + block.c0 : nullptr};
        const std::int32_t* popcounts = acc + m * nr;
        switch (stage.type) {
          case OutputType::kFloat:
            kernels.output_float(popcounts, args, stage,
                                 static_cast<float*>(output) + pixel * channels_out + block.c0);
            break;
          case OutputType::kInt8:
            kernels.output_int8(popcounts, args, stage,
                                static_cast<std::int8_t*>(output) + pixel * channels_out + block.c0);
            break;
          case OutputType::kBitpacked: {
            auto* words = reinterpret_cast<std::uint32_t*>(output) + pixel * out_words;
            if (index % blocks == 0) std::fill(words, words + out_words, 0u);
            // A block may start mid-word (grouped convs, NR < 32) and spill into the next word.
            for (int n0 = 0; n0 < block.n; n0 += kBitsPerWord) {
              OutputRowArgs part = args;
              part.c0 += n0;
              part.n = std::min(kBitsPerWord, block.n - n0);
              const std::uint64_t bits =
                  static_cast<std::uint64_t>(kernels.output_bits(popcounts + n0, part, stage))
                  << (part.c0 % kBitsPerWord);
              words[part.c0 / kBitsPerWord] |= static_cast<std::uint32_t>(bits);
              if (bits >> kBitsPerWord) words[part.c0 / kBitsPerWord + 1] |= bits >> kBitsPerWord;
            }
            break;
          }
        }
      }
    }
  });
}

}  // namespace lc
