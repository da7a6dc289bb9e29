// Encoder::load and the text-level operations every family shares: tokenizing singles and pairs,
// length-sorted batching, pooling, and probabilities from classifier logits.
#include "breadth/encoder.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <numeric>

#include "core/check.hpp"
#include "core/files.hpp"
#include "model/decoder.hpp"
#include "encoder/encoder_config.hpp"
#include "encoder/encoder_net.hpp"
#include "encoder/encoder_text.hpp"
#include "breadth/tokenizer.hpp"
#include "model/weights.hpp"

namespace breadth {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

nlohmann::json read_config(const std::string& p) {
  std::ifstream in(p);
  if (!in) fail<IoError>("cannot read '{}'", p);
  auto j = nlohmann::json::parse(in, nullptr, false);
  BREADTH_CHECK_FORMAT(!j.is_discarded(), "'{}' is not valid JSON", p);
  return j;
}

// The tokenizer beside the weights: tokenizer.json / tokenizer.model, else DeBERTa-v3's spm.model
// (its tokenizer.json, when saved, uses a Unigram model breadth does not read).
std::shared_ptr<const Tokenizer> find_tokenizer(const std::string& dir) {
  const bool has_json = files::is_regular_file(files::join(dir, "tokenizer.json"));
  const bool has_spm = files::is_regular_file(files::join(dir, "spm.model"));
  if (has_json || files::is_regular_file(files::join(dir, "tokenizer.model"))) {
    try {
      return Tokenizer::load(dir);
    } catch (const Unsupported&) {
      if (!has_spm) throw;
    }
  }
  if (has_spm) return Tokenizer::load(files::join(dir, "spm.model"));
  return nullptr;
}

// The longest input the position table allows, special tokens included.
int64_t position_limit(const model::EncoderArch& a) {
  if (a.family == model::EncoderFamily::kRoberta) return a.pub.max_position - a.pad_token_id - 1;
  return a.pub.max_position;
}

class EncoderImpl final : public Encoder {
 public:
  EncoderImpl(const std::string& dir, const EncoderOptions& options) : options_(options) {
    const std::string& root = dir;
    const std::string config = files::join(root, "config.json");
    if (!files::exists(config))
      fail<IoError>("'{}' has no config.json; an encoder is loaded from a Hugging Face checkpoint directory", dir);
    try {
      arch_ = model::parse_encoder_config(read_config(config), config,
                                          files::exists(files::join(root, "modules.json")));
    } catch (const nlohmann::json::exception& e) {
      fail<FormatError>("'{}': unexpected field type ({})", config, e.what());
    }
    ModelOptions mo;
    mo.device = options.device;
    mo.dtype = options.dtype;
    model::validate_options(mo);
    BREADTH_CHECK_ARG(options.batch_size > 0, "EncoderOptions.batch_size must be > 0 (got {})", options.batch_size);
    BREADTH_CHECK_ARG(options.max_side_tokens > 0, "EncoderOptions.max_side_tokens must be > 0 (got {})",
                      options.max_side_tokens);

    int64_t st_max = 0;
    arch_.pub.embedding_size = arch_.pub.hidden_size;
    try {
      st_ = model::read_sentence_transformers(dir, arch_.pub);
      st_max = st_.max_seq_length;
    } catch (const nlohmann::json::exception& e) {
      fail<FormatError>("'{}': unexpected field type in a sentence-transformers file ({})", dir, e.what());
    }
    const int64_t limit = position_limit(arch_);
    int64_t max_len = options.max_length;
    if (max_len > 0) {
      BREADTH_CHECK_ARG(max_len <= limit, "EncoderOptions.max_length {} exceeds what '{}' can encode ({})", max_len,
                        dir, limit);
    } else {
      max_len = st_max > 0 ? st_max : tokenizer_max_length(root);
      if (max_len <= 0 || max_len > limit) max_len = limit;
    }
    arch_.pub.max_length = max_len;

    auto weights = model::open_safetensors_dir(dir);
    {
      torch::NoGradGuard no_grad;
      if (arch_.family == model::EncoderFamily::kDecoder)
        net_ = model::make_decoder_net(arch_, *weights, options.dtype, options.device);
      else if (arch_.deberta())
        net_ = model::make_deberta_net(arch_, *weights, options.dtype, options.device);
      else
        net_ = model::make_bert_net(arch_, *weights, options.dtype, options.device);
      for (const auto& d : st_.dense) dense_.push_back(load_dense(d));
    }
    tokenizer_ = find_tokenizer(root);
    if (tokenizer_) {
      template_ = model::read_segment_template(dir, *tokenizer_, arch_.family == model::EncoderFamily::kRoberta,
                                               arch_.family == model::EncoderFamily::kDecoder);
      BREADTH_CHECK_FORMAT(template_.added(true) < max_len,
                           "'{}': the pair template adds {} special tokens, more than max_length {}", dir,
                           template_.added(true), max_len);
    }
    where_ = dir;
  }

