// The small tensor functions a decoder step is made of. Pure (no state, no weights of their own) so
// that tests can check each on tiny tensors against hand-worked values.
#pragma once

#include <torch/types.h>

#include <utility>

#include "model/arch.hpp"

namespace breadth::model {

/// Rotary inverse frequencies [rotary_dim/2] (float32), with the spec's scaling applied exactly as
/// transformers' ROPE_INIT_FUNCTIONS compute them. `seq_len` (the longest position of a forward call
/// + 1) matters only for length-dependent types: dynamic grows its base beyond max_position, longrope
/// takes long_factor beyond original_max_position; 0 = the frequencies transformers starts with.
/// `head_dim` is the whole head; the spec's rotary_dim (0 = head_dim) says how much of it rotates.
torch::Tensor rope_inv_freq(const RopeSpec& spec, int64_t head_dim, torch::Device device,
                            int64_t seq_len = 0);

/// cos and sin for `positions` ([B, T] int64), shaped [B, 1, T, head_dim] in `dtype` (half-split
/// layout: the frequencies repeat once, as in transformers' rotate_half convention).
/// `attention_factor` multiplies both in float32 before the cast (yarn, longrope).
std::pair<torch::Tensor, torch::Tensor> rope_cos_sin(const torch::Tensor& positions,
                                                     const torch::Tensor& inv_freq,
                                                     torch::ScalarType dtype,
                                                     double attention_factor = 1.0);

/// x * cos + rotate_half(x) * sin for x [B, H, T, D]. When cos is narrower than x (partial rotary,
/// Phi-3's partial_rotary_factor) only the first cos.size(-1) dimensions rotate; the rest pass.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

/// RMS normalization over the last dimension, computed in float32. `weight_in_f32` multiplies the
/// weight before casting back (OLMo-2, Gemma) instead of after (Llama, Qwen, Mistral).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps,
                       bool weight_in_f32);

/// Position of every new token: a row continues from its `lengths` and only real tokens advance it.
/// Padding entries get the position of the last real token before them (clamped at 0); they are
/// never attended to, so the value only has to be valid.
torch::Tensor token_positions(const torch::Tensor& lengths, const torch::Tensor& valid);

/// Which cached columns each new token attends to: [B, 1, T, C+T] bool (true = attend).
/// Column j is visible to new token t (at column C+t) when j <= C+t, the column holds a real token,
/// and, with window > 0, query_pos - key_pos < window. A token always sees its own column so that
/// padding rows never have an empty softmax.
torch::Tensor attention_mask(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                             const torch::Tensor& query_pos, int64_t past_columns, int64_t window);
/// The same with the first new column given on the device ([1] int64; the fixed-shape step's cursor)
/// over all of key_valid's columns (the cache's capacity), so that nothing depends on a host count.
torch::Tensor attention_mask_at(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                                const torch::Tensor& query_pos, const torch::Tensor& first_column,
                                int64_t window);

/// Index of each row's last real token among `valid` ([B, T] bool) -> [B] int64; T-1 for a row
/// with none.
torch::Tensor last_valid_index(const torch::Tensor& valid);

/// tanh soft-capping: cap * tanh(x / cap).
torch::Tensor softcap(const torch::Tensor& x, double cap);

}  // namespace breadth::model
