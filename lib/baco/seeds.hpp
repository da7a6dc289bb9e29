// How BACO derives its generators from the request's seed.
#pragma once

#include <cstdint>
#include <vector>

namespace breadth::baco {

/// The key generate() mixes into the seed for a prompt's samples (so that a prompt's samples are
/// the same alone or in any batch). Must equal the Sampler's for aligned-only reproduction.
uint64_t prompt_key(const std::vector<int32_t>& ids);
/// The base model's request seed when BacoOptions::base_seed is not set.
uint64_t default_base_seed(uint64_t seed);
/// The routing generator's request seed (rand's u).
uint64_t route_seed(uint64_t seed);

}  // namespace breadth::baco
