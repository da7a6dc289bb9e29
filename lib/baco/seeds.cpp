#include "baco/seeds.hpp"

namespace breadth::baco {

uint64_t default_base_seed(uint64_t seed) { return seed ^ 0xBA5E0000BA5E0001ULL; }
uint64_t route_seed(uint64_t seed) { return seed ^ 0x0C0FFEE00C0FFEE1ULL; }

}  // namespace breadth::baco