  const EncoderConfig& config() const override { return arch_.pub; }
  const EncoderOptions& options() const override { return options_; }
  std::shared_ptr<const Tokenizer> tokenizer() const override { return tokenizer_; }

  EncoderBatch tokenize(const std::vector<std::string>& first, const std::vector<std::string>& second) const override {
    auto rows = encode_rows(first, second);
    return model::pad_rows(rows, arch_.pad_token_id);
  }

  torch::Tensor hidden_states(const EncoderBatch& batch) const override {
    check_batch(batch);
    torch::InferenceMode guard;
    return run_hidden(batch).to(torch::kCPU, torch::kFloat32);
  }

  torch::Tensor logits(const EncoderBatch& batch) const override {
    check_batch(batch);
    torch::InferenceMode guard;
    return net_->head(run_hidden(batch)).to(torch::kCPU, torch::kFloat32);
  }

  std::shared_ptr<TrainableEncoder> trainable() const override {
    BREADTH_CHECK_ARG(options_.dtype == torch::kFloat32,
                      "Encoder::trainable: '{}' is loaded as {}; load it with EncoderOptions.dtype = float32 to "
                      "fine-tune it",
                      where_, c10::toString(options_.dtype));
    std::vector<std::pair<std::string, torch::Tensor>> params;
    std::unique_ptr<model::EncoderNet> net;
    if (arch_.family == model::EncoderFamily::kBert || arch_.family == model::EncoderFamily::kRoberta)
      net = net_->trainable_copy(params);
    if (!net)
      fail<Unsupported>("Encoder::trainable: '{}' ({}) cannot be fine-tuned; BERT and RoBERTa encoders can", where_,
                        arch_.pub.architecture);
    return std::make_shared<Trainable>(this, std::move(net), std::move(params));
  }

  torch::Tensor embed(const std::vector<std::string>& texts) const override {
    return batched(texts, {}, /*pooled=*/true);
  }

  torch::Tensor classify_pairs(const std::vector<std::string>& first,
                               const std::vector<std::string>& second) const override {
    BREADTH_CHECK_ARG(first.size() == second.size(), "classify_pairs: {} first texts but {} second texts",
                      first.size(), second.size());
    return probabilities(batched(first, second, false));
  }

  torch::Tensor classify(const std::vector<std::string>& texts) const override {
    return probabilities(batched(texts, {}, false));
  }

 private:
  // The trainable copy: the same input handling (check_batch, run_hidden's device and type ids) over
  // its own network. Holds the encoder's checks by value, not the encoder.
  class Trainable final : public TrainableEncoder {
   public:
    Trainable(const EncoderImpl* owner, std::unique_ptr<model::EncoderNet> net,
              std::vector<std::pair<std::string, torch::Tensor>> params)
        : arch_(owner->arch_), device_(owner->options_.device), where_(owner->where_), net_(std::move(net)),
          params_(std::move(params)) {}
    std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const override { return params_; }
    torch::Tensor forward(const EncoderBatch& b) const override {
      BREADTH_CHECK_ARG(b.ids.defined() && b.ids.dim() == 2 && b.ids.size(0) > 0 && b.ids.size(1) > 0 &&
                            b.ids.size(1) <= position_limit(arch_),
                        "TrainableEncoder::forward: ids must be a non-empty [batch, length <= {}] tensor ('{}')",
                        position_limit(arch_), where_);
      auto ids = b.ids.to(device_, torch::kInt64);
      auto mask = b.mask.defined() ? b.mask.to(device_, torch::kInt64) : torch::ones_like(ids);
      auto types = b.type_ids.defined() && arch_.type_vocab_size > 1 ? b.type_ids.to(device_, torch::kInt64)
                                                                     : torch::zeros_like(ids);
      return net_->hidden(ids, mask, types);
    }

   private:
    model::EncoderArch arch_;
    torch::Device device_;
    std::string where_;
    std::unique_ptr<model::EncoderNet> net_;
    std::vector<std::pair<std::string, torch::Tensor>> params_;
  };

  static int64_t tokenizer_max_length(const std::string& root) {
    if (!files::is_regular_file(files::join(root, "tokenizer_config.json"))) return 0;
    auto j = read_config(files::join(root, "tokenizer_config.json"));
    if (j.is_object() && j.contains("model_max_length") && j["model_max_length"].is_number()) {
      double v = j["model_max_length"].get<double>();
      if (v > 0 && v < 1e6) return static_cast<int64_t>(v);  // transformers writes 1e30 for "unbounded"
    }
    return 0;
  }

