// The switches that distinguish one decoder family from another, read from a checkpoint's
// config.json (or GGUF metadata). One decoder implementation (decoder.cpp) runs every family; this is
// the only place that knows which family needs which switch.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "breadth/model.hpp"

namespace breadth::model {

/// Rotary embedding parameters (HF `rope_parameters` / legacy `rope_theta` + `rope_scaling`).
/// Frequencies are computed as transformers' ROPE_INIT_FUNCTIONS do (lib/model/ops.cpp).
struct RopeSpec {
  /// "default", "linear", "llama3", "yarn", "dynamic" or "longrope"
  std::string type = "default";
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;   ///< llama3
  double high_freq_factor = 4.0;  ///< llama3
  /// llama3 / yarn / longrope: the pre-training context (top-level
  /// `original_max_position_embeddings` first, as transformers' standardization does).
  int64_t original_max_position = 0;
  /// dynamic: `max_position_embeddings`, beyond which the base grows with the sequence.
  int64_t max_position = 0;
  /// cos/sin multiplier (yarn's mscale, longrope's sqrt(1 + ln s / ln L)); 1 = none.
  double attention_factor = 1.0;
  double beta_fast = 32.0, beta_slow = 1.0;  ///< yarn
  bool truncate = true;                      ///< yarn: floor/ceil the correction range
  std::vector<double> long_factor, short_factor;  ///< longrope, one per frequency
  double partial_rotary_factor = 1.0;
  /// Rotated dimensions per head, int(head_dim x partial_rotary_factor) (set by finalize_arch).
  int64_t rotary_dim = 0;
  /// The frequencies depend on the longest position of each forward call (dynamic, longrope).
  bool length_dependent() const { return type == "dynamic" || type == "longrope"; }
  /// Per-frequency divisors stored by llama.cpp (`rope_freqs.weight`, e.g. Llama-3.1's scaling
  /// precomputed); empty = none.
  std::vector<float> freq_factors;
};

enum class QkNorm { kNone, kPerHead, kFull };  // Qwen3/Gemma3: per head; OLMo-2: whole projection
enum class Activation { kSilu, kGeluTanh };

struct ArchConfig {
  ModelConfig pub;

  // Norms around the two sub-blocks, by their Hugging Face tensor names ("" = absent).
  // Llama: attn_in = input_layernorm, ff_in = post_attention_layernorm. OLMo-2 normalizes outputs
  // instead (post-norm); Gemma-2/3 have all four ("sandwich").
  std::string norm_attn_in = "input_layernorm";
  std::string norm_attn_out;
  std::string norm_ff_in = "post_attention_layernorm";
  std::string norm_ff_out;
  /// Llama multiplies the weight after casting back to the model dtype; OLMo-2 and Gemma before.
  bool norm_weight_in_f32 = false;
  /// Gemma stores w and applies (1 + w).
  bool norm_add_one = false;

  QkNorm qk_norm = QkNorm::kNone;
  bool qkv_bias = false;  ///< q/k/v projections have biases (Qwen2, attention_bias)
  bool o_bias = false;
  bool mlp_bias = false;
  Activation activation = Activation::kSilu;

  double embed_scale = 0.0;    ///< Gemma multiplies embeddings by sqrt(hidden); 0 = no scaling
  double attn_scale = 0.0;     ///< softmax scale (head_dim^-0.5 unless the family says otherwise)
  double attn_softcap = 0.0;   ///< Gemma-2 tanh soft-capping of attention scores; 0 = none
  double final_softcap = 0.0;  ///< Gemma-2 soft-capping of the logits; 0 = none

  int64_t sliding_window = 0;        ///< 0 = full attention everywhere
  std::vector<bool> layer_sliding;   ///< per layer: uses the sliding window (and the local rope)
  RopeSpec rope;                     ///< global (full-attention) layers
  RopeSpec rope_local;               ///< sliding layers (Gemma-3 has its own base there)

  /// Phi-3 stores q/k/v as one `qkv_proj` and gate/up as one `gate_up_proj`.
  bool fused_qkv = false;
  bool fused_gate_up = false;
  /// The text tower of a multimodal checkpoint (Gemma3ForConditionalGeneration): tensors under
  /// `model.language_model.` or `language_model.model.`; ids equal to image_token_id are refused.
  bool text_tower = false;
  int64_t image_token_id = -1;
  /// The base model only (an embedder's Qwen2Model/LlamaModel): no lm_head/score is loaded and
  /// forward() returns only `hidden` (logits undefined). Set by the encoder component.
  bool no_head = false;

  bool classifier() const { return pub.num_labels > 0; }
};

/// Architectures CausalLM::load accepts (config.json `architectures[0]`).
const std::vector<std::string>& supported_architectures();

/// Parses a Hugging Face config.json. `where` names the file in error messages.
/// Throws Unsupported (unknown architecture, rope type) or FormatError (missing/invalid field).
ArchConfig parse_hf_config(const nlohmann::json& config, const std::string& where);

/// Fills the defaults that depend on other fields (head_dim, scales, layer kinds) and checks
/// consistency; shared by the HF and GGUF paths.
void finalize_arch(ArchConfig& arch, const std::string& where);

}  // namespace breadth::model
