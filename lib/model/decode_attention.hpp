// Attention for one new token per row on the CPU (a decode step), over the KV cache as it lies.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "model/gemv.hpp"

namespace breadth::model {

/// out[b, h] = softmax_c(scale * q[b, h] . k[b, h / g, c]) v[b, h / g, c] over the columns c the
/// mask shows (g = query heads per key head), as SDPA computes it, in float32 whatever the inputs'
/// type; the caller rounds the result. q: [B, nq, 1, D]; k, v: [B, nkv, C, D] with contiguous rows
/// (the cache, or a narrow of it); mask: undefined (every column) or bool [B, 1, 1, C].
/// Returns [B, nq, 1, D] float32, or nothing where it does not apply (not the CPU, neither AVX-512F
/// nor AVX2, D not a multiple of 16 (of 8 with AVX2), another dtype or layout); the caller then
/// uses libtorch's SDPA. `isa`: as the gemv kernels' (gemv.hpp).
/// Why it exists: at one query row libtorch's CPU attention runs a small MKL GEMM per (row, head)
/// and, for bfloat16, needs float32 copies of the cache to be fast; this reads the cache once, as
/// it is, splitting the (row, key head) pairs over the intra-op threads.
std::optional<torch::Tensor> decode_attention(const torch::Tensor& q, const torch::Tensor& k,
                                              const torch::Tensor& v, const torch::Tensor& mask, double scale,
                                              CpuIsa isa = CpuIsa::kBest);

}  // namespace breadth::model