  torch::Tensor probabilities(const torch::Tensor& logits) const {
    BREADTH_CHECK_ARG(arch_.pub.num_labels > 0,
                      "'{}' ({}) has no classification head; load a *ForSequenceClassification checkpoint", where_,
                      arch_.pub.architecture);
    return arch_.pub.num_labels == 1 ? torch::sigmoid(logits) : torch::softmax(logits, -1);
  }

  void check_batch(const EncoderBatch& b) const {
    BREADTH_CHECK_ARG(b.ids.defined() && b.ids.dim() == 2 && b.ids.size(0) > 0 && b.ids.size(1) > 0,
                      "encoder input ids must be a non-empty [batch, length] tensor");
    BREADTH_CHECK_ARG(!b.mask.defined() || b.mask.sizes() == b.ids.sizes(),
                      "encoder mask must have the shape of the ids");
    BREADTH_CHECK_ARG(!b.type_ids.defined() || b.type_ids.sizes() == b.ids.sizes(),
                      "encoder type_ids must have the shape of the ids");
    BREADTH_CHECK_ARG(b.ids.size(1) <= position_limit(arch_), "encoder input of {} tokens exceeds the {} positions of '{}'",
                      b.ids.size(1), position_limit(arch_), where_);
    auto ids = b.ids.to(torch::kInt64);
    BREADTH_CHECK_ARG(ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < arch_.pub.vocab_size,
                      "encoder input ids must be in [0, {})", arch_.pub.vocab_size);
    if (b.type_ids.defined()) {
      auto t = b.type_ids.to(torch::kInt64);
      const int64_t n = std::max<int64_t>(arch_.type_vocab_size, 1);
      BREADTH_CHECK_ARG(t.min().item<int64_t>() >= 0 && t.max().item<int64_t>() < n,
                        "encoder type_ids must be in [0, {}) for '{}'", n, where_);
    }
  }

  // [B, T, H] in the model dtype on the model device.
  torch::Tensor run_hidden(const EncoderBatch& b) const {
    auto dev = options_.device;
    auto ids = b.ids.to(dev, torch::kInt64);
    auto mask = b.mask.defined() ? b.mask.to(dev, torch::kInt64) : torch::ones_like(ids);
    auto types = b.type_ids.defined() && arch_.type_vocab_size > 1 ? b.type_ids.to(dev, torch::kInt64)
                                                                   : torch::zeros_like(ids);
    return net_->hidden(ids, mask, types);
  }

  std::vector<model::EncodedRow> encode_rows(const std::vector<std::string>& first,
                                             const std::vector<std::string>& second) const {
    BREADTH_CHECK_ARG(tokenizer_ != nullptr,
                      "'{}' has no tokenizer (tokenizer.json, tokenizer.model or spm.model); pass token ids to "
                      "hidden_states()/logits() instead",
                      where_);
    BREADTH_CHECK_ARG(second.empty() || second.size() == first.size(), "{} first texts but {} second texts",
                      first.size(), second.size());
    const bool pair = !second.empty();
    const int64_t max_len = arch_.pub.max_length;
    std::vector<model::EncodedRow> rows(first.size());
    for (size_t i = 0; i < first.size(); ++i) {
      auto a = tokenizer_->encode(first[i], false);
      if (!pair) {
        const int64_t room = max_len - template_.added(false);
        if (static_cast<int64_t>(a.size()) > room) a.resize(static_cast<size_t>(std::max<int64_t>(room, 0)));
        template_.assemble(a, nullptr, rows[i].ids, rows[i].types);
        continue;
      }
      auto b = tokenizer_->encode(second[i], false);
      if (options_.pair_truncation == PairTruncation::kEachSide) {
        const size_t side = static_cast<size_t>(options_.max_side_tokens);
        if (a.size() > side) a.resize(side);
        if (b.size() > side) b.resize(side);
      }
      // Also the guard for kEachSide: the pair never exceeds max_length.
      model::truncate_longest_first(a, b, max_len - template_.added(true));
      template_.assemble(a, &b, rows[i].ids, rows[i].types);
    }
    return rows;
  }

