// Diverse beam search (Vijayakumar et al. 2016) with the Hamming diversity penalty: a pure step over
// log-probabilities, and a driver that runs it on a model's KV cache.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "methods/internal.hpp"

namespace breadth {

BeamStep diverse_beam_step(const torch::Tensor& logprobs, const std::vector<double>& scores,
                           const std::vector<bool>& finished, int64_t groups, double penalty) {
  BREADTH_CHECK_ARG(logprobs.dim() == 2, "diverse_beam_step: logprobs must be [beams, vocab], got {} dims",
                    logprobs.dim());
  const int64_t B = logprobs.size(0), V = logprobs.size(1);
  BREADTH_CHECK_ARG(groups >= 1 && B % groups == 0,
                    "diverse_beam_step: {} beams do not split into {} groups", B, groups);
  BREADTH_CHECK_ARG(static_cast<int64_t>(scores.size()) == B && static_cast<int64_t>(finished.size()) == B,
                    "diverse_beam_step: scores and finished need one entry per beam ({})", B);
  BREADTH_CHECK_ARG(penalty >= 0.0, "diverse_beam_step: penalty must be >= 0, got {}", penalty);
  const int64_t K = B / groups;
  const double kNegInf = -std::numeric_limits<double>::infinity();
  auto lp = logprobs.to(torch::kCPU, torch::kFloat64).contiguous();
  std::vector<double> count(static_cast<size_t>(V), 0.0);  // tokens chosen by earlier groups this step
  BeamStep out;
  out.parents.resize(static_cast<size_t>(B));
  out.tokens.resize(static_cast<size_t>(B));
  out.scores.resize(static_cast<size_t>(B));
  struct Cand {
    double score;
    int64_t beam;
    int32_t token;
  };
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<Cand> cands;
    auto pen = torch::from_blob(count.data(), {V}, torch::kFloat64).clone() * penalty;
    for (int64_t b = g * K; b < (g + 1) * K; ++b) {
      const double s = scores[static_cast<size_t>(b)];
      if (s == kNegInf) continue;  // a slot not in use yet (the first step's duplicates)
      if (finished[static_cast<size_t>(b)]) {
        cands.push_back({s, b, -1});
        continue;
      }
      // Only a beam's K best extensions can be among its group's K best.
      auto row = lp[b] - pen + s;
      auto sorted = row.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
      auto vals = std::get<0>(sorted), idx = std::get<1>(sorted);
      for (int64_t k = 0; k < std::min(K, V); ++k) {
        const double v = vals[k].item<double>();
        if (std::isnan(v) || v == kNegInf) break;
        cands.push_back({v, b, static_cast<int32_t>(idx[k].item<int64_t>())});
      }
    }
    BREADTH_CHECK_ARG(!cands.empty(), "diverse_beam_step: group {} has no beam in use", g);
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& c) {
      if (a.score != c.score) return a.score > c.score;
      if (a.beam != c.beam) return a.beam < c.beam;
      return a.token < c.token;
    });
    for (int64_t k = 0; k < K; ++k) {
      const auto slot = static_cast<size_t>(g * K + k);
      if (k < static_cast<int64_t>(cands.size())) {
        const auto& c = cands[static_cast<size_t>(k)];
        out.parents[slot] = c.beam;
        out.tokens[slot] = c.token;
        out.scores[slot] = c.score;
      } else {  // fewer candidates than beams: an unused slot
        out.parents[slot] = cands[0].beam;
        out.tokens[slot] = cands[0].token;
        out.scores[slot] = kNegInf;
      }
    }
    for (int64_t k = 0; k < std::min<int64_t>(K, static_cast<int64_t>(cands.size())); ++k) {
      const int32_t t = cands[static_cast<size_t>(k)].token;
      if (t >= 0) count[static_cast<size_t>(t)] += 1.0;
    }
  }
  return out;
}

