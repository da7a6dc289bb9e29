// One block of prompts through one point's method: the only place where method kinds meet the
// decoders. Each kind is a call into the library (generate, BacoDecoder, the router pipeline).
#include <fmt/format.h>

#include <cmath>

#include "breadth/baco.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/experiment.hpp"
#include "breadth/methods.hpp"
#include "breadth/model.hpp"
#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"
#include "core/check.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {

using Json = nlohmann::ordered_json;

/// The point's sampling options: the method's, with the swept parameter set to the point's value.
SamplingOptions point_sampling(const ExperimentMethod& m, const ExperimentPoint& p) {
  SamplingOptions s = m.sampling;
  if (!p.value) return s;
  if (m.sweep_key == "temperature") s.temperature = *p.value;
  else if (m.sweep_key == "top_p") s.top_p = *p.value;
  else if (m.sweep_key == "min_p") s.min_p = *p.value;
  else if (m.sweep_key == "top_k") s.top_k = static_cast<int64_t>(*p.value);
  return s;
}

std::string generations_line(const std::string& id, const std::string& prompt, const std::string& point,
                             const std::vector<std::string>& texts, const Json& extra = Json::object()) {
  Json j;
  j["id"] = id;
  j["prompt"] = prompt;
  j["model"] = point;
  j["generations"] = texts;
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json stat(float v) { return std::isnan(v) ? Json(nullptr) : Json(static_cast<double>(v)); }

Json provenance_json(const BacoSample& s) {
  Json tokens = Json::array();
  for (const auto& t : s.tokens) {
    Json o;
    o["text"] = t.text;
    o["source"] = token_source_name(t.source);
    o["reason"] = choice_reason_name(t.reason);
    if (t.eos) o["eos"] = true;
    o["p_base_max"] = stat(t.p_base_max);
    o["p_aligned_max"] = stat(t.p_aligned_max);
    o["h_base"] = stat(t.h_base);
    o["h_aligned"] = stat(t.h_aligned);
    tokens.push_back(o);
  }
  return Json{{"finish", finish_reason_name(s.finish)}, {"retries", s.retries}, {"tokens", tokens}};
}

std::vector<PromptOutput> from_generate(const GenerateResult& r, const std::vector<std::string>& ids,
                                        const std::vector<std::string>& prompts, const std::string& point, int64_t n,
                                        const std::vector<Json>& extras = {}) {
  std::vector<PromptOutput> out(prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    std::vector<std::string> texts;
    for (int64_t i = 0; i < n; ++i) {
      const auto& s = r.samples[p * n + i];
      texts.push_back(s.text);
      out[p].tokens += static_cast<int64_t>(s.tokens.size());
    }
    out[p].generations_line = generations_line(ids[p], prompts[p], point, texts, extras.empty() ? Json::object() : extras[p]);
  }
  return out;
}

GenerateOptions generate_options(const ExperimentSpec& spec, const SamplingOptions& sampling, bool chat) {
  GenerateOptions g;
  g.sampling = sampling;
  g.num_samples = spec.n;
  g.max_new_tokens = spec.max_new_tokens;
  g.seed = spec.seed;
  g.apply_chat_template = chat;
  return g;
}

}  // namespace

std::shared_ptr<const CausalLM> ModelCache::get(const std::string& name, const std::string& where) {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  const auto& m = spec_->model(name, where);
  ModelOptions options;
  options.device = parse_device(m.device, "models." + name + ".device");
  options.dtype = parse_dtype(m.dtype, "models." + name + ".dtype");
  options.weights = parse_weight_format(m.weights, "models." + name + ".weights");
  auto model = CausalLM::load(m.path, options);
  models_[name] = model;
  return model;
}

void ModelCache::keep_only(const std::set<std::string>& names) {
  for (auto it = models_.begin(); it != models_.end();)
    it = names.count(it->first) ? std::next(it) : models_.erase(it);
}

