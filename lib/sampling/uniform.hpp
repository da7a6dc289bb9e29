// The one uniform draw every seeded random choice in breadth is made of.
#pragma once

#include <torch/types.h>

namespace breadth::sampling {

/// One U[0, 1) double from `gen`, which must be a CPU generator (make_generator); locks it while
/// drawing. draw() takes one per row for its inverse-CDF draw and BACO one per row per step for its
/// routing u: the same function, so a seed means the same stream of uniforms wherever it is read.
/// Throws InvalidArgument for an undefined or non-CPU generator.
double next_uniform(torch::Generator& gen);

}  // namespace breadth::sampling