MethodResult diverse_beam(const CausalLM& model, const std::vector<std::string>& prompts,
                          const DiverseBeamOptions& o) {
  methods::validate(o, "diverse_beam");
  BREADTH_CHECK_ARG(!prompts.empty(), "diverse_beam: give at least one prompt");
  BREADTH_CHECK_ARG(o.groups >= 1, "diverse_beam: options.groups must be >= 1, got {}", o.groups);
  BREADTH_CHECK_ARG(o.num_samples % o.groups == 0,
                    "diverse_beam: options.num_samples ({}) must be a multiple of options.groups ({}): each "
                    "group holds num_samples / groups beams", o.num_samples, o.groups);
  BREADTH_CHECK_ARG(o.penalty >= 0.0, "diverse_beam: options.penalty (the Hamming diversity penalty) must be "
                                      ">= 0, got {}", o.penalty);
  const int64_t n = o.num_samples, G = o.groups, K = n / G;
  const auto P = static_cast<int64_t>(prompts.size());
  auto tok = model.tokenizer();
  const auto& eos = tok->eos_ids();
  const double kNegInf = -std::numeric_limits<double>::infinity();
  MethodResult out;
  out.method = "diverse_beam";
  out.num_samples = n;
  for (int64_t p = 0; p < P; ++p) {
    auto ids = methods::encode_messages(model, {{"user", prompts[static_cast<size_t>(p)]}}, o.chat_template,
                                        "diverse_beam");
    KvCache cache = model.new_cache(1, static_cast<int64_t>(ids.size()) + o.max_new_tokens);
    auto logits = model.prefill(cache, {ids});
    auto dev = logits.device();
    auto fork = torch::zeros({n}, torch::TensorOptions().dtype(torch::kInt64).device(dev));
    cache = cache.select(fork);
    logits = logits.index_select(0, fork);
    std::vector<double> scores(static_cast<size_t>(n), kNegInf);
    for (int64_t g = 0; g < G; ++g) scores[static_cast<size_t>(g * K)] = 0.0;
    std::vector<std::vector<int32_t>> seqs(static_cast<size_t>(n));
    std::vector<bool> finished(static_cast<size_t>(n), false);
    for (int64_t step = 0; step < o.max_new_tokens; ++step) {
      auto st = diverse_beam_step(torch::log_softmax(logits.to(torch::kFloat32), -1), scores, finished, G,
                                  o.penalty);
      std::vector<std::vector<int32_t>> nseqs(static_cast<size_t>(n));
      std::vector<bool> nfin(static_cast<size_t>(n));
      bool all_done = true;
      for (int64_t b = 0; b < n; ++b) {
        const auto par = static_cast<size_t>(st.parents[static_cast<size_t>(b)]);
        nseqs[static_cast<size_t>(b)] = seqs[par];
        bool fin = finished[par];
        const int32_t t = st.tokens[static_cast<size_t>(b)];
        if (t >= 0) {
          nseqs[static_cast<size_t>(b)].push_back(t);
          ++out.generated_tokens;
          fin = std::find(eos.begin(), eos.end(), t) != eos.end();
        }
        nfin[static_cast<size_t>(b)] = fin;
        if (!fin && st.scores[static_cast<size_t>(b)] != kNegInf) all_done = false;
      }
      seqs = std::move(nseqs);
      finished = std::move(nfin);
      scores = st.scores;
      if (o.on_progress && !o.on_progress(p * o.max_new_tokens + step + 1, P * o.max_new_tokens, "diverse_beam"))
        fail<Cancelled>("diverse_beam: cancelled by the progress callback");
      if (all_done || step + 1 >= o.max_new_tokens) break;
      std::vector<int64_t> feed(st.tokens.begin(), st.tokens.end());
      for (auto& f : feed) f = std::max<int64_t>(f, 0);  // carried finished beams: a dummy id, ignored
      cache = cache.select(torch::tensor(st.parents, torch::kInt64).to(dev));
      logits = model.decode(cache, torch::tensor(feed, torch::kInt64).to(dev));
    }
    for (int64_t b = 0; b < n; ++b) {
      MethodSample s;
      s.prompt_index = p;
      s.sample_index = b;
      s.tokens = seqs[static_cast<size_t>(b)];
      s.finish = finished[static_cast<size_t>(b)] ? FinishReason::kEos : FinishReason::kLength;
      std::vector<int32_t> body = s.tokens;
      if (s.finish == FinishReason::kEos && !body.empty()) body.pop_back();
      s.text = tok->decode(body, /*skip_special=*/true);
      s.source = "model";
      s.score = scores[static_cast<size_t>(b)];
      out.samples.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace breadth
