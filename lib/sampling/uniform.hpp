// The one uniform draw every seeded random choice in breadth is made of.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace breadth {
class Sampler;
}

namespace breadth::sampling {

/// One U[0, 1) double from `gen`, which must be a CPU generator (make_generator); locks it while
/// drawing. draw() takes one per row for its inverse-CDF draw and BACO one per row per step for its
/// routing u: the same function, so a seed means the same stream of uniforms wherever it is read.
/// Throws InvalidArgument for an undefined or non-CPU generator.
double next_uniform(torch::Generator& gen);

/// The next `k` uniforms next_uniform would give, without advancing `gen` (a draw made ahead of
/// knowing whether it is needed; the caller advances the generator by what it used).
std::vector<double> peek_uniforms(torch::Generator gen, int64_t k);

/// The inverse-CDF draw of draw() with given uniforms: u [B] (any floating type, on the logits'
/// device) -> ids [B] int64, -1 for a row without a valid distribution.
torch::Tensor draw_at(const torch::Tensor& logits, const torch::Tensor& u);

/// Sampler::sample with given uniforms (ignored when the sampler is greedy).
torch::Tensor sample_at(const Sampler& sampler, const torch::Tensor& logits, const torch::Tensor& u);

/// A host tensor on `device` without waiting for the device (pinned, non-blocking); itself on the CPU.
torch::Tensor to_device(const torch::Tensor& host, torch::Device device);

/// `t` on `device`, moved only when it is elsewhere: a tensor already there is returned as it is, so
/// that a run on one device makes no aten::to call (tests/common/host_syncs.hpp counts every one).
torch::Tensor on_device(const torch::Tensor& t, torch::Device device);

}  // namespace breadth::sampling
