// Answer sets for the routing table: a sampler over candidate checkpoints (collect-until-B, one
// model loaded at a time) and a DivCov set scorer.
#include "breadth/answer_set.hpp"
#include "breadth/divcov.hpp"
#include "breadth/router_pipeline.hpp"
#include "core/check.hpp"

namespace breadth {

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
