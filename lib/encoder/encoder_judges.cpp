// Evaluation's model-backed interfaces (breadth/text_models.hpp) on top of Encoder and CausalLM:
// embedders, pair classifiers, NLI and reward models (breadth/spec.hpp builds them from spec strings).
#include <torch/torch.h>

#include <algorithm>
#include <array>

#include "breadth/chat_template.hpp"
#include "breadth/encoder.hpp"
#include "core/check.hpp"

namespace breadth {

namespace {

class EncoderEmbedder final : public TextEmbedder {
 public:
  explicit EncoderEmbedder(std::shared_ptr<const Encoder> e) : encoder_(std::move(e)) {}
  torch::Tensor embed(const std::vector<std::string>& texts) const override { return encoder_->embed(texts); }

 private:
  std::shared_ptr<const Encoder> encoder_;
};

class EncoderPairClassifier final : public PairClassifier {
 public:
  EncoderPairClassifier(std::shared_ptr<const Encoder> e, int64_t label) : encoder_(std::move(e)), label_(label) {}
  std::vector<double> probabilities(const std::vector<std::pair<std::string, std::string>>& pairs) const override {
    std::vector<std::string> a, b;
    a.reserve(pairs.size());
    b.reserve(pairs.size());
    for (const auto& [x, y] : pairs) {
      a.push_back(x);
      b.push_back(y);
    }
    auto p = encoder_->classify_pairs(a, b).select(1, label_).to(torch::kFloat64).contiguous();
    return std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }

