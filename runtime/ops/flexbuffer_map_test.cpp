// The flexbuffer option reader on bytes written by the flatbuffers library (Python flexbuffers).
#include "runtime/ops/flexbuffer_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace lc::ops {
namespace {

// flexbuffers.Dumps({'channels_in': 64, 'padding': 1, 'stride_height': 300, 'neg': -5,
//                    'big': 70000})
const std::vector<std::uint8_t> kIntMap = {
    99, 104, 97, 110, 110, 101, 108, 115, 95, 105, 110, 0, 112, 97, 100, 100, 105, 110, 103,
    0, 115, 116, 114, 105, 100, 101, 95, 104, 101, 105, 103, 104, 116, 0, 110, 101, 103, 0,
    98, 105, 103, 0, 5, 5, 44, 11, 34, 27, 5, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 112, 17, 1,
    0, 64, 0, 0, 0, 251, 255, 255, 255, 1, 0, 0, 0, 44, 1, 0, 0, 6, 6, 6, 6, 6, 25, 38, 1};
// flexbuffers.Dumps({'f': 1.5, 'ok': 2})
const std::vector<std::uint8_t> kMixedMap = {102, 0, 111, 107, 0, 2, 6, 5, 2, 0, 0, 0, 1, 0, 0,
                                             0, 2, 0, 0, 0, 0, 0, 192, 63, 2, 0, 0, 0, 14, 6,
                                             10, 38, 1};
// flexbuffers.Dumps([1, 2, 3])
const std::vector<std::uint8_t> kVector = {3, 1, 2, 3, 4, 4, 4, 6, 40, 1};

TEST(FlexbufferMap, ReadsIntegersOfEveryWidthAndSign) {
  FlexbufferMap map;
  std::string error;
  ASSERT_TRUE(map.Parse(kIntMap.data(), kIntMap.size(), &error)) << error;
  std::int64_t v = 0;
  ASSERT_TRUE(map.GetInt("channels_in", &v, &error));
  EXPECT_EQ(v, 64);
  ASSERT_TRUE(map.GetInt("stride_height", &v, &error));
  EXPECT_EQ(v, 300);
  ASSERT_TRUE(map.GetInt("neg", &v, &error));
  EXPECT_EQ(v, -5);
  ASSERT_TRUE(map.GetInt("big", &v, &error));
  EXPECT_EQ(v, 70000);
  EXPECT_FALSE(map.GetInt("dilation_width_factor", &v, &error));
  EXPECT_NE(error.find("lack the key 'dilation_width_factor'"), std::string::npos);
}

TEST(FlexbufferMap, NonIntegerValueIsNamed) {
  FlexbufferMap map;
  std::string error;
  ASSERT_TRUE(map.Parse(kMixedMap.data(), kMixedMap.size(), &error)) << error;
  std::int64_t v = 0;
  EXPECT_TRUE(map.GetInt("ok", &v, &error));
  EXPECT_EQ(v, 2);
  EXPECT_FALSE(map.GetInt("f", &v, &error));
  EXPECT_NE(error.find("'f' is not an integer"), std::string::npos);
}

TEST(FlexbufferMap, RejectsNonMapsAndEveryTruncationWithoutReadingOutOfBounds) {
  FlexbufferMap map;
  std::string error;
  EXPECT_FALSE(map.Parse(kVector.data(), kVector.size(), &error));
  EXPECT_NE(error.find("not a map"), std::string::npos);
  for (std::size_t keep = 0; keep < kIntMap.size(); ++keep) {
    // A copy of exactly `keep` bytes, so a read past the end is caught by sanitizers.
    std::vector<std::uint8_t> prefix(kIntMap.begin(), kIntMap.begin() + keep);
    map.Parse(prefix.data(), prefix.size(), &error);
  }
  for (std::size_t i = 0; i < kIntMap.size(); ++i) {
    for (int value : {0, 1, 0x7f, 0xff}) {
      std::vector<std::uint8_t> mutated = kIntMap;
      mutated[i] = static_cast<std::uint8_t>(value);
      map.Parse(mutated.data(), mutated.size(), &error);
    }
  }
}

}  // namespace
}  // namespace lc::ops
