// Bidirectional text encoders (BERT, RoBERTa, DeBERTa-v2/v3) running natively in libtorch, and the
// model-backed judges evaluation needs (sentence embeddings, pair classifiers, NLI, reward models).
//
// An Encoder is loaded once from a Hugging Face directory and is immutable afterwards, so one
// instance may serve several threads. Texts go in, float32 CPU tensors come out; batching, padding
// and truncation happen inside.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "breadth/model.hpp"
#include "breadth/text_models.hpp"
#include "breadth/tokenizer.hpp"

namespace breadth {

/// How a text pair is cut down to size before `[CLS] a [SEP] b [SEP]` is assembled.
enum class PairTruncation {
  /// Each side on its own to `max_side_tokens` (NoveltyBench's classifier input: 128 per side).
  kEachSide,
  /// Hugging Face's `longest_first`: drop one token at a time from the longer side until the
  /// assembled pair, special tokens included, fits `max_length`.
  kLongestFirst,
};

struct EncoderOptions {
  torch::Device device = torch::kCPU;
  /// float32 or bfloat16 on CPU; float16 too on CUDA.
  torch::ScalarType dtype = torch::kFloat32;
  /// Longest input, special tokens included. 0: the checkpoint's (sentence-transformers'
  /// max_seq_length, else tokenizer_config's model_max_length, capped by the position table).
  int64_t max_length = 0;
  /// Texts per forward pass. Inputs are sorted by length first so that a batch pads little.
  int64_t batch_size = 32;
  PairTruncation pair_truncation = PairTruncation::kLongestFirst;
  /// Per-side limit for PairTruncation::kEachSide.
  int64_t max_side_tokens = 128;
};

/// What load() read from config.json and the sentence-transformers files.
struct EncoderConfig {
  std::string architecture;  ///< config.json `architectures[0]`, e.g. "DebertaV2ForSequenceClassification"
  std::string family;  ///< "bert", "roberta", "deberta", "deberta-v2", or a decoder's ("qwen2", ...)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t max_position = 0;
  int64_t num_labels = 0;              ///< > 0 when the checkpoint has a classification head
  std::vector<std::string> labels;     ///< id2label, by index (LABEL_i when the config has none)
  /// Sentence-transformers pooling: "mean", "cls", "max", "mean_sqrt_len", "lasttoken"; "mean" by
  /// default.
  std::string pooling = "mean";
  bool normalize = false;              ///< modules.json has a Normalize module
  /// Width of embed(): the last sentence-transformers Dense module's out_features, else hidden_size.
  int64_t embedding_size = 0;
  int64_t max_length = 0;              ///< the limit in force (EncoderOptions::max_length resolved)
};

/// Token ids of a batch, right padded: ids/mask/type_ids are [B, T] int64 (mask 1 for real tokens).
struct EncoderBatch {
  torch::Tensor ids, mask, type_ids;
};

class TrainableEncoder;

class Encoder {
 public:
  virtual ~Encoder() = default;

  /// Loads a Hugging Face directory: config.json (BertModel/BertFor*, RobertaModel/
  /// RobertaForSequenceClassification, XLMRoberta*, DebertaV2Model/DebertaV2ForSequenceClassification),
  /// model.safetensors (or a sharded index), and a tokenizer (tokenizer.json, else tokenizer.model or
  /// DeBERTa-v3's spm.model). modules.json / 1_Pooling/config.json / sentence_bert_config.json, when
  /// present, decide pooling, normalization and max length as sentence-transformers does.
  /// Throws IoError, FormatError, Unsupported, InvalidArgument (options).
  static std::shared_ptr<Encoder> load(const std::string& path, const EncoderOptions& options = {});

  virtual const EncoderConfig& config() const = 0;
  virtual const EncoderOptions& options() const = 0;
  virtual std::shared_ptr<const Tokenizer> tokenizer() const = 0;

  /// Sentence embeddings [N, hidden] float32 on the CPU: the last hidden states pooled over each
  /// text's tokens and, when the checkpoint says so, L2-normalized (sentence-transformers' encode()).
  virtual torch::Tensor embed(const std::vector<std::string>& texts) const = 0;

  /// Class probabilities [N, num_labels] (softmax; sigmoid for a single-label head) for
  /// `[CLS] first[i] [SEP] second[i] [SEP]` (the tokenizer's pair template), truncated per
  /// options().pair_truncation. Throws InvalidArgument when the checkpoint has no classifier head.
  virtual torch::Tensor classify_pairs(const std::vector<std::string>& first,
                                       const std::vector<std::string>& second) const = 0;
  /// Same for single texts.
  virtual torch::Tensor classify(const std::vector<std::string>& texts) const = 0;

