#include "runtime/ops/flexbuffer_map.h"

#include <cstring>

namespace lc::ops {
namespace {

// Flexbuffer value types used here (flexbuffers.h's Type enum).
enum FlexType : int {
  kNull = 0,
  kInt = 1,
  kUInt = 2,
  kFloat = 3,
  kKey = 4,
  kIndirectInt = 6,
  kIndirectUInt = 7,
  kMap = 9,
  kVector = 10,
  kBool = 26,
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool InRange(std::size_t offset, std::size_t bytes) const {
    return offset <= size_ && bytes <= size_ - offset;
  }

  // Unsigned little-endian integer of `width` bytes (1, 2, 4 or 8) at `offset`.
  bool ReadUInt(std::size_t offset, int width, std::uint64_t* out) const {
    if (!InRange(offset, width)) return false;
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | data_[offset + i];
    *out = v;
    return true;
  }

  bool ReadInt(std::size_t offset, int width, std::int64_t* out) const {
    std::uint64_t u = 0;
    if (!ReadUInt(offset, width, &u)) return false;
    if (width < 8) {
      const std::uint64_t sign = std::uint64_t{1} << (width * 8 - 1);
      u = (u ^ sign) - sign;  // sign-extend
    }
    *out = static_cast<std::int64_t>(u);
    return true;
  }

  // Follows an offset stored at `offset` (relative, pointing backwards).
  bool Indirect(std::size_t offset, int width, std::size_t* target) const {
    std::uint64_t delta = 0;
    if (!ReadUInt(offset, width, &delta) || delta > offset) return false;
    *target = offset - static_cast<std::size_t>(delta);
    return true;
  }

  bool ReadKey(std::size_t offset, std::string* key) const {
    if (offset >= size_) return false;
    const void* end = std::memchr(data_ + offset, 0, size_ - offset);
    if (!end) return false;
    key->assign(reinterpret_cast<const char*>(data_ + offset),
                static_cast<const std::uint8_t*>(end) - (data_ + offset));
    return true;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

bool ValidWidth(std::uint64_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

}  // namespace

bool FlexbufferMap::Parse(const std::uint8_t* data, std::size_t size, std::string* error) {
  entries_.clear();
  const std::string bad = "malformed flexbuffer custom options: ";
  if (!data || size < 3) {
    *error = bad + "too short (" + std::to_string(size) + " bytes)";
    return false;
  }
  Reader r(data, size);
  const int root_width = data[size - 1];
  const int root_packed = data[size - 2];
  if (!ValidWidth(root_width) || size < 2u + root_width) {
    *error = bad + "invalid root width";
    return false;
  }
  if ((root_packed >> 2) != kMap) {
    *error = bad + "root is not a map (type " + std::to_string(root_packed >> 2) + ")";
    return false;
  }
  const std::size_t root_at = size - 2 - root_width;
  std::size_t values = 0;
  if (!r.Indirect(root_at, root_width, &values)) {
    *error = bad + "root offset out of range";
    return false;
  }
  // A map's values vector is preceded by: keys offset, keys byte width, element count.
  const int width = 1 << (root_packed & 3);
  std::uint64_t count = 0, keys_width = 0;
  std::size_t keys_field = 0, keys = 0;
  if (values < 3u * width || !r.ReadUInt(values - width, width, &count) ||
      !r.ReadUInt(values - 2 * width, width, &keys_width) || !ValidWidth(keys_width) ||
      !(keys_field = values - 3 * width, r.Indirect(keys_field, width, &keys))) {
    *error = bad + "map header out of range";
    return false;
  }
  std::uint64_t key_count = 0;
  if (keys < keys_width || !r.ReadUInt(keys - keys_width, static_cast<int>(keys_width), &key_count) ||
      key_count != count || count > size || !r.InRange(values, count * (width + 1)) ||
      !r.InRange(keys, count * keys_width)) {
    *error = bad + "map of " + std::to_string(count) + " entries does not fit";
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t key_at = 0;
    std::string key;
    if (!r.Indirect(keys + i * keys_width, static_cast<int>(keys_width), &key_at) ||
        !r.ReadKey(key_at, &key)) {
      *error = bad + "key " + std::to_string(i) + " out of range";
      return false;
    }
    const std::size_t value_at = values + i * width;
    const int packed = data[values + count * width + i];
    const int type = packed >> 2;
    Entry entry;
    switch (type) {
      case kInt:
      case kBool:
        entry.is_integer = r.ReadInt(value_at, width, &entry.value);
        break;
      case kUInt: {
        std::uint64_t u = 0;
        entry.is_integer = r.ReadUInt(value_at, width, &u) && u <= INT64_MAX;
        entry.value = static_cast<std::int64_t>(u);
        break;
      }
      case kIndirectInt:
      case kIndirectUInt: {
        std::size_t target = 0;
        const int value_width = 1 << (packed & 3);
        entry.is_integer = r.Indirect(value_at, width, &target) &&
                           r.ReadInt(target, value_width, &entry.value);
        break;
      }
      default:
        break;  // present, but not an integer
    }
    entries_[key] = entry;
  }
  return true;
}

bool FlexbufferMap::GetInt(const std::string& key, std::int64_t* value, std::string* error) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    *error = "custom options lack the key '" + key + "'";
    return false;
  }
  if (!it->second.is_integer) {
    *error = "custom option '" + key + "' is not an integer";
    return false;
  }
  *value = it->second.value;
  return true;
}

}  // namespace lc::ops
