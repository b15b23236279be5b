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
  int taps = 0, words = 0;
  std::vector<Block> blocks;
  std::vector<std::uint64_t> b;

  // filter: [channels_out, taps, words] bit-packed (OHWI with H*W = taps), in the B layout of
  // `kernels` (bgemm.h). Group g reads input words [g * words, (g + 1) * words).
  static PackedColumns Pack(const TBitpacked* filter, int channels_out, int groups, int taps,
                            int words, const BGemmKernels& kernels);
};

// Runs the GEMM over `pixels` output rows; segment t of a pixel starts tap_offsets[t] words after
// its row pointer.
//   fill(pixel0, count, rows, corrections): writes rows[m] (the pixel's A row, bgemm.h) and
//   corrections[m] (its zero-padding correction row indexed by output channel, or null) for
//   m < count.
// Output: float/int8 [pixels, channels_out], or bit-packed [pixels, PackedSize(channels_out)].
// `residual` (float output only, else null): [pixels, channels_out] added to the float output.
template <typename Fill>
void RunBGemm(const BGemmKernels& kernels, const PackedColumns& columns,
              const std::ptrdiff_t* tap_offsets, const OutputStage& stage, int k,
              int channels_out, std::int64_t pixels, void* output, const float* residual,
              ThreadPool* pool, const Fill& fill) {
  const int mr = kernels.mr;
  const std::int64_t tiles = (pixels + mr - 1) / mr;
  const std::int64_t blocks = static_cast<std::int64_t>(columns.blocks.size());
  const int out_words = PackedSize(channels_out);
  const int threads = pool ? pool->NumThreads() : 1;
  // Split by pixel tiles when there are enough (each thread then reuses its A pointers across
  // blocks, and bit-packed words are never shared); otherwise by channel blocks too.
  const bool split_pixels_only = stage.type == OutputType::kBitpacked || tiles >= 4 * threads;
  const std::int64_t grain = split_pixels_only ? blocks : 1;

  ParallelFor(pool, tiles * blocks, grain, [&](std::int64_t begin, std::int64_t end, int) {
    const TBitpacked* rows[kMaxTileRows];
    const TBitpacked* block_rows[kMaxTileRows];
    const std::int32_t* corrections[kMaxTileRows];
    alignas(64) std::int32_t acc[kMaxTileRows * kMaxTileChannels];
    std::int64_t filled_tile = -1;
    // (tile, block) of `index`, advanced without divisions.
    std::int64_t tile = begin / blocks, block_index = begin % blocks;
    for (std::int64_t index = begin; index < end; ++index) {
      const PackedColumns::Block& block = columns.blocks[block_index];
      const std::int64_t pixel0 = tile * mr;
      const int count = static_cast<int>(std::min<std::int64_t>(mr, pixels - pixel0));
      if (filled_tile != tile) {
        fill(pixel0, count, rows, corrections);
        for (int m = count; m < mr; ++m) rows[m] = rows[count - 1];
        filled_tile = tile;
      }
      // Grouped convs: the block's group starts a_offset words into each pixel. (Copied only
      // then: re-reading just-written pointers as vectors would stall on store forwarding.)
      const TBitpacked* const* call_rows = rows;
      if (block.a_offset != 0) {
        for (int m = 0; m < mr; ++m) block_rows[m] = rows[m] + block.a_offset;
        call_rows = block_rows;
      }
      const std::uint64_t* b = columns.b.data() + block.b_offset;
      if (count < mr && kernels.popcount_rows != nullptr) {
        kernels.popcount_rows(count, columns.taps, columns.words, call_rows, tap_offsets, b, acc);
      } else {
        kernels.popcount_tile(columns.taps, columns.words, call_rows, tap_offsets, b, acc);
      }
      OutputTileArgs args = {acc, count, k, block.c0, block.n, corrections, nullptr, channels_out, nullptr};
      switch (stage.type) {
        case OutputType::kFloat:
          args.out = static_cast<float*>(output) + pixel0 * channels_out + block.c0;
          if (residual != nullptr) {
            args.residual = residual + pixel0 * channels_out + block.c0;
            kernels.output_float_residual(args, stage);
          } else {
            kernels.output_float(args, stage);
          }
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