  /// Index of the label whose id2label name equals `name` case-insensitively, if any.
  std::optional<int64_t> label_index(const std::string& name) const;

  // ---- the layers beneath, for callers that bring their own token ids -----------------------

  /// Input ids for single texts or pairs (second empty = single), truncated and padded as above.
  virtual EncoderBatch tokenize(const std::vector<std::string>& first,
                                const std::vector<std::string>& second = {}) const = 0;
  /// Last hidden states [B, T, hidden] float32 for a padded batch (padding rows hold garbage).
  virtual torch::Tensor hidden_states(const EncoderBatch& batch) const = 0;
  /// Classifier logits [B, num_labels] float32 for a padded batch.
  virtual torch::Tensor logits(const EncoderBatch& batch) const = 0;

  /// A trainable copy of the base model's weights, for fine-tuning (the router's fine-tuned BERT
  /// classifier, breadth/router_pipeline.hpp). The encoder itself is not changed. BERT and RoBERTa
  /// only (Unsupported otherwise), float32 (InvalidArgument otherwise), on the encoder's device.
  virtual std::shared_ptr<TrainableEncoder> trainable() const;

  /// config.json `architectures` values that load() accepts.
  static const std::vector<std::string>& supported_architectures();
};

/// An encoder's base model whose weights are leaf tensors with requires_grad (Encoder::trainable):
/// forward() runs the same network as Encoder::hidden_states but records an autograd graph (no
/// inference mode, no dropout), so a loss on its output can be backpropagated into the weights and
/// an optimizer can step them in place.
class TrainableEncoder {
 public:
  virtual ~TrainableEncoder() = default;
  /// The weights by the base model's tensor names as a *Model checkpoint stores them (no "bert." /
  /// "roberta." prefix), e.g. "encoder.layer.0.attention.self.query.weight"; the pooler and any
  /// classification head are not included. Saving them as model.safetensors beside the checkpoint's
  /// config.json and tokenizer gives a checkpoint Encoder::load reads.
  virtual std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const = 0;
  /// Last hidden states [B, T, hidden] float32 on the encoder's device, with autograd, for a batch
  /// from Encoder::tokenize (padding rows hold garbage).
  virtual torch::Tensor forward(const EncoderBatch& batch) const = 0;
};

// -------------------------------------------------------------------- evaluation's interfaces

/// Sentence embeddings for embedding equivalence and the semantic diversity metrics.
std::shared_ptr<TextEmbedder> make_text_embedder(std::shared_ptr<const Encoder> encoder);

/// P(label | first, second) of a cross-encoder. `label` < 0 picks the positive class: the label
/// named entailment/equivalent/paraphrase/duplicate/similar, else index 1 of a two-label head,
/// else the single output of a one-label head (sigmoid). InvalidArgument when none applies.
std::shared_ptr<PairClassifier> make_pair_classifier(std::shared_ptr<const Encoder> encoder,
                                                     int64_t label = -1);

/// NoveltyBench's equivalence classifier (DeBERTa-v3): each side truncated to 128 tokens on its
/// own, `[CLS] representative [SEP] candidate [SEP]`, P(label 1).
std::shared_ptr<PairClassifier> make_noveltybench_classifier(const std::string& path,
                                                             const EncoderOptions& options = {});

/// An NLI cross-encoder's P(entailment | premise=first, hypothesis=second); the entailment index
/// comes from id2label. InvalidArgument when no label is called entailment.
std::shared_ptr<PairClassifier> make_nli_classifier(std::shared_ptr<const Encoder> encoder);

/// Bidirectional-entailment decisions for semantic-entropy clustering: pair i is 1 when the NLI
/// model's most probable class is entailment for (first, second) (metrics.hpp entailment_clusters).
std::vector<uint8_t> nli_entails(const Encoder& nli,
                                 const std::vector<std::pair<std::string, std::string>>& pairs);

/// A decoder with a scalar score head (*ForSequenceClassification) scoring the conversation
/// [user: prompt, assistant: answer] rendered with the reward model's own chat template.
std::shared_ptr<RewardModel> make_reward_model(std::shared_ptr<const CausalLM> model,
                                               int64_t batch_size = 8);

/// The exact text the reward model scores for one (prompt, answer) pair.
std::string render_reward_conversation(const Tokenizer& tokenizer, const std::string& prompt,
                                       const std::string& answer);

}  // namespace breadth
