// `breadth baco`: BACO decoding of one prompt with a base and an aligned model. Prints each sample
// with base-model tokens coloured (--color auto: on a terminal), or with --json every token's
// provenance. A token's bytes may end inside a UTF-8 character; JSON then also carries the exact
// bytes (docs/cli.md).
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "breadth/baco.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

// The library's defaults (shown by --help); the CLI restates none.
const breadth::BacoOptions kBaco;
const breadth::ModelOptions kModel;

struct Args {
  std::string base, aligned, rule = breadth::kDefaultRule, prompt, dtype = breadth::dtype_name(kModel.dtype),
                             device = kModel.device.str(), weights = breadth::weight_format_name(kModel.weights);
  double gamma = NAN;  // not given
  double temperature = kBaco.aligned_sampling.temperature, top_p = kBaco.aligned_sampling.top_p;
  int64_t n = kBaco.num_samples, max_tokens = kBaco.max_new_tokens, min_tokens = kBaco.min_new_tokens,
          retries = kBaco.max_retries;
  uint64_t seed = kBaco.seed;
  std::string color = "auto", step = breadth::baco_step_name(kBaco.step);
  std::string base_template;
  CLI::Option* base_template_opt = nullptr;  // not given: the library's default
  // Per model; empty: --device / --dtype.
  std::string base_device, aligned_device, base_dtype, aligned_dtype;
  bool json = false, eager = !kBaco.lazy;
};

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

// "text" as JSON (invalid UTF-8 replaced by U+FFFD on output) plus, when `s` is not valid UTF-8 on
// its own, "bytes": the exact bytes as a list of integers.
void put_text(nlohmann::json& j, const std::string& s) {
  j["text"] = s;
  if (!valid_utf8(s)) {
    auto bytes = nlohmann::json::array();
    for (unsigned char c : s) bytes.push_back(static_cast<int>(c));
    j["bytes"] = std::move(bytes);
  }
}

nlohmann::json num(float x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

nlohmann::json to_json(const breadth::BacoResult& r, const std::string& prompt) {
  using nlohmann::json;
  json samples = json::array();
  for (const auto& s : r.samples) {
    json tokens = json::array();
    for (const auto& t : s.tokens) {
      json tj = {{"id", t.id}, {"source", breadth::token_source_name(t.source)},
                 {"reason", breadth::choice_reason_name(t.reason)}, {"eos", t.eos},
                 {"p_base_max", num(t.p_base_max)}, {"p_aligned_max", num(t.p_aligned_max)},
                 {"h_base", num(t.h_base)}, {"h_aligned", num(t.h_aligned)}};
      put_text(tj, t.text);
      tokens.push_back(std::move(tj));
    }
    json sj = {{"sample_index", s.sample_index}, {"finish", breadth::finish_reason_name(s.finish)},
               {"retries", s.retries}, {"base_tokens", s.base_tokens()}, {"switches", s.switches()},
               {"tokens", tokens}};
    put_text(sj, s.text);
    samples.push_back(std::move(sj));
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
  sub->add_option("--base", a->base, "Base checkpoint (HF directory or .gguf); gets the prompt and a newline "
                  "(BACO Appendix A) unless --base-template")->required();
  sub->add_option("--aligned", a->aligned, "Aligned checkpoint; gets its chat template")->required();
  sub->add_option("--prompt", a->prompt, "The prompt (one user turn)")->required();
  a->base_template_opt = sub->add_option("--base-template", a->base_template,
                  "The base model's prompt as a format string: {prompt}, {system} (empty), {{ }} for braces; "
                  "e.g. 'Question: {prompt}\\nAnswer:' (a real newline: $'...\\n' in bash)");
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
  sub->add_option("--base-device", a->base_device, "The base model's device (default: --device)");
  sub->add_option("--aligned-device", a->aligned_device,
                  "The aligned model's device (default: --device); BACO's step runs there");
  sub->add_option("--base-dtype", a->base_dtype, "The base model's dtype (default: --dtype)");
  sub->add_option("--aligned-dtype", a->aligned_dtype, "The aligned model's dtype (default: --dtype)");
  sub->add_option("--weights", a->weights, "native (quantized GGUF weights stay quantized) | float (expanded to --dtype)")->capture_default_str();
  sub->add_flag("--json", a->json, "Print samples with every token's source and statistics as JSON");
  sub->add_flag("--eager", a->eager, "Advance both models every step (all statistics recorded)");
  sub->add_option("--step", a->step,
                  "auto | host-driven | resident (with --eager: the step stays on the device, read once)")
      ->capture_default_str();
  sub->add_option("--color", a->color, "Colour base-model tokens: auto (on a terminal) | always | never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  return [a] {
    // Fails before loading models on a bad rule.
    auto rule = breadth::make_rule(a->rule, std::isnan(a->gamma) ? std::nullopt : std::optional<double>(a->gamma),
                                   "--gamma");
    breadth::BacoOptions o;
    if (a->base_template_opt->count()) o.base_template = breadth::ChatTemplate::from_format(a->base_template);
    breadth::ModelOptions mo;
    mo.dtype = breadth::parse_dtype(a->dtype, "--dtype");
    mo.device = breadth::parse_device(a->device, "--device");
    mo.weights = breadth::parse_weight_format(a->weights, "--weights");
    // Each model may have its own device and dtype (base on one GPU, aligned on another, or CPU + GPU).
    auto for_model = [&](const std::string& device, const std::string& dtype, const char* device_opt,
                         const char* dtype_opt) {
      auto m = mo;
      if (!device.empty()) m.device = breadth::parse_device(device, device_opt);
      if (!dtype.empty()) m.dtype = breadth::parse_dtype(dtype, dtype_opt);
      return m;
    };
    const auto mo_base = for_model(a->base_device, a->base_dtype, "--base-device", "--base-dtype");
    const auto mo_aligned = for_model(a->aligned_device, a->aligned_dtype, "--aligned-device", "--aligned-dtype");
    const bool same = mo_base.device == mo_aligned.device && mo_base.dtype == mo_aligned.dtype;
    auto base = breadth::CausalLM::load(a->base, mo_base);
    auto aligned = a->aligned == a->base && same ? base : breadth::CausalLM::load(a->aligned, mo_aligned);
    breadth::BacoDecoder dec(base, aligned);

    o.num_samples = a->n;
    o.seed = a->seed;
    o.max_new_tokens = a->max_tokens;
    o.min_new_tokens = a->min_tokens;
    o.max_retries = a->retries;
    o.lazy = !a->eager;
    o.step = breadth::parse_baco_step(a->step, "--step");
    o.base_sampling.temperature = o.aligned_sampling.temperature = a->temperature;
    o.base_sampling.top_p = o.aligned_sampling.top_p = a->top_p;
    auto res = dec.generate({a->prompt}, *rule, o);

    if (a->json) {
      std::fputs(to_json(res, a->prompt).dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str(),
                 stdout);
      std::fputs("\n", stdout);
      return 0;
    }
    const bool colour = a->color == "always" || (a->color == "auto" && ::isatty(STDOUT_FILENO));
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
breadth::cli::Runner breadth::cli::add_baco(CLI::App& app) { return setup(app); }
