// How BACO derives its generators from the request's seed.
#pragma once

#include <cstdint>
#include <vector>

namespace breadth::baco {

// A prompt's samples mix breadth::prompt_key (sampler.hpp) into the seed, exactly as the Sampler does,
// so that aligned-only BACO reproduces the Sampler's draws.
/// The base model's request seed when BacoOptions::base_seed is not set.
uint64_t default_base_seed(uint64_t seed);
/// The routing generator's request seed (rand's u).
uint64_t route_seed(uint64_t seed);

}  // namespace breadth::baco
