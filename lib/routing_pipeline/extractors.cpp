// Query features from models: a candidate model's last-token hidden state (specific) and a text
// encoder's embeddings (agnostic).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "breadth/encoder.hpp"
#include "breadth/router_pipeline.hpp"
#include "breadth/sampler.hpp"
#include "core/check.hpp"

namespace breadth {

ModelFeatureExtractor::ModelFeatureExtractor(std::shared_ptr<const CausalLM> model, std::string name,
                                             int64_t batch_size, bool apply_chat_template)
    : model_(std::move(model)), name_(std::move(name)), batch_(batch_size), chat_(apply_chat_template) {
  BREADTH_CHECK_ARG(model_ != nullptr, "ModelFeatureExtractor: model is null");
  BREADTH_CHECK_ARG(batch_ > 0, "ModelFeatureExtractor: batch_size must be positive, got {}", batch_);
  BREADTH_CHECK_ARG(model_->config().num_labels == 0,
                    "ModelFeatureExtractor: '{}' is a sequence classifier, not a causal LM", name_);
  BREADTH_CHECK_ARG(model_->tokenizer() != nullptr,
                    "ModelFeatureExtractor: checkpoint '{}' has no tokenizer; features need its tokenizer "
                    "(and chat template) to encode queries",
                    name_);
}

std::string ModelFeatureExtractor::name() const {
  return fmt::format("last-hidden:{}:{}", chat_ ? "chat" : "raw", name_);
}

torch::Tensor ModelFeatureExtractor::extract(const std::vector<std::string>& queries) {
  const int64_t H = model_->config().hidden_size;
  auto out = torch::empty({static_cast<int64_t>(queries.size()), H}, torch::kFloat32);
  torch::NoGradGuard ng;
  for (size_t s = 0; s < queries.size(); s += static_cast<size_t>(batch_)) {
    const size_t e = std::min(queries.size(), s + static_cast<size_t>(batch_));
    std::vector<std::vector<int32_t>> ids;
    size_t longest = 0;
    for (size_t i = s; i < e; ++i) {
      ids.push_back(encode_prompt(*model_, queries[i], chat_));
      BREADTH_CHECK_ARG(!ids.back().empty(), "ModelFeatureExtractor: query {} encodes to no tokens", i);
      longest = std::max(longest, ids.back().size());
    }
    // Left padding puts every row's last token in the last column; forward() with last_only returns
    // the final-norm hidden state there.
    const int64_t B = static_cast<int64_t>(ids.size()), T = static_cast<int64_t>(longest);
    auto tok = torch::zeros({B, T}, torch::kInt64);
    auto valid = torch::zeros({B, T}, torch::kBool);
    auto ta = tok.accessor<int64_t, 2>();
    auto va = valid.accessor<bool, 2>();
    bool ragged = false;
    for (int64_t b = 0; b < B; ++b) {
      const auto& row = ids[static_cast<size_t>(b)];
      const int64_t off = T - static_cast<int64_t>(row.size());
      ragged = ragged || off > 0;
      for (size_t t = 0; t < row.size(); ++t) {
        ta[b][off + static_cast<int64_t>(t)] = row[t];
        va[b][off + static_cast<int64_t>(t)] = true;
      }
    }
    KvCache cache = model_->new_cache(B, T);
    ForwardOptions fo;
    fo.last_only = true;
    fo.want_hidden = true;
    auto res = model_->forward(cache, tok.to(model_->device()), ragged ? valid.to(model_->device()) : torch::Tensor(),
                               fo);
    out.narrow(0, static_cast<int64_t>(s), B).copy_(res.hidden.to(torch::kCPU).to(torch::kFloat32));
  }
  return out;
}

EmbedderFeatureExtractor::EmbedderFeatureExtractor(std::shared_ptr<const TextEmbedder> embedder, std::string name)
    : embedder_(std::move(embedder)), name_(std::move(name)) {
  BREADTH_CHECK_ARG(embedder_ != nullptr, "EmbedderFeatureExtractor: embedder is null");
}

EmbedderFeatureExtractor::EmbedderFeatureExtractor(std::shared_ptr<const Encoder> encoder, std::string name)
    : name_(std::move(name)) {
  BREADTH_CHECK_ARG(encoder != nullptr, "EmbedderFeatureExtractor: encoder is null");
  embedder_ = make_text_embedder(std::move(encoder));
}

std::string EmbedderFeatureExtractor::name() const { return "embed:" + name_; }

torch::Tensor EmbedderFeatureExtractor::extract(const std::vector<std::string>& queries) {
  torch::NoGradGuard ng;
  auto e = embedder_->embed(queries).to(torch::kCPU).to(torch::kFloat32).contiguous();
  BREADTH_CHECK_ARG(e.dim() == 2 && e.size(0) == static_cast<int64_t>(queries.size()),
                    "EmbedderFeatureExtractor '{}': embed() returned shape [{}] for {} texts", name_,
                    fmt::join(e.sizes(), ", "), queries.size());
  return e;
}

}  // namespace breadth