  // Texts (or pairs) in length-sorted batches; pooled embeddings or raw logits, in input order.
  torch::Tensor batched(const std::vector<std::string>& first, const std::vector<std::string>& second,
                        bool pooled) const {
    const int64_t width = pooled ? arch_.pub.embedding_size : arch_.pub.num_labels;
    if (!pooled) {
      BREADTH_CHECK_ARG(arch_.pub.num_labels > 0,
                        "'{}' ({}) has no classification head; load a *ForSequenceClassification checkpoint",
                        where_, arch_.pub.architecture);
    }
    if (first.empty()) return torch::zeros({0, width}, torch::kFloat32);
    auto rows = encode_rows(first, second);
    std::vector<size_t> order(rows.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return rows[x].ids.size() > rows[y].ids.size(); });
    auto out = torch::empty({static_cast<int64_t>(rows.size()), width}, torch::kFloat32);
    torch::InferenceMode guard;
    const size_t bs = static_cast<size_t>(options_.batch_size);
    for (size_t start = 0; start < order.size(); start += bs) {
      const size_t end = std::min(order.size(), start + bs);
      std::vector<model::EncodedRow> chunk;
      for (size_t k = start; k < end; ++k) chunk.push_back(std::move(rows[order[k]]));
      auto batch = model::pad_rows(chunk, arch_.pad_token_id);
      auto hidden = run_hidden(batch);
      torch::Tensor res;
      if (pooled) {
        res = model::pool(hidden, batch.mask.to(hidden.device()), arch_.pub.pooling);
        res = post_pool(res);
      } else {
        res = net_->head(hidden);
      }
      res = res.to(torch::kCPU, torch::kFloat32);
      std::vector<int64_t> idx(order.begin() + static_cast<std::ptrdiff_t>(start),
                               order.begin() + static_cast<std::ptrdiff_t>(end));
      out.index_copy_(0, torch::tensor(idx, torch::kInt64), res);
    }
    return out;
  }

  // A sentence-transformers Dense module's weights (float32 on the model's device).
  struct Dense {
    torch::Tensor w, b, residual;
    bool identity_residual = false;
    std::string activation;
  };

  Dense load_dense(const model::DenseSpec& d) const {
    auto src = model::open_safetensors_dir(d.dir);
    Dense out;
    auto get = [&](const std::string& name, std::vector<int64_t> shape) {
      return model::load_checked(*src, name, shape, torch::kFloat32).to(options_.device);
    };
    out.w = get("linear.weight", {d.out_features, d.in_features});
    if (d.bias) out.b = get("linear.bias", {d.out_features});
    if (d.residual) {
      out.identity_residual = d.in_features == d.out_features;
      if (!out.identity_residual) out.residual = get("residual.weight", {d.out_features, d.in_features});
    }
    out.activation = d.activation;
    return out;
  }

  // Dense and Normalize modules after pooling, in modules.json's order (float32).
  torch::Tensor post_pool(torch::Tensor x) const {
    for (const auto& step : st_.steps) {
      if (step.kind == model::PostPoolStep::kNormalize) {
        x = x / x.norm(2, -1, true).clamp_min(1e-12);
        continue;
      }
      const Dense& d = dense_[step.dense];
      auto y = torch::linear(x, d.w, d.b);
      if (d.activation == "tanh") y = torch::tanh(y);
      else if (d.activation == "relu") y = torch::relu(y);
      else if (d.activation == "gelu") y = torch::gelu(y);
      else if (d.activation == "sigmoid") y = torch::sigmoid(y);
      else if (d.activation == "silu") y = torch::silu(y);
      if (d.identity_residual) y = y + x;
      else if (d.residual.defined()) y = y + torch::linear(x, d.residual);
      x = y;
    }
    return x;
  }

  model::EncoderArch arch_;
  model::SentenceTransformerModules st_;
  std::vector<Dense> dense_;
  EncoderOptions options_;
  std::unique_ptr<model::EncoderNet> net_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  model::SegmentTemplate template_;
  std::string where_;
};

}  // namespace

std::shared_ptr<Encoder> Encoder::load(const std::string& path, const EncoderOptions& options) {
  if (!files::exists(path)) fail<IoError>("encoder path '{}' does not exist", path);
  if (!files::is_directory(path))
    fail<InvalidArgument>("encoder path '{}' is not a directory; give a Hugging Face checkpoint directory "
                          "(config.json, model.safetensors, tokenizer)",
                          path);
  return std::make_shared<EncoderImpl>(path, options);
}

std::shared_ptr<TrainableEncoder> Encoder::trainable() const {
  fail<Unsupported>("this Encoder implementation cannot be fine-tuned (Encoder::trainable)");
}

std::optional<int64_t> Encoder::label_index(const std::string& name) const {
  const auto& labels = config().labels;
  for (size_t i = 0; i < labels.size(); ++i)
    if (lower(labels[i]) == lower(name)) return static_cast<int64_t>(i);
  return std::nullopt;
}

const std::vector<std::string>& Encoder::supported_architectures() {
  static const std::vector<std::string> names = {
      "BertModel",       "BertForMaskedLM",  "BertForPreTraining", "BertForSequenceClassification",
      "RobertaModel",    "RobertaForMaskedLM", "RobertaForSequenceClassification", "XLMRobertaModel",
      "XLMRobertaForSequenceClassification", "DebertaModel", "DebertaForMaskedLM",
      "DebertaForSequenceClassification", "DebertaV2Model",  "Qwen2Model", "Qwen3Model", "LlamaModel",
      "MistralModel", "DebertaV2ForMaskedLM",
      "DebertaV2ForSequenceClassification"};
  return names;
}

}  // namespace breadth