std::vector<PromptOutput> Experiment::generate_block(size_t p, int64_t block, ModelCache& models) const {
  BREADTH_CHECK_ARG(p < points_.size(), "generate_block: point {} of {}", p, points_.size());
  BREADTH_CHECK_ARG(block >= 0 && block < num_blocks(), "generate_block: block {} of {}", block, num_blocks());
  const ExperimentPoint& point = points_[p];
  const ExperimentMethod& m = spec_.methods[point.method];
  const auto [first, last] = block_range(block);
  const std::vector<std::string> ids(prompts_.ids.begin() + first, prompts_.ids.begin() + last);
  const std::vector<std::string> prompts(prompts_.prompts.begin() + first, prompts_.prompts.begin() + last);
  const std::string where = "methods." + m.name;
  const SamplingOptions sampling = point_sampling(m, point);
  auto number = [&](const std::string& key) { return key == m.sweep_key ? *point.value : m.numbers.at(key); };

  if (m.kind == "sample") {
    auto model = models.get(m.model, where + ".model");
    return from_generate(generate(*model, prompts, generate_options(spec_, sampling, m.chat)), ids, prompts, point.name,
                         spec_.n);
  }

  if (m.kind == "baco") {
    BacoDecoder decoder(models.get(m.base, where + ".base"), models.get(m.aligned, where + ".aligned"));
    BacoOptions o;
    o.base_sampling = sampling;
    o.aligned_sampling = sampling;
    o.num_samples = spec_.n;
    o.max_new_tokens = spec_.max_new_tokens;
    o.seed = spec_.seed;
    if (!m.base_template.empty()) o.base_template = ChatTemplate::from_format(m.base_template);
    auto rule = make_rule(m.rule, number("gamma"), where + ".gamma");
    BacoResult r = decoder.generate(prompts, *rule, o);
    std::vector<PromptOutput> out(prompts.size());
    for (size_t q = 0; q < prompts.size(); ++q) {
      std::vector<std::string> texts;
      Json samples = Json::array();
      for (int64_t i = 0; i < spec_.n; ++i) {
        const auto& s = r.samples[q * spec_.n + i];
        texts.push_back(s.text);
        samples.push_back(provenance_json(s));
        out[q].tokens += s.length();
      }
      out[q].generations_line = generations_line(ids[q], prompts[q], point.name, texts);
      out[q].provenance_line = Json{{"id", ids[q]}, {"samples", samples}}.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    return out;
  }

  if (m.kind == "route") {
    auto router = Router::load(m.router);
    // The router knows models by their checkpoints' base names (pool_model_name); the experiment by
    // its own names. Either matches.
    std::vector<std::string> pool_paths;
    auto model_of = [&](const std::string& router_name) -> std::string {
      for (const auto& name : m.pool) {
        const auto& em = spec_.model(name, where + ".pool");
        if (name == router_name || pool_model_name(em.path) == router_name) return name;
      }
      fail("{}: the router at '{}' picks '{}', which is not in the method's pool", where, m.router, router_name);
    };
    for (const auto& name : router->pool()) pool_paths.push_back(spec_.model(model_of(name), where).path);
    FeatureSources sources;
    sources.encoder = m.encoder;
    sources.models = pool_paths;
    const auto& first_model = spec_.model(m.pool.front(), where + ".pool");
    sources.model_options.device = parse_device(first_model.device);
    sources.encoder_options.device = sources.model_options.device;
    Features features = query_features(sources, router->config().feature_kind, ids, prompts, router->pool());
    std::vector<std::string> chosen(prompts.size());
    for (size_t q = 0; q < prompts.size(); ++q)
      chosen[q] = model_of(route(*router, features, static_cast<int64_t>(q), 1, spec_.n).models.front());
    // Prompts routed to the same model decode together; answers depend on the prompt only.
    std::vector<PromptOutput> out(prompts.size());
    for (const auto& name : m.pool) {
      std::vector<size_t> rows;
      for (size_t q = 0; q < prompts.size(); ++q)
        if (chosen[q] == name) rows.push_back(q);
      if (rows.empty()) continue;
      std::vector<std::string> sub_ids, sub_prompts;
      std::vector<Json> extras;
      for (size_t q : rows) {
        sub_ids.push_back(ids[q]);
        sub_prompts.push_back(prompts[q]);
        extras.push_back(Json{{"routed_to", name}});
      }
      auto model = models.get(name, where + ".pool");
      auto part = from_generate(generate(*model, sub_prompts, generate_options(spec_, sampling, m.chat)), sub_ids,
                                sub_prompts, point.name, spec_.n, extras);
      for (size_t k = 0; k < rows.size(); ++k) out[rows[k]] = std::move(part[k]);
    }
    return out;
  }

  // The comparison methods (breadth/methods.hpp).
  auto fill = [&](MethodOptions& o) {
    o.sampling = sampling;
    o.num_samples = spec_.n;
    o.max_new_tokens = spec_.max_new_tokens;
    o.seed = spec_.seed;
  };
  auto two_model = [&](TwoModelOptions& o) {
    fill(o);
    if (!m.base_template.empty()) o.base_template = ChatTemplate::from_format(m.base_template);
  };
  MethodResult r;
  if (m.kind == "logit_ensemble") {
    LogitEnsembleOptions o;
    two_model(o);
    o.w = number("w");
    r = logit_ensemble(models.get(m.base, where + ".base"), models.get(m.aligned, where + ".aligned"), prompts, o);
  } else if (m.kind == "response_ensemble") {
    ResponseEnsembleOptions o;
    two_model(o);
    o.ratio = number("ratio");
    r = response_ensemble(models.get(m.base, where + ".base"), models.get(m.aligned, where + ".aligned"), prompts, o);
  } else if (m.kind == "nudging") {
    NudgingOptions o;
    two_model(o);
    o.threshold = number("threshold");
    r = nudging(models.get(m.base, where + ".base"), models.get(m.aligned, where + ".aligned"), prompts, o);
  } else if (m.kind == "in_context") {
    InContextOptions o;
    fill(o);
    r = in_context(*models.get(m.model, where + ".model"), prompts, o);
  } else if (m.kind == "paraphrase") {
    ParaphraseOptions o;
    fill(o);
    r = paraphrase(*models.get(m.model, where + ".model"), prompts, o);
  } else if (m.kind == "diverse_beam") {
    DiverseBeamOptions o;
    fill(o);
    o.groups = static_cast<int64_t>(number("groups"));
    o.penalty = number("penalty");
    r = diverse_beam(*models.get(m.model, where + ".model"), prompts, o);
  } else if (m.kind == "verbalized") {
    PromptVariantOptions o;
    fill(o);
    r = verbalized(*models.get(m.model, where + ".model"), prompts, o);
  } else if (m.kind == "system_vanilla") {
    PromptVariantOptions o;
    fill(o);
    r = system_vanilla(*models.get(m.model, where + ".model"), prompts, o);
  } else {
    fail<Unsupported>("{}: kind '{}' has no generator", where, m.kind);
  }
  std::vector<PromptOutput> out(prompts.size());
  for (size_t q = 0; q < prompts.size(); ++q) {
    std::vector<std::string> texts, sources, prompt_texts;
    Json samples = Json::array();
    for (int64_t i = 0; i < spec_.n; ++i) {
      const auto& s = r.samples[q * spec_.n + i];
      texts.push_back(s.text);
      sources.push_back(s.source);
      prompt_texts.push_back(s.prompt_text);
      out[q].tokens += static_cast<int64_t>(s.tokens.size());
      if (!r.provenance.empty()) samples.push_back(provenance_json(r.provenance[q * spec_.n + i]));
    }
    Json extra = Json::object();
    if (m.kind == "response_ensemble") extra["sources"] = sources;
    if (m.kind == "paraphrase" || m.kind == "in_context") extra["prompt_texts"] = prompt_texts;
    out[q].generations_line = generations_line(ids[q], prompts[q], point.name, texts, extra);
    if (!r.provenance.empty())
      out[q].provenance_line =
          Json{{"id", ids[q]}, {"samples", samples}}.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return out;

}

}  // namespace breadth
