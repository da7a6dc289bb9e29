// Ensemble baselines (BACO §5 ④): the logit ensemble's two-model loop and the response ensemble.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "methods/internal.hpp"
#include "sampling/uniform.hpp"

namespace breadth {
namespace {

// Logits widths can differ for one vocabulary (padded embedding tables): pad with -inf (probability 0).
torch::Tensor widen(const torch::Tensor& logits, int64_t V) {
  const int64_t have = logits.size(1);
  if (have == V) return logits;
  return torch::constant_pad_nd(logits, {0, V - have}, -std::numeric_limits<double>::infinity());
}

// log(w·softmax(lb) + (1−w)·softmax(la)), exact at the ends: w = 0 gives the aligned logits and w = 1
// the base logits unchanged, so those draws equal single-model sampling bit for bit.
torch::Tensor mix(const torch::Tensor& lb, const torch::Tensor& la, double w) {
  const int64_t V = std::max(lb.size(1), la.size(1));
  if (w == 0.0) return widen(la, V);
  if (w == 1.0) return widen(lb, V);
  auto b = torch::log_softmax(widen(lb, V).to(torch::kFloat32), -1) + std::log(w);
  auto a = torch::log_softmax(widen(la, V).to(torch::kFloat32), -1) + std::log1p(-w);
  return torch::logaddexp(b, a);
}

void validate_w(double w) {
  BREADTH_CHECK_ARG(w >= 0.0 && w <= 1.0, "logit_ensemble: options.w (the base model's weight) must be in "
                                          "[0, 1], got {}", w);
}

}  // namespace

MethodResult logit_ensemble(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                            const std::vector<std::string>& prompts, const LogitEnsembleOptions& opt) {
  methods::validate(opt, "logit_ensemble");
  validate_w(opt.w);
  BREADTH_CHECK_ARG(base && aligned, "logit_ensemble: give both models (base and aligned)");
  BREADTH_CHECK_ARG(!prompts.empty(), "logit_ensemble: give at least one prompt");
  BacoDecoder pair(base, aligned);  // checks tokenizers, compares the vocabularies
  if (!pair.shared_vocabulary())
    fail<VocabularyMismatch>(
        "logit_ensemble: the base and aligned models have different vocabularies, so their next-token "
        "distributions cannot be mixed token by token; give a base/aligned pair that shares a tokenizer "
        "(e.g. Llama-3-8B with Llama-3-8B-Instruct), or use nudging or BACO, which hand off through text");
  const auto bo = methods::baco_options(opt);
  const auto P = static_cast<int64_t>(prompts.size());
  const int64_t n = opt.num_samples, B = P * n;

  std::vector<std::vector<int32_t>> ids_a, ids_b;
  for (const auto& p : prompts) {
    ids_a.push_back(pair.aligned_prompt(p, bo));
    ids_b.push_back(pair.base_prompt(p, bo));
  }
  // The aligned prompt's generators: w = 0 draws exactly what generate(aligned) draws.
  std::vector<torch::Generator> gens;
  MethodResult result;
  result.method = "logit_ensemble";
  result.num_samples = n;
  result.samples.resize(static_cast<size_t>(B));
  for (int64_t p = 0; p < P; ++p) {
    const uint64_t key = sample_seed(opt.seed, prompt_key(ids_a[static_cast<size_t>(p)]));
    for (int64_t i = 0; i < n; ++i) {
      gens.push_back(make_generator(key, static_cast<uint64_t>(i)));
      auto& s = result.samples[static_cast<size_t>(p * n + i)];
      s.prompt_index = p;
      s.sample_index = i;
      s.source = opt.w == 0.0 ? "aligned" : opt.w == 1.0 ? "base" : "mixed";
    }
  }
  auto tok = aligned->tokenizer();
  std::vector<int32_t> eos = tok->eos_ids();
  for (int32_t e : base->tokenizer()->eos_ids())
    if (std::find(eos.begin(), eos.end(), e) == eos.end()) eos.push_back(e);

  // Prefill each model's prompts once and fork them n ways, as generate() does.
  auto start = [&](const CausalLM& m, const std::vector<std::vector<int32_t>>& ids, KvCache& cache) {
    size_t longest = 0;
    for (const auto& v : ids) longest = std::max(longest, v.size());
    cache = m.new_cache(P, static_cast<int64_t>(longest) + opt.max_new_tokens);
    auto logits = m.prefill(cache, ids);
    if (n > 1) {
      auto fork = torch::arange(P, torch::TensorOptions().dtype(torch::kInt64).device(logits.device()))
                      .repeat_interleave(n);
      cache = cache.select(fork);
      logits = logits.index_select(0, fork);
    }
    return logits;
  };
  KvCache cache_a, cache_b;
  torch::Tensor la = start(*aligned, ids_a, cache_a), lb = start(*base, ids_b, cache_b);

  Sampler sampler(opt.sampling);
  std::vector<bool> done(static_cast<size_t>(B), false);
  int64_t live = B;
  for (int64_t step = 0; step < opt.max_new_tokens && live > 0; ++step) {
    // The models may be on two devices: the mix is made on the aligned model's (one
    // device-to-device copy of the base logits a step; nothing moves when they share one).
    auto next = sampler.sample(mix(sampling::on_device(lb, la.device()), la, opt.w), gens);
    auto host = next.to(torch::kCPU);
    auto h = host.accessor<int64_t, 1>();
    for (int64_t r = 0; r < B; ++r) {
      if (done[static_cast<size_t>(r)]) continue;
      if (h[r] < 0)
        fail<NumericError>("logit_ensemble: sample {} has no valid next-token distribution (NaN logits)", r);
      auto& s = result.samples[static_cast<size_t>(r)];
      const auto id = static_cast<int32_t>(h[r]);
      s.tokens.push_back(id);
      ++result.generated_tokens;
      if (std::find(eos.begin(), eos.end(), id) != eos.end()) {
        s.finish = FinishReason::kEos;
      } else if (static_cast<int64_t>(s.tokens.size()) < opt.max_new_tokens) {
        continue;
      }
      done[static_cast<size_t>(r)] = true;
      --live;
    }
    if (opt.on_progress) {
      int64_t work = 0;
      for (int64_t r = 0; r < B; ++r)
        work += done[static_cast<size_t>(r)] ? opt.max_new_tokens
                                             : static_cast<int64_t>(result.samples[static_cast<size_t>(r)].tokens.size());
      if (!opt.on_progress(work, B * opt.max_new_tokens, "logit_ensemble"))
        fail<Cancelled>("logit_ensemble: cancelled by the progress callback");
    }
    if (live == 0) break;
    // Finished rows ride along (their draws are ignored); both models read the same token ids.
    auto feed = next.clamp_min(0);
    la = aligned->decode(cache_a, feed.to(la.device()));
    lb = base->decode(cache_b, feed.to(lb.device()));
  }
  for (auto& s : result.samples) {
    std::vector<int32_t> body = s.tokens;
    if (s.finish == FinishReason::kEos && !body.empty()) body.pop_back();
    s.text = tok->decode(body, /*skip_special=*/true);
  }
  return result;
}

std::vector<MethodSweepPoint> logit_ensemble_sweep(std::shared_ptr<const CausalLM> base,
                                                   std::shared_ptr<const CausalLM> aligned,
                                                   const std::vector<std::string>& prompts,
                                                   const std::vector<double>& ws,
                                                   const LogitEnsembleOptions& options) {
  BREADTH_CHECK_ARG(!ws.empty(), "logit_ensemble_sweep: give at least one w");
  for (double w : ws) validate_w(w);
  return methods::sweep(ws, options.on_progress, "logit_ensemble_sweep", [&](double w, ProgressCallback progress) {
    LogitEnsembleOptions o = options;
    o.w = w;
    o.on_progress = std::move(progress);
    return logit_ensemble(base, aligned, prompts, o);
  });
}

int64_t response_ensemble_base_count(double ratio, int64_t n) {
  BREADTH_CHECK_ARG(ratio >= 0.0 && ratio <= 1.0,
                    "response_ensemble: options.ratio (the base model's share of the n answers) must be in "
                    "[0, 1], got {}", ratio);
  BREADTH_CHECK_ARG(n >= 1, "response_ensemble: options.num_samples must be >= 1, got {}", n);
  return std::min<int64_t>(n, static_cast<int64_t>(std::floor(ratio * static_cast<double>(n) + 0.5)));
}

MethodResult response_ensemble(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                               const std::vector<std::string>& prompts,
                               const ResponseEnsembleOptions& opt) {
  methods::validate(opt, "response_ensemble");
  const int64_t n = opt.num_samples;
  const int64_t k = response_ensemble_base_count(opt.ratio, n);
  BREADTH_CHECK_ARG(base && aligned, "response_ensemble: give both models (base and aligned)");
  BREADTH_CHECK_ARG(!prompts.empty(), "response_ensemble: give at least one prompt");
  BacoDecoder pair(base, aligned);  // the same rendering as BACO
  const auto bo = methods::baco_options(opt);
  std::vector<std::vector<int32_t>> ids_a, ids_b;
  for (const auto& p : prompts) {
    ids_a.push_back(pair.aligned_prompt(p, bo));
    ids_b.push_back(pair.base_prompt(p, bo));
  }
  GenerateResult rb, ra;
  auto g = methods::generate_options(opt);
  if (k > 0) {
    g.num_samples = k;
    g.first_sample_index = 0;
    g.on_progress = methods::stage_progress(opt.on_progress, "response_ensemble", 0, 2);
    rb = generate_ids(*base, ids_b, g);
  }
  if (k < n) {
    g.num_samples = n - k;
    g.first_sample_index = k;
    g.on_progress = methods::stage_progress(opt.on_progress, "response_ensemble", 1, 2);
    ra = generate_ids(*aligned, ids_a, g);
  }
  auto mb = to_method_result("", rb, k, "base"), ma = to_method_result("", ra, n - k, "aligned");
  MethodResult out;
  out.method = "response_ensemble";
  out.num_samples = n;
  out.generated_tokens = rb.generated_tokens + ra.generated_tokens;
  for (int64_t p = 0; p < static_cast<int64_t>(prompts.size()); ++p) {
    for (int64_t i = 0; i < k; ++i) out.samples.push_back(std::move(mb.samples[static_cast<size_t>(p * k + i)]));
    for (int64_t i = 0; i < n - k; ++i)
      out.samples.push_back(std::move(ma.samples[static_cast<size_t>(p * (n - k) + i)]));
  }
  return out;
}

}  // namespace breadth
