// The network under an Encoder: token ids in, hidden states and classifier logits out. One
// implementation per family (bert.cpp: BERT and RoBERTa; deberta.cpp: DeBERTa-v2/v3), built from
// Hugging Face tensor names.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "encoder/encoder_config.hpp"
#include "model/weights.hpp"

namespace breadth::model {

struct Linear {
  torch::Tensor w, b;
  torch::Tensor operator()(const torch::Tensor& x) const;
};

struct LayerNorm {
  torch::Tensor w, b;
  double eps = 1e-12;
  torch::Tensor operator()(const torch::Tensor& x) const;
};

/// Reads the tensors of one checkpoint: `prefix` is the base model's ("bert.", "roberta.",
/// "deberta." or ""), found by probing; head tensors are looked up without it.
class EncoderWeights {
 public:
  EncoderWeights(const WeightSource& src, std::string prefix, torch::ScalarType dtype, torch::Device device);
  /// The base model's tensor `name` (prefix added), checked against `shape`.
  torch::Tensor base(const std::string& name, const std::vector<int64_t>& shape) const;
  /// A tensor by its full name.
  torch::Tensor full(const std::string& name, const std::vector<int64_t>& shape) const;
  bool has_base(const std::string& name) const { return src_.has(prefix_ + name); }
  bool has_full(const std::string& name) const { return src_.has(name); }
  Linear linear(const std::string& name, int64_t out, int64_t in, bool bias = true, bool base = true) const;
  /// LayerNorm weight/bias, accepting the old gamma/beta names.
  LayerNorm layer_norm(const std::string& name, int64_t size, double eps, bool base = true) const;
  const std::string& prefix() const { return prefix_; }

 private:
  const WeightSource& src_;
  std::string prefix_;
  torch::ScalarType dtype_;
  torch::Device device_;
};

/// The base model's prefix in `src`: the first of "", "bert.", "roberta.", "deberta.", "model."
/// under which `probe` (e.g. "embeddings.word_embeddings.weight") exists. FormatError otherwise.
std::string find_prefix(const WeightSource& src, const std::string& probe);

class EncoderNet {
 public:
  virtual ~EncoderNet() = default;
  /// Last hidden states [B, T, H] in the model dtype. ids/mask/type_ids: [B, T] int64 on the device.
  virtual torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& mask,
                               const torch::Tensor& type_ids) const = 0;
  /// Classifier logits [B, L] float32 from the hidden states. Throws InvalidArgument without a head.
  virtual torch::Tensor head(const torch::Tensor& hidden) const = 0;
  /// A copy of the base model whose weights are fresh leaf tensors with requires_grad, and those
  /// weights by their base-model names (Encoder::trainable). nullptr when the family cannot train.
  virtual std::unique_ptr<EncoderNet> trainable_copy(std::vector<std::pair<std::string, torch::Tensor>>& params) const {
    (void)params;
    return nullptr;
  }
};

std::unique_ptr<EncoderNet> make_bert_net(const EncoderArch& arch, const WeightSource& src,
                                          torch::ScalarType dtype, torch::Device device);
/// A decoder's base model as an embedder (EncoderFamily::kDecoder): causal attention over the
/// unpadded tokens, final-norm hidden states.
std::unique_ptr<EncoderNet> make_decoder_net(const EncoderArch& arch, const WeightSource& src,
                                             torch::ScalarType dtype, torch::Device device);
std::unique_ptr<EncoderNet> make_deberta_net(const EncoderArch& arch, const WeightSource& src,
                                             torch::ScalarType dtype, torch::Device device);

/// RoBERTa's position ids: padding_idx + 1 + the running count of real tokens; padding_idx at
/// padding (transformers' create_position_ids_from_input_ids, with the mask deciding padding).
torch::Tensor roberta_position_ids(const torch::Tensor& mask, int64_t padding_idx);

/// Pools hidden states [B, T, H] over mask [B, T] as sentence-transformers' Pooling does ("mean",
/// "cls", "max", "mean_sqrt_len", "lasttoken"); float32 result [B, H].
torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask, const std::string& mode);

}  // namespace breadth::model
