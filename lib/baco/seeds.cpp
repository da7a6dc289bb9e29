#include "baco/seeds.hpp"

namespace breadth::baco {

uint64_t prompt_key(const std::vector<int32_t>& ids) {
  // FNV-1a over the ids' 4-byte little-endian images.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int32_t id : ids) {
    auto u = static_cast<uint32_t>(id);
    for (int k = 0; k < 4; ++k) {
      h ^= (u >> (8 * k)) & 0xFF;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

uint64_t default_base_seed(uint64_t seed) { return seed ^ 0xBA5E0000BA5E0001ULL; }
uint64_t route_seed(uint64_t seed) { return seed ^ 0x0C0FFEE00C0FFEE1ULL; }

}  // namespace breadth::baco
