// `breadth baco`: BACO decoding of one prompt with a base and an aligned model. Prints each sample
// with base-model tokens coloured (on a terminal), or with --json every token's provenance.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "breadth/baco.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "command.hpp"

namespace {

struct Args {
  std::string base, aligned, rule = "p-punc", prompt, dtype = "float32", device = "cpu";
  double gamma = NAN, temperature = 1.0, top_p = 0.9;
  int64_t n = 10, max_tokens = 256, min_tokens = 0, retries = 3;
  uint64_t seed = 0;
  bool json = false, eager = false;
};

nlohmann::json num(float x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

nlohmann::json to_json(const breadth::BacoResult& r, const std::string& prompt) {
  using nlohmann::json;
  json samples = json::array();
  for (const auto& s : r.samples) {
    json tokens = json::array();
    for (const auto& t : s.tokens) {
      tokens.push_back({{"id", t.id}, {"text", t.text}, {"source", breadth::token_source_name(t.source)},
                        {"reason", breadth::route_reason_name(t.reason)}, {"eos", t.eos},
                        {"p_base_max", num(t.p_base_max)}, {"p_aligned_max", num(t.p_aligned_max)},
                        {"h_base", num(t.h_base)}, {"h_aligned", num(t.h_aligned)}});
    }
    samples.push_back({{"sample_index", s.sample_index}, {"text", s.text},
                       {"finish", breadth::finish_reason_name(s.finish)}, {"retries", s.retries},
                       {"base_tokens", s.base_tokens()}, {"switches", s.switches()}, {"tokens", tokens}});
  }
  const auto& m = r.summary;
  return {{"rule", r.rule}, {"prompt", prompt}, {"samples", samples},
          {"summary", {{"samples", m.samples}, {"tokens", m.tokens}, {"base_tokens", m.base_tokens},
                       {"base_share", m.base_share}, {"switches", m.switches},
                       {"mean_length", m.mean_length}, {"retries", m.retries},
                       {"base_share_by_position", m.base_share_by_position},
                       {"switch_rate_by_position", m.switch_rate_by_position}}}};
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("baco", "BACO: base-aligned token-level collaboration (n samples of one prompt)");
  sub->add_option("--base", a->base, "Base checkpoint (HF directory or .gguf); gets the plain prompt")->required();
  sub->add_option("--aligned", a->aligned, "Aligned checkpoint; gets its chat template")->required();
  sub->add_option("--prompt", a->prompt, "The prompt (one user turn)")->required();
  sub->add_option("--rule", a->rule, "Routing rule: rand, p, p-a, h, h-a, pr, hr, punc, fc, p-punc, p-fc, "
                  "h-punc, h-fc, or X-Y cascades; NAME:GAMMA also accepted")->capture_default_str();
  sub->add_option("--gamma", a->gamma, "Threshold of the rule");
  sub->add_option("--n", a->n, "Samples")->capture_default_str();
  sub->add_option("--seed", a->seed, "Seed")->capture_default_str();
  sub->add_option("--max-tokens", a->max_tokens, "Most new tokens per sample")->capture_default_str();
  sub->add_option("--min-tokens", a->min_tokens, "Regenerate samples that end shorter (BACO §6.2)")
      ->capture_default_str();
  sub->add_option("--retries", a->retries, "Most regenerations per sample for --min-tokens")->capture_default_str();
  sub->add_option("--temperature", a->temperature, "Both models' sampling temperature")->capture_default_str();
  sub->add_option("--top-p", a->top_p, "Both models' nucleus")->capture_default_str();
  sub->add_option("--dtype", a->dtype, "float32 | bfloat16 (| float16 on CUDA)")->capture_default_str();
  sub->add_option("--device", a->device, "cpu | cuda | cuda:N")->capture_default_str();
  sub->add_flag("--json", a->json, "Print samples with every token's source and statistics as JSON");
  sub->add_flag("--eager", a->eager, "Advance both models every step (all statistics recorded)");
  return [a] {
    std::string spec = a->rule;
    if (!std::isnan(a->gamma)) {
      if (spec.find(':') != std::string::npos)
        throw breadth::InvalidArgument("give the threshold once: --rule '" + spec + "' already has one, "
                                       "drop --gamma or the ':GAMMA'");
      spec += fmt::format(":{}", a->gamma);
    }
    auto rule = breadth::make_rule(spec);  // fails before loading models on a bad rule
    breadth::ModelOptions mo;
    if (a->dtype == "float32") mo.dtype = torch::kFloat32;
    else if (a->dtype == "bfloat16") mo.dtype = torch::kBFloat16;
    else if (a->dtype == "float16") mo.dtype = torch::kFloat16;
    else throw breadth::InvalidArgument("--dtype must be float32, bfloat16 or float16, got '" + a->dtype + "'");
    mo.device = torch::Device(a->device);
    auto base = breadth::CausalLM::load(a->base, mo);
    auto aligned = a->aligned == a->base ? base : breadth::CausalLM::load(a->aligned, mo);
    breadth::BacoDecoder dec(base, aligned);

    breadth::BacoOptions o;
    o.num_samples = a->n;
    o.seed = a->seed;
    o.max_new_tokens = a->max_tokens;
    o.min_new_tokens = a->min_tokens;
    o.max_retries = a->retries;
    o.lazy = !a->eager;
    o.base_sampling.temperature = o.aligned_sampling.temperature = a->temperature;
    o.base_sampling.top_p = o.aligned_sampling.top_p = a->top_p;
    auto res = dec.generate({a->prompt}, *rule, o);

    if (a->json) {
      std::fputs(to_json(res, a->prompt).dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str(),
                 stdout);
      std::fputs("\n", stdout);
      return 0;
    }
    const bool colour = ::isatty(STDOUT_FILENO);
    for (const auto& s : res.samples) {
      fmt::print("--- sample {} ({}, {} tokens, {} from base, {} switches)\n", s.sample_index,
                 breadth::finish_reason_name(s.finish), s.length(), s.base_tokens(), s.switches());
      for (const auto& t : s.tokens) {
        if (colour && t.source == breadth::TokenSource::kBase) fmt::print("\033[36m{}\033[0m", t.text);
        else fmt::print("{}", t.text);
      }
      fmt::print("\n");
    }
    fmt::print("--- {}: base share {:.3f}, {} switches over {} tokens{}\n", res.rule, res.summary.base_share,
               res.summary.switches, res.summary.tokens,
               colour ? " (base tokens in \033[36mcyan\033[0m)" : "");
    return 0;
  };
}

}  // namespace
BREADTH_CLI_COMMAND(baco, setup)
