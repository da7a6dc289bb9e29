// From models to routing data and features: model-specific and text-encoder feature extractors, an
// answer sampler over candidate checkpoints (collect-until-B) and a DivCov set scorer.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "breadth/answer_set.hpp"
#include "breadth/divcov.hpp"
#include "breadth/model.hpp"
#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

// ------------------------------------------------------------------------------ feature extractors

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

std::string EmbedderFeatureExtractor::name() const { return "embed:" + name_; }

torch::Tensor EmbedderFeatureExtractor::extract(const std::vector<std::string>& queries) {
  torch::NoGradGuard ng;
  auto e = embedder_->embed(queries).to(torch::kCPU).to(torch::kFloat32).contiguous();
  BREADTH_CHECK_ARG(e.dim() == 2 && e.size(0) == static_cast<int64_t>(queries.size()),
                    "EmbedderFeatureExtractor '{}': embed() returned shape [{}] for {} texts", name_,
                    fmt::join(e.sizes(), ", "), queries.size());
  return e;
}

Features compute_features(FeatureKind kind, const std::vector<FeatureExtractor*>& extractors,
                          const std::vector<std::string>& queries, FeatureCache* cache,
                          const ProgressCallback& progress) {
  BREADTH_CHECK_ARG(!extractors.empty(), "compute_features: no extractor given");
  BREADTH_CHECK_ARG(kind == FeatureKind::kSpecific || extractors.size() == 1,
                    "compute_features: agnostic features come from one extractor, got {}", extractors.size());
  BREADTH_CHECK_ARG(!queries.empty(), "compute_features: no queries given");
  Features f;
  f.kind = kind;
  for (size_t i = 0; i < extractors.size(); ++i) {
    BREADTH_CHECK_ARG(extractors[i] != nullptr, "compute_features: extractor {} is null", i);
    auto stage = [&, i](int64_t done, int64_t total, const std::string&) {
      return !progress || progress(static_cast<int64_t>(i) * total + done,
                                   static_cast<int64_t>(extractors.size()) * total, extractors[i]->name());
    };
    torch::Tensor m;
    if (cache) {
      m = cache->get(*extractors[i], queries, 16, stage);
    } else {
      m = extractors[i]->extract(queries).to(torch::kCPU).to(torch::kFloat32);
      if (!stage(static_cast<int64_t>(queries.size()), static_cast<int64_t>(queries.size()), ""))
        fail<Cancelled>("computing features cancelled");
    }
    BREADTH_CHECK_ARG(m.dim() == 2 && m.size(0) == static_cast<int64_t>(queries.size()) && m.size(1) > 0,
                      "extractor '{}' returned [{}] for {} queries", extractors[i]->name(),
                      fmt::join(m.sizes(), ", "), queries.size());
    f.mats.push_back(m);
  }
  return f;
}

// ------------------------------------------------------------------------------ sampling and scoring

AnswerSampler model_answer_sampler(ModelLoader load, const ModelSamplerOptions& options) {
  BREADTH_CHECK_ARG(load != nullptr, "model_answer_sampler: needs a model loader");
  BREADTH_CHECK_ARG(options.answers.budget >= 1, "ModelSamplerOptions.answers.budget must be >= 1, got {}",
                    options.answers.budget);
  BREADTH_CHECK_ARG(options.answers.ratios.empty(),
                    "ModelSamplerOptions.answers.ratios must be empty: each cell is one model's answer set");
  // One model is kept loaded at a time; build_routing_data asks model by model.
  struct State {
    std::string name;
    std::shared_ptr<const CausalLM> model;
  };
  auto state = std::make_shared<State>();
  return [load = std::move(load), options, state](const std::string& query, const std::string& model) {
    if (!state->model || state->name != model) {
      state->model.reset();  // free the previous model before loading the next
      state->model = load(model);
      BREADTH_CHECK_ARG(state->model != nullptr, "model_answer_sampler: the loader returned no model for '{}'",
                        model);
      state->name = model;
    }
    Question q;
    q.text = query;
    q.kind = options.kind;
    auto set = collect_answers({state->model}, q, options.answers);
    std::vector<std::string> out;
    out.reserve(set.answers.size());
    for (auto& a : set.answers) out.push_back(std::move(a.text));
    return out;
  };
}

SetScorer divcov_scorer(std::shared_ptr<const Equivalence> equivalence, std::shared_ptr<const QualityScorer> quality,
                        int64_t budget) {
  BREADTH_CHECK_ARG(equivalence && quality, "divcov_scorer: needs an equivalence and a quality scorer");
  BREADTH_CHECK_ARG(budget >= 1, "divcov_scorer: budget must be >= 1, got {}", budget);
  return [equivalence, quality, budget](const std::string& query, const std::vector<std::string>& answers) {
    SetFigures f;
    if (answers.empty()) return f;  // nothing collected: no unique answer, no quality, div-cov 0
    DivCovOptions o;
    o.budget = budget;
    auto r = evaluate_divcov(query, answers, *equivalence, *quality, o);
    f.unq = static_cast<double>(r.num_unique);
    f.qual = r.qual;
    f.unq_qual = r.unq_qual;
    f.div_cov = r.div_cov;
    return f;
  };
}

}  // namespace breadth
