// What distinguishes one encoder checkpoint from another, read from config.json and the
// sentence-transformers files beside it. The only place that knows which architecture name means
// which family and head.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "breadth/encoder.hpp"
#include "model/arch.hpp"

namespace breadth::model {

/// kDeberta is DeBERTa v1 (deberta-large-mnli): fused per-head in_proj with q/v biases, unbucketed
/// relative positions, its own pos_proj / pos_q_proj.
/// kDecoder: a decoder's base model used as a sentence embedder (Qwen2/Qwen3/Llama/Mistral, causal
/// attention, usually last-token pooling), run by the model component's decoder.
enum class EncoderFamily { kBert, kRoberta, kDebertaV2, kDeberta, kDecoder };

/// The head on top of the encoder.
enum class EncoderHead {
  kNone,          ///< *Model: hidden states only
  kBertPooler,    ///< BertForSequenceClassification: tanh pooler on [CLS], then classifier
  kRobertaHead,   ///< RobertaClassificationHead: dense + tanh on <s>, then out_proj
  kDebertaPooler, ///< DeBERTa's ContextPooler (dense + activation on [CLS]), then classifier
};

/// A sentence-transformers Dense module: out = activation(linear(x)) (+ x, or a projection of it,
/// with use_residual), applied to the pooled embedding.
struct DenseSpec {
  std::string dir;  ///< the module's folder (config.json, model.safetensors)
  int64_t in_features = 0, out_features = 0;
  bool bias = true;
  bool residual = false;
  std::string activation = "tanh";  ///< identity, tanh, relu, gelu, sigmoid, silu
};

/// One post-pooling step of modules.json, in order.
struct PostPoolStep {
  enum Kind { kDense, kNormalize } kind = kNormalize;
  size_t dense = 0;  ///< index into `dense` for kDense
};

struct SentenceTransformerModules {
  std::vector<DenseSpec> dense;
  std::vector<PostPoolStep> steps;
  int64_t max_seq_length = 0;
};

struct EncoderArch {
  EncoderConfig pub;
  model::ArchConfig decoder;  ///< kDecoder: the decoder's switches
  EncoderFamily family = EncoderFamily::kBert;
  EncoderHead head = EncoderHead::kNone;
  int64_t intermediate_size = 0;
  int64_t type_vocab_size = 0;
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";

  bool deberta() const { return family == EncoderFamily::kDebertaV2 || family == EncoderFamily::kDeberta; }

  // DeBERTa v1 and v2/v3 (DebertaConfig, DebertaV2Config); ignored by the other families.
  bool relative_attention = false;
  int64_t max_relative_positions = -1;  ///< resolved: max_position when the config says < 1
  int64_t position_buckets = -1;
  int64_t att_span = 0;                 ///< position_buckets if > 0, else max_relative_positions
  bool share_att_key = false;
  bool c2p = false, p2c = false;
  bool position_biased_input = true;
  bool norm_rel_ebd = false;            ///< norm_rel_ebd contains "layer_norm"
  int64_t embedding_size = 0;           ///< != hidden_size: an embed_proj follows the embeddings
  int64_t conv_kernel_size = 0;         ///< > 0: a ConvLayer after the first layer
  int64_t conv_groups = 1;
  std::string conv_act = "tanh";
  std::string pooler_act = "gelu";
  int64_t pooler_hidden_size = 0;
};

/// Parses a Hugging Face config.json of a supported encoder. Throws Unsupported (architecture,
/// position embedding type, activation) or FormatError (missing/invalid field), naming `where`.
/// Decoder base models (Qwen2Model, ...) are embedders everywhere; *ForCausalLM only when
/// `sentence_transformers_dir` (a modules.json beside config.json says it is an embedder).
EncoderArch parse_encoder_config(const nlohmann::json& config, const std::string& where,
                                 bool sentence_transformers_dir = false);

/// Reads modules.json, 1_Pooling/config.json (or the pooling module's folder), Dense modules'
/// config.json and sentence_bert_config.json in `dir` when present: pooling mode, Dense layers,
/// Normalize, max_seq_length (0 when none).
SentenceTransformerModules read_sentence_transformers(const std::string& dir, EncoderConfig& config);

/// Applies an activation by its transformers name (gelu, gelu_new, gelu_pytorch_tanh, relu, tanh,
/// silu/swish, quick_gelu).
torch::Tensor activation(const torch::Tensor& x, const std::string& name);
bool known_activation(const std::string& name);

}  // namespace breadth::model
