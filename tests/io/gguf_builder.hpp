// Writes GGUF bytes by hand, field by field, so tests can build exactly the (corrupt) files they need.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace breadth::test {

struct GgufBuilder {
  std::vector<uint8_t> bytes;

  template <typename T>
  GgufBuilder& put(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes.insert(bytes.end(), b, b + sizeof(T));
    return *this;
  }
  GgufBuilder& u8(uint8_t v) { return put(v); }
  GgufBuilder& u32(uint32_t v) { return put(v); }
  GgufBuilder& u64(uint64_t v) { return put(v); }
  GgufBuilder& i64(int64_t v) { return put(v); }
  GgufBuilder& raw(const std::string& s) {
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBuilder& str(const std::string& s) { return u64(s.size()).raw(s); }
  GgufBuilder& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  /// A key/value entry of a uint32 value (type 4).
  GgufBuilder& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  /// A tensor description.
  GgufBuilder& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (auto n : ne) i64(n);
    return u32(type).u64(offset);
  }
  /// Zero padding up to a multiple of `alignment`, then `n` data bytes of value `fill`.
  GgufBuilder& data(uint64_t alignment, size_t n, uint8_t fill = 0) {
    while (bytes.size() % alignment) bytes.push_back(0);
    bytes.insert(bytes.end(), n, fill);
    return *this;
  }
};

}  // namespace breadth::test
