// Reader for the flexbuffer maps of integers that hold the custom ops' options.
// Bounds-checked: malformed bytes give an error, never an out-of-range read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace lc::ops {

class FlexbufferMap {
 public:
  // Parses `size` bytes whose root must be a map. Values that are integers or booleans are kept;
  // other value types are remembered as present-but-not-integer. Returns false and sets *error
  // on malformed input.
  bool Parse(const std::uint8_t* data, std::size_t size, std::string* error);

  bool Has(const std::string& key) const { return entries_.count(key) != 0; }

  // Sets *value from an integer entry. Missing key or non-integer value: false and *error.
  bool GetInt(const std::string& key, std::int64_t* value, std::string* error) const;

 private:
  struct Entry {
    bool is_integer = false;
    std::int64_t value = 0;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace lc::ops
