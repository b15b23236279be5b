#include "runtime/core/bgemm_driver.h"

namespace lc {

PackedColumns PackedColumns::Pack(const TBitpacked* filter, int channels_out, int groups,
                                  int taps, int words, int nr) {
  PackedColumns p;
  p.taps = taps;
  p.words = words;
  p.nr = nr;
  const int w64 = (words + 1) / 2;
  const std::size_t block_size = static_cast<std::size_t>(taps) * w64 * nr;
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
            dst[(static_cast<std::size_t>(t) * w64 + w / 2) * nr + j] |= word << (32 * (w % 2));
          }
        }
      }
    }
  }
  return p;
}

}  // namespace lc
