// DeBERTa-v2/v3's disentangled attention as small pure functions, so that each piece checks
// against hand-worked values on tiny tensors.
#pragma once

#include <torch/types.h>

namespace breadth::model {

/// transformers' make_log_bucket_position: relative distances within ±bucket_size/2 stay as they
/// are; larger ones are compressed logarithmically so that max_position maps to about bucket_size/2.
/// `relative` is int64; the result is int64 too.
torch::Tensor deberta_log_bucket_position(const torch::Tensor& relative, int64_t bucket_size,
                                          int64_t max_position);

/// Relative positions q - k for q in [0, query_len), k in [0, key_len), bucketed when both
/// bucket_size and max_position are > 0: [query_len, key_len] int64.
torch::Tensor deberta_relative_positions(int64_t query_len, int64_t key_len, int64_t bucket_size,
                                         int64_t max_position, torch::Device device);

/// The relative-position part of the attention scores (already divided by the scale), [B*H, T, T].
/// q, k: [B*H, T, D] content queries/keys; pos_q, pos_k: [H, 2*span, D] projected relative
/// embeddings (undefined when that term is off); relative: [T, T]; `scale` = sqrt(D * factor).
torch::Tensor deberta_disentangled_bias(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& pos_q,
                                        const torch::Tensor& pos_k, const torch::Tensor& relative, int64_t span,
                                        const torch::Tensor& scale, bool c2p, bool p2c);

}  // namespace breadth::model
