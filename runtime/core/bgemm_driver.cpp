#include "runtime/core/bgemm_driver.h"

namespace lc {

PackedColumns PackedColumns::Pack(const TBitpacked* filter, int channels_out, int groups,
                                  int taps, int words, const BGemmKernels& kernels) {
  PackedColumns p;
  p.taps = taps;
  p.words = words;
  const int nr = kernels.nr;
  // K words per tap and the 32-bit half a filter word lands in (bgemm.h).
  const bool wide = kernels.b_word_bits == 64;
  const int k_words = wide ? (words + 1) / 2 : words;
  const std::size_t block_words = static_cast<std::size_t>(taps) * k_words * nr;  // K words
  const std::size_t block_size = wide ? block_words : block_words / 2;          // uint64s
  const int group_out = channels_out / groups;
  for (int g = 0; g < groups; ++g) {
    for (int c0 = g * group_out; c0 < (g + 1) * group_out; c0 += nr) {
      const int n = std::min(nr, (g + 1) * group_out - c0);
      p.blocks.push_back({c0, n, static_cast<std::ptrdiff_t>(g) * words, p.b.size()});
      p.b.resize(p.b.size() + block_size, 0);
      std::uint64_t* dst = p.b.data() + p.blocks.back().b_offset;
      for (int j = 0; j < n; ++j) {
        const TBitpacked* src = filter + static_cast<std::size_t>(c0 + j) * taps * words;
        for (int t = 0; t < taps; ++t) {
          for (int w = 0; w < words; ++w) {
            const std::uint64_t word = static_cast<std::uint32_t>(src[t * words + w]);
            // Index of the 32-bit half: a 64-bit K word holds two filter words; a 32-bit K
            // word is one half of a uint64 of the storage (little-endian order).
            const std::size_t half =
                wide ? ((static_cast<std::size_t>(t) * k_words + w / 2) * nr + j) * 2 + w % 2
                     : (static_cast<std::size_t>(t) * k_words + w) * nr + j;
            dst[half / 2] |= word << (32 * (half % 2));
          }
        }
      }
    }
  }
  return p;
}

}  // namespace lc