 private:
  std::shared_ptr<const Encoder> encoder_;
  int64_t label_;
};

int64_t positive_label(const Encoder& e) {
  const auto& cfg = e.config();
  BREADTH_CHECK_ARG(cfg.num_labels > 0, "'{}' has no classification head; a pair classifier needs a "
                    "*ForSequenceClassification checkpoint", cfg.architecture);
  for (const char* name : {"entailment", "equivalent", "paraphrase", "duplicate", "similar"})
    if (auto i = e.label_index(name)) return *i;
  if (cfg.num_labels <= 2) return cfg.num_labels - 1;  // LABEL_1 of a binary head; the sigmoid of one output
  fail<InvalidArgument>("cannot tell which of the {} labels of '{}' is the positive class; pass its index", cfg.num_labels,
                        cfg.architecture);
}

class RewardAdapter final : public RewardModel {
 public:
  RewardAdapter(std::shared_ptr<const CausalLM> m, int64_t batch) : model_(std::move(m)), batch_(batch) {
    BREADTH_CHECK_ARG(model_ != nullptr, "reward model: no model given");
    BREADTH_CHECK_ARG(model_->config().num_labels == 1,
                      "reward model '{}' must have a scalar score head (num_labels = 1, a *ForSequenceClassification "
                      "checkpoint); it has {}",
                      model_->config().architecture, model_->config().num_labels);
    BREADTH_CHECK_ARG(batch_ > 0, "reward model: batch size must be > 0 (got {})", batch_);
    tokenizer_ = model_->tokenizer();
    BREADTH_CHECK_ARG(tokenizer_ != nullptr, "reward model '{}' has no tokenizer beside its weights",
                      model_->config().architecture);
  }
  std::vector<double> rewards(const std::string& prompt, const std::vector<std::string>& answers) const override {
    std::vector<std::vector<int32_t>> seqs;
    for (const auto& a : answers) {
      seqs.push_back(tokenizer_->encode(render_reward_conversation(*tokenizer_, prompt, a), false));
      BREADTH_CHECK_ARG(!seqs.back().empty(), "reward model: the rendered conversation is empty");
    }
    std::vector<double> out;
    for (size_t s = 0; s < seqs.size(); s += static_cast<size_t>(batch_)) {
      std::vector<std::vector<int32_t>> chunk(seqs.begin() + static_cast<std::ptrdiff_t>(s),
                                              seqs.begin() + static_cast<std::ptrdiff_t>(
                                                                 std::min(seqs.size(), s + static_cast<size_t>(batch_))));
      torch::InferenceMode guard;
      auto scores = model_->score(chunk).select(1, 0).to(torch::kCPU, torch::kFloat64).contiguous();
      out.insert(out.end(), scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
    }
    return out;
  }

 private:
  std::shared_ptr<const CausalLM> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  int64_t batch_;
};


}  // namespace

std::shared_ptr<TextEmbedder> make_text_embedder(std::shared_ptr<const Encoder> encoder) {
  BREADTH_CHECK_ARG(encoder != nullptr, "make_text_embedder: no encoder given");
  return std::make_shared<EncoderEmbedder>(std::move(encoder));
}

std::shared_ptr<PairClassifier> make_pair_classifier(std::shared_ptr<const Encoder> encoder, int64_t label) {
  BREADTH_CHECK_ARG(encoder != nullptr, "make_pair_classifier: no encoder given");
  if (label < 0) label = positive_label(*encoder);
  BREADTH_CHECK_ARG(label < encoder->config().num_labels, "make_pair_classifier: label {} is outside the {} labels",
                    label, encoder->config().num_labels);
  return std::make_shared<EncoderPairClassifier>(std::move(encoder), label);
}

std::shared_ptr<PairClassifier> make_noveltybench_classifier(const std::string& path, const EncoderOptions& options) {
  EncoderOptions o = options;
  o.pair_truncation = PairTruncation::kEachSide;
  o.max_side_tokens = 128;
  auto enc = Encoder::load(path, o);
  // NoveltyBench reads softmax(logits)[1] of its two-label DeBERTa.
  const int64_t label = enc->config().num_labels == 2 ? 1 : positive_label(*enc);
  return make_pair_classifier(std::move(enc), label);
}

std::shared_ptr<PairClassifier> make_nli_classifier(std::shared_ptr<const Encoder> encoder) {
  BREADTH_CHECK_ARG(encoder != nullptr, "make_nli_classifier: no encoder given");
  auto idx = encoder->label_index("entailment");
  if (!idx) {
    std::string names;
    for (const auto& l : encoder->config().labels) names += (names.empty() ? "" : ", ") + l;
    fail<InvalidArgument>("NLI model ({}) has no label called 'entailment' in its id2label ({}); use "
                          "make_pair_classifier with the label index instead",
                          encoder->config().architecture, names);
  }
  return std::make_shared<EncoderPairClassifier>(std::move(encoder), *idx);
}

std::vector<uint8_t> nli_entails(const Encoder& nli, const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto idx = nli.label_index("entailment");
  BREADTH_CHECK_ARG(idx.has_value(), "nli_entails: the model has no label called 'entailment'");
  std::vector<std::string> a, b;
  for (const auto& [x, y] : pairs) {
    a.push_back(x);
    b.push_back(y);
  }
  auto top = nli.classify_pairs(a, b).argmax(1).contiguous();
  std::vector<uint8_t> out;
  for (int64_t i = 0; i < top.numel(); ++i) out.push_back(top.data_ptr<int64_t>()[i] == *idx);
  return out;
}

std::string render_reward_conversation(const Tokenizer& tokenizer, const std::string& prompt,
                                       const std::string& answer) {
  const ChatTemplate* t = tokenizer.chat_template();
  BREADTH_CHECK_ARG(t != nullptr,
                    "the reward model's tokenizer has no chat template (tokenizer_config.json 'chat_template'); "
                    "reward models score the rendered conversation [user, assistant]");
  return t->render({{"user", prompt}, {"assistant", answer}}, /*add_generation_prompt=*/false);
}

std::shared_ptr<RewardModel> make_reward_model(std::shared_ptr<const CausalLM> model, int64_t batch_size) {
  return std::make_shared<RewardAdapter>(std::move(model), batch_size);
}

}  // namespace breadth
