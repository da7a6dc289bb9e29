// BacoDecoder: the two-model decoding loop with its invariants, lazy catch-up and text hand-off.
//
// One step for the live rows of a batch:
//   1. classify each row: the first token (aligned), inside a word (the owner's candidate does not
//      start a word: the owner continues), or free (a word boundary: the rule decides);
//   2. ask the rule with what is known (lazy), then with both models for the rows it left open;
//   3. apply invariant 3 (EOS) and the word-boundary check to the chosen candidate, and emit.
// A model's distribution for a row ("info": statistics plus its drawn candidate) is computed only
// when one of these needs it; its cache catches up on every token it missed in one forward pass.
//
// One representation per step: a lane's statistics are [B] tensors on the model's device, written
// where they are computed; the rule's StepBatch is cut from them with batched ops. The host gets
// the drawn candidates (the decision logic and the text branch on them), the rule's routes (one
// copy per ask) and, once per step before emitting, one copy of each lane's statistics for the
// provenance records.
//
// Two devices. The models may live on different devices (base on the CPU and aligned on a GPU, or
// two GPUs) and in different dtypes. Each lane's KV cache, the ids fed to it, its logits (float32
// whatever the model's dtype), statistics (float32) and draws stay on its model's device. The step's
// shared tensors (the rule's StepBatch, the routing uniforms, positions, routes, the resident step's
// decisions and emitted ids) live on one step device: the aligned model's (device_). A lane on
// another device sends its per-step results there as one group (move_group: one copy per group),
// and the ids fed to a model go to that model's device. A move between two devices is a
// device-to-device copy queued behind both devices' work, not a host read; only a GPU -> CPU move
// (base on a GPU, aligned on the CPU) makes the host wait, like any read.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "baco/handoff.hpp"
#include "baco/seeds.hpp"
#include "baco/word_boundary.hpp"
#include "breadth/baco.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/model.hpp"
#include "core/check.hpp"
#include "sampling/uniform.hpp"

namespace breadth {
namespace {

using baco::Classes;
using baco::token_text;

constexpr int kB = 0;  // lane index: base
constexpr int kA = 1;  // lane index: aligned

/// One model's side of the batch.
struct Lane {
  const CausalLM* model = nullptr;
  const Tokenizer* tok = nullptr;
  std::unique_ptr<Classes> cls;
  std::unique_ptr<Sampler> sampler;
  bool mask_eos = false;  ///< BacoOptions::ignore_eos: EOS ids are masked before every draw
  std::vector<torch::Generator>* gens = nullptr;  // indexed by result row
  std::unordered_set<int64_t> eos;
  torch::Tensor eos_ids;       // [E] int64
  // Per-token tables over the model's vocabulary [V] (bool): the draws' tables on the model's
  // device, the rule's (StepBatch's class flags) on the step device.
  torch::Tensor word_start;    // starts_word: the aligned word-start redraw's mask (model's device)
  torch::Tensor punct_of;      // punctuation/formatting, EOS ids included (StepBatch's *_punct; step device)
  torch::Tensor function_of;   // starts a function word (StepBatch's *_function; step device)
  torch::Tensor eos_of;        // an EOS id (the resident step's invariant-3 checks; model's device)
  const baco::FragmentEncoder* frag = nullptr;

  KvCache cache;
  torch::Tensor logits;        // [B, V]; row b is current when pending[b] is empty
  std::vector<std::vector<int32_t>> pending;
  std::vector<size_t> synced;  // bytes of the row's text this lane's context covers
  int64_t forwards = 0, fed = 0;

  // This step, on the logits' device, [B]: statistics of the untempered distribution (NaN, -1 for
  // rows not computed) and the drawn candidates (-1 for rows not drawn).
  torch::Tensor pmax, H, top1, cand_t, has_cand_t;
  // This step, on the host: what the decision logic branches on.
  std::vector<uint8_t> has_stats, has_cand;
  std::vector<int32_t> cand, redraws;
  std::vector<std::string> cand_text;  // token_text(cand) where has_cand (rules that read text)

  bool is_eos(int64_t id) const { return eos.count(id) != 0; }
  /// Word edges of one token for invariant 2 (baco::starts_new_word): its TokenClasses flag, or
  /// punctuation/formatting, or an EOS id.
  bool starts_word(int64_t id) const { return cls->starts_word(id) || cls->punct(id) || is_eos(id); }
  bool ends_word(int64_t id) const { return cls->ends_word(id) || cls->punct(id) || is_eos(id); }

  void reset_step(int64_t B) {
    const auto n = static_cast<size_t>(B);
    has_stats.assign(n, 0);
    has_cand.assign(n, 0);
    cand.assign(n, -1);
    redraws.assign(n, 0);
    cand_text.assign(n, std::string());
    if (!pmax.defined() || pmax.size(0) != B || pmax.device() != logits.device()) {
      auto on = torch::TensorOptions().device(logits.device());
      pmax = torch::empty({B}, on.dtype(torch::kFloat32));
      H = torch::empty({B}, on.dtype(torch::kFloat32));
      top1 = torch::empty({B}, on.dtype(torch::kInt64));
      cand_t = torch::empty({B}, on.dtype(torch::kInt64));
      has_cand_t = torch::empty({B}, on.dtype(torch::kBool));
    }
    pmax.fill_(NAN);
    H.fill_(NAN);
    top1.fill_(-1);
    cand_t.fill_(-1);
    has_cand_t.fill_(false);
  }
};

struct Row {
  int64_t out = 0;      // index in the result (and in the generator vectors)
  int64_t prompt = 0;
  bool active = true;
  int64_t pos = 0;
  int owner = kA;
  bool prev_ends_word = true;  // the last token's class ends a word (true before the first token)
  std::string text;
};

struct Shared {
  const BacoOptions* opt;
  const BacoRule* rule;
  bool shared_vocab;
  bool resident = false;  ///< BacoStep::kResident
  const std::vector<std::string>* prompts;
  std::vector<torch::Generator> gens[2];
  std::vector<torch::Generator> route_gens;
  KvCache prompt_cache[2];
  torch::Tensor prompt_logits[2];
  std::vector<BacoSample>* samples;
  int64_t* steps;
  int64_t emitted = 0, possible = 0;
};

/// Row indices on the host (from_blob and clone: torch::tensor would count as a device move).
torch::Tensor index_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt64).clone();
}

/// [B] tensors of one lane (any dtypes, one device) on `d`, moved as one group: packed into one
/// float64 [k, B] tensor (float32 statistics, int64 ids below 2^53 and bools pass through float64
/// exactly), copied once and unpacked in each tensor's own dtype. Nothing is copied (and the host
/// sync hook counts nothing) when they are on `d` already, so a run with both models on one device
/// is the one-device run. Between two devices the copy is a device-to-device copy, non-blocking
/// where that is legal: GPU -> GPU, and CPU -> GPU from pinned memory (sampling::to_device); a
/// GPU -> CPU copy must block (the host reads the result), so with base on a GPU and aligned on the
/// CPU each such group is one more host read. tests/common/host_syncs.hpp counts each group's move
/// as one call (one aten::to: the dtype casts around it are not moves): with the base lane on
/// another device a resident step counts one call more than the same step with both models on the
/// aligned model's device (less the base lane's own host-to-device copies, which vanish when base is
/// on the CPU), and a host-driven step one more per rule ask. With one device it counts the same.
std::vector<torch::Tensor> move_group(const std::vector<torch::Tensor>& ts, torch::Device d) {
  if (ts.empty() || ts.front().device() == d) return ts;
  std::vector<torch::Tensor> wide;
  wide.reserve(ts.size());
  for (const auto& t : ts) wide.push_back(t.to(torch::kFloat64));
  auto packed = torch::stack(wide);
  const auto from = packed.device();
  torch::Tensor moved;
  if (from.is_cpu()) moved = sampling::to_device(packed, d);
  else moved = packed.to(d, torch::kFloat64, /*non_blocking=*/!d.is_cpu());
  std::vector<torch::Tensor> out;
  out.reserve(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out.push_back(moved[static_cast<int64_t>(i)].to(ts[i].scalar_type()));
  return out;
}

class Run {
 public:
  Run(Shared& sh, Lane lanes[2], const std::vector<int64_t>& outs) : sh_(sh), lanes_(lanes) {
    const auto n = static_cast<int64_t>(sh_.opt->num_samples);
    rows_.resize(outs.size());
    std::vector<int64_t> prompt_rows;
    for (size_t b = 0; b < outs.size(); ++b) {
      rows_[b].out = outs[b];
      rows_[b].prompt = outs[b] / n;
      prompt_rows.push_back(rows_[b].prompt);
    }
    auto idx = index_tensor(prompt_rows);
    for (int l : {kB, kA}) {
      auto& L = lanes_[l];
      L.cache = sh_.prompt_cache[l].select(idx.to(L.model->device()));
      L.logits = sh_.prompt_logits[l].index_select(0, idx.to(sh_.prompt_logits[l].device()));
      L.pending.assign(outs.size(), {});
      L.synced.assign(outs.size(), 0);
      L.forwards = L.fed = 0;
    }
    std::vector<int64_t> out_rows;
    for (const auto& r : rows_) out_rows.push_back(r.out);
    device_ = lanes_[kA].logits.device();
    out_t_ = index_tensor(out_rows).to(device_);
  }

  void run() {
    const size_t B = rows_.size();
    while (true) {
      std::vector<int64_t> live;
      for (size_t b = 0; b < B; ++b)
        if (rows_[b].active) live.push_back(static_cast<int64_t>(b));
      if (live.empty()) break;
      step(live);
      ++*sh_.steps;
      if (sh_.opt->on_progress &&
          !sh_.opt->on_progress(sh_.emitted, sh_.possible, "baco"))
        fail<Cancelled>("BACO decoding cancelled by the progress callback");
    }
    for (int l : {kB, kA}) {
      (l == kB ? base_forwards : aligned_forwards) += lanes_[l].forwards;
      (l == kB ? base_fed : aligned_fed) += lanes_[l].fed;
    }
  }

  const std::vector<Row>& rows() const { return rows_; }
  int64_t base_forwards = 0, aligned_forwards = 0, base_fed = 0, aligned_fed = 0;

 private:
  // ---------------------------------------------------------------------------- model info

  /// Re-tokenizes the text a lane has not seen (another vocabulary's tokens) into its pending ids.
  void sync(Lane& L, int64_t b) {
    auto& text = rows_[static_cast<size_t>(b)].text;
    auto& s = L.synced[static_cast<size_t>(b)];
    if (s >= text.size()) return;
    auto ids = L.frag->encode(std::string_view(text).substr(s));
    auto& p = L.pending[static_cast<size_t>(b)];
    p.insert(p.end(), ids.begin(), ids.end());
    s = text.size();
  }

  /// Feeds every live row's pending tokens to the lane in one forward pass.
  void catch_up(Lane& L) {
    std::vector<int64_t> fed_rows;
    int64_t T = 0;
    for (size_t b = 0; b < rows_.size(); ++b) {
      if (!rows_[b].active || L.pending[b].empty()) continue;
      fed_rows.push_back(static_cast<int64_t>(b));
      T = std::max<int64_t>(T, static_cast<int64_t>(L.pending[b].size()));
    }
    if (fed_rows.empty()) return;
    const auto B = static_cast<int64_t>(rows_.size());
    auto ids = torch::zeros({B, T}, torch::kInt64);
    auto valid = torch::zeros({B, T}, torch::kBool);
    auto ia = ids.accessor<int64_t, 2>();
    auto va = valid.accessor<bool, 2>();
    for (auto b : fed_rows) {
      auto& p = L.pending[static_cast<size_t>(b)];
      for (size_t t = 0; t < p.size(); ++t) {
        ia[b][static_cast<int64_t>(t)] = p[t];
        va[b][static_cast<int64_t>(t)] = true;
      }
      L.fed += static_cast<int64_t>(p.size());
      p.clear();
    }
    auto dev = L.model->device();
    auto out = L.model->forward(L.cache, sampling::to_device(ids, dev), sampling::to_device(valid, dev)).logits;
    ++L.forwards;
    auto idx = sampling::to_device(index_tensor(fed_rows), out.device());
    L.logits.index_copy_(0, sampling::on_device(idx, L.logits.device()),
                         sampling::on_device(out.index_select(0, idx), L.logits.device()));
  }

  /// Statistics of the untempered distribution for `rows` (catching up first).
  void stats(int l, const std::vector<int64_t>& rows) {
    auto& L = lanes_[l];
    std::vector<int64_t> need;
    for (auto b : rows)
      if (!L.has_stats[static_cast<size_t>(b)]) need.push_back(b);
    if (need.empty()) return;
    if (!sh_.shared_vocab)
      for (auto b : need) sync(L, b);
    bool stale = false;
    for (auto b : need) stale = stale || !L.pending[static_cast<size_t>(b)].empty();
    if (stale) catch_up(L);
    auto idx = sampling::to_device(index_tensor(need), L.logits.device());
    auto lg = L.logits.index_select(0, idx).to(torch::kFloat32);
    auto logp = torch::log_softmax(lg, -1);
    auto p = logp.exp();
    auto h = -torch::where(p > 0, p * logp, torch::zeros_like(p)).sum(-1);
    auto pm = std::get<0>(p.max(-1));
    auto t1 = lg.argmax(-1);
    // They stay where they were computed; the step's batch and records read them from there.
    L.H.index_copy_(0, idx, h);
    L.pmax.index_copy_(0, idx, pm);
    L.top1.index_copy_(0, idx, t1);
    for (auto b : need) L.has_stats[static_cast<size_t>(b)] = 1;
  }

  /// Statistics plus the lane's candidate for `rows`. The aligned candidate is never an EOS that is
  /// not the aligned top-1 (invariant 3: such a draw is redrawn with EOS masked).
  void provide(int l, const std::vector<int64_t>& rows) {
    stats(l, rows);
    auto& L = lanes_[l];
    std::vector<int64_t> need, gen_rows;
    for (auto b : rows)
      if (!L.has_cand[static_cast<size_t>(b)]) {
        need.push_back(b);
        gen_rows.push_back(rows_[static_cast<size_t>(b)].out);
      }
    if (need.empty()) return;
    auto idx = index_tensor(need).to(L.logits.device());
    auto lg = L.logits.index_select(0, idx);
    if (L.mask_eos && L.eos_ids.numel() > 0)
      lg.index_fill_(1, L.eos_ids.to(lg.device()), -std::numeric_limits<float>::infinity());
    auto ids = L.sampler->sample(lg, *L.gens, gen_rows).to(torch::kInt64);
    // The candidates come to the host (classification and text branch on them) in one copy; the
    // aligned lane's top-1 of the same rows rides along for invariant 3's check below.
    const bool check_eos = l == kA && !L.eos.empty();
    auto host = (check_eos ? torch::stack({ids, L.top1.index_select(0, idx).to(ids.device())})
                           : ids.unsqueeze(0))
                    .cpu()
                    .contiguous();
    auto ha = host.accessor<int64_t, 2>();
    for (size_t i = 0; i < need.size(); ++i) {
      auto b = static_cast<size_t>(need[i]);
      auto id = ha[0][static_cast<int64_t>(i)];
      BREADTH_CHECK_ARG(id >= 0, "BACO: the {} model's sampler found no token to draw (NaN logits?)",
                        l == kB ? "base" : "aligned");
      L.cand[b] = static_cast<int32_t>(id);
      L.has_cand[b] = 1;
    }
    L.cand_t.index_copy_(0, idx, ids.to(L.cand_t.device()));
    L.has_cand_t.index_fill_(0, idx, true);
    if (check_eos) {
      std::vector<int64_t> redo, redo_gen, redo_pos;
      for (size_t i = 0; i < need.size(); ++i) {
        auto b = static_cast<size_t>(need[i]);
        if (L.is_eos(L.cand[b]) && L.cand[b] != ha[1][static_cast<int64_t>(i)]) {
          redo.push_back(need[i]);
          redo_gen.push_back(rows_[b].out);
          redo_pos.push_back(static_cast<int64_t>(i));
        }
      }
      if (!redo.empty()) {
        auto masked = lg.index_select(0, index_tensor(redo_pos).to(lg.device())).clone();
        masked.index_fill_(1, L.eos_ids.to(masked.device()), -std::numeric_limits<float>::infinity());
        auto again = L.sampler->sample(masked, *L.gens, redo_gen).to(torch::kInt64);
        auto again_host = again.cpu().contiguous();
        auto aa = again_host.accessor<int64_t, 1>();
        for (size_t i = 0; i < redo.size(); ++i) {
          auto b = static_cast<size_t>(redo[i]);
          L.cand[b] = static_cast<int32_t>(aa[static_cast<int64_t>(i)]);
          L.redraws[b] += 1;
        }
        L.cand_t.index_copy_(0, index_tensor(redo).to(L.cand_t.device()), again.to(L.cand_t.device()));
      }
    }
    for (auto b : need)
      L.cand_text[static_cast<size_t>(b)] = token_text(*L.tok, L.cand[static_cast<size_t>(b)]);
  }

  /// A fresh draw for row `b` with the lane's EOS ids masked.
  int32_t redraw_without_eos(int l, int64_t b) {
    auto& L = lanes_[l];
    auto lg = L.logits.index_select(0, index_tensor({b}).to(L.logits.device())).clone();
    lg.index_fill_(1, L.eos_ids.to(lg.device()), -std::numeric_limits<float>::infinity());
    auto id = L.sampler->sample(lg, *L.gens, {rows_[static_cast<size_t>(b)].out})[0].item<int64_t>();
    BREADTH_CHECK_ARG(id >= 0, "BACO: the {} model has no token but EOS to draw", l == kB ? "base" : "aligned");
    return static_cast<int32_t>(id);
  }

  /// The aligned model's draw restricted to tokens that begin a word (and without EOS unless it is
  /// the top-1): used only when the base model owns an unfinished word and the aligned model must
  /// take the step. Called while emitting, so the aligned top-1 is read from the step's host copy.
  int32_t aligned_word_start_draw(int64_t b) {
    auto& L = lanes_[kA];
    auto lg = L.logits.index_select(0, index_tensor({b}).to(L.logits.device())).clone();
    auto ok = L.word_start.to(lg.device()).clone();
    if (!L.eos.empty() && !L.is_eos(host_[kA].top1(b)))
      ok.index_fill_(0, L.eos_ids.to(ok.device()), false);
    lg.masked_fill_(~ok.unsqueeze(0), -std::numeric_limits<float>::infinity());
    auto id = L.sampler->sample(lg, *L.gens, {rows_[static_cast<size_t>(b)].out})[0].item<int64_t>();
    BREADTH_CHECK_ARG(id >= 0, "BACO: the aligned model has no word-starting token to draw");
    L.redraws[static_cast<size_t>(b)] += 1;
    return static_cast<int32_t>(id);
  }

  // ---------------------------------------------------------------------------- decisions

  /// The rule's view of `rows`, cut from the lanes' step tensors with batched ops (on the step
  /// device). A model's statistics show only where its candidate was drawn: `has_base` /
  /// `has_aligned` mean "this model's information is present", and eager decoding computes
  /// statistics before any candidate. A base lane on another device sends its step tensors to the
  /// step device as one group per ask (at most two asks a step).
  StepBatch batch_for(const std::vector<int64_t>& rows) {
    auto& Lb = lanes_[kB];
    auto& La = lanes_[kA];
    auto b = move_group({Lb.pmax, Lb.H, Lb.top1, Lb.cand_t, Lb.has_cand_t}, device_);
    auto s = step_tensors({b[0], b[1], b[2]}, {La.pmax, La.H, La.top1}, b[4], La.has_cand_t, b[3], La.cand_t)
                 .select(sampling::to_device(index_tensor(rows), device_));
    // Text for rules that read it: views into this step's state.
    const auto n = rows.size();
    s.prompt.reserve(n);
    s.generated.reserve(n);
    s.base_candidate_text.reserve(n);
    s.aligned_candidate_text.reserve(n);
    for (auto b64 : rows) {
      auto b = static_cast<size_t>(b64);
      s.prompt.emplace_back((*sh_.prompts)[static_cast<size_t>(rows_[b].prompt)]);
      s.generated.emplace_back(rows_[b].text);
      s.base_candidate_text.emplace_back(Lb.has_cand[b] ? std::string_view(Lb.cand_text[b])
                                                        : std::string_view());
      s.aligned_candidate_text.emplace_back(La.has_cand[b] ? std::string_view(La.cand_text[b])
                                                           : std::string_view());
    }
    return s;
  }

  /// A lane's statistics for the step, [B] on the step device.
  struct LaneStats {
    torch::Tensor pmax, H, top1;
  };

  /// Every row of the step as the rule sees it, with a model's information present where `has_*`
  /// says so: its statistics (NaN elsewhere), its candidate and the aligned top-1 (-1 elsewhere),
  /// token classes by table lookup (an id of -1 looks up id 0 and is masked off). Every argument is
  /// on the step device, and so is the batch; no text.
  StepBatch step_tensors(const LaneStats& sb, const LaneStats& sa, const torch::Tensor& has_b,
                         const torch::Tensor& has_a, const torch::Tensor& cand_b, const torch::Tensor& cand_a) const {
    const auto& Lb = lanes_[kB];
    const auto& La = lanes_[kA];
    StepBatch s;
    s.has_base = has_b;
    s.has_aligned = has_a;
    s.p_base_max = torch::where(has_b, sb.pmax, NAN);
    s.h_base = torch::where(has_b, sb.H, NAN);
    s.p_aligned_max = torch::where(has_a, sa.pmax, NAN);
    s.h_aligned = torch::where(has_a, sa.H, NAN);
    s.base_candidate = torch::where(has_b, cand_b, -1);
    s.aligned_candidate = torch::where(has_a, cand_a, -1);
    s.aligned_top1 = torch::where(has_a, sa.top1, -1);
    auto cls = [](const torch::Tensor& table, const torch::Tensor& ids, const torch::Tensor& has) {
      return table.index_select(0, ids.clamp_min(0)) & has;
    };
    s.base_candidate_punct = cls(Lb.punct_of, s.base_candidate, has_b);
    s.base_candidate_function = cls(Lb.function_of, s.base_candidate, has_b);
    s.aligned_top1_punct = cls(La.punct_of, s.aligned_top1, has_a);
    s.aligned_top1_function = cls(La.function_of, s.aligned_top1, has_a);
    s.u = u_t_;
    s.position = pos_t_;
    s.row = out_t_;
    return s;
  }

  /// The rule's routes for a batch ([R] on the batch's device), checked for shape.
  torch::Tensor routes(const StepBatch& s) const {
    auto r = sh_.rule->decide(s);
    BREADTH_CHECK_ARG(r.defined() && r.dim() == 1 && r.size(0) == s.size(),
                      "rule '{}' returned {} routes for {} rows", sh_.rule->name(),
                      r.defined() && r.dim() == 1 ? r.size(0) : -1, s.size());
    return r;
  }

  /// The rule's routes for `rows`: one batch in, one copy of the routes back to the host.
  std::vector<BacoChoice> ask(const std::vector<int64_t>& rows) {
    auto host = routes(batch_for(rows)).to(torch::kCPU, torch::kInt8).contiguous();
    auto a = host.accessor<int8_t, 1>();
    std::vector<BacoChoice> v(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) v[i] = static_cast<BacoChoice>(a[static_cast<int64_t>(i)]);
    return v;
  }

  std::vector<BacoChoice> decide(const std::vector<int64_t>& rows) {
    std::vector<BacoChoice> out(rows.size(), BacoChoice::kUndecided);
    if (rows.empty()) return out;
    const Needs first = sh_.rule->first_needs();
    if (first & kNeedsBase) provide(kB, rows);
    if (first & kNeedsAligned) provide(kA, rows);
    auto got = ask(rows);
    std::vector<int64_t> open;
    std::vector<size_t> open_at;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (got[i] == BacoChoice::kUndecided) {
        open.push_back(rows[i]);
        open_at.push_back(i);
      } else {
        out[i] = got[i];
      }
    }
    if (!open.empty()) {
      provide(kB, open);
      provide(kA, open);
      auto again = ask(open);
      for (size_t k = 0; k < open.size(); ++k) {
        BREADTH_CHECK_ARG(again[k] == BacoChoice::kBase || again[k] == BacoChoice::kAligned,
                          "rule '{}' left a step undecided with both models' information; a rule "
                          "must return BacoChoice::kBase or BacoChoice::kAligned for a full view",
                          sh_.rule->name());
        out[open_at[k]] = again[k];
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------- one step

  /// One host copy of a lane's statistics for the step's provenance records (nothing when the
  /// step computed none). float32 and int64 ids < 2^53 pass through float64 exactly.
  struct HostStats {
    torch::Tensor t;  // [3, B] float64 on the host, contiguous: max P, H, top-1
    float pmax(int64_t b) const { return static_cast<float>(at(0, b)); }
    float H(int64_t b) const { return static_cast<float>(at(1, b)); }
    int32_t top1(int64_t b) const { return static_cast<int32_t>(at(2, b)); }
    double at(int64_t k, int64_t b) const { return t.data_ptr<double>()[k * t.size(1) + b]; }
  };

  void step(const std::vector<int64_t>& live) {
    begin_step(live);
    if (sh_.resident) step_resident(live);
    else step_host_driven(live);
  }

  /// What both kinds of step start with: the lanes' step state, the routing u and positions, and
  /// in eager decoding both models' statistics for every live row.
  void begin_step(const std::vector<int64_t>& live) {
    const size_t B = rows_.size();
    for (int l : {kB, kA}) lanes_[l].reset_step(static_cast<int64_t>(B));
    // The routing u of every live row (drawn whether the rule reads it or not, so that a sample's
    // stream does not depend on the rule's path), and the rows' positions, for the rule's batch.
    auto u = torch::zeros({static_cast<int64_t>(B)}, torch::kFloat64);
    auto pos = torch::empty({static_cast<int64_t>(B)}, torch::kInt64);
    {
      auto ua = u.accessor<double, 1>();
      auto pa = pos.accessor<int64_t, 1>();
      for (auto b : live)
        ua[b] = sampling::next_uniform(sh_.route_gens[static_cast<size_t>(rows_[static_cast<size_t>(b)].out)]);
      for (size_t b = 0; b < B; ++b) pa[static_cast<int64_t>(b)] = rows_[b].pos;
    }
    u_t_ = sampling::to_device(u, device_);
    pos_t_ = sampling::to_device(pos, device_);
    if (!sh_.opt->lazy && sh_.shared_vocab) {
      stats(kB, live);
      stats(kA, live);
    }
  }

  /// BacoStep::kHostDriven: candidates and routes come to the host as each decision needs them.
  void step_host_driven(const std::vector<int64_t>& live) {
    const size_t B = rows_.size();
    // 1. Classify: rows at a word boundary whatever the candidate need no owner's candidate.
    std::vector<int64_t> first, owner_rows[2];
    std::vector<uint8_t> mid_char(B, 0);
    for (auto b : live) {
      const auto& r = rows_[static_cast<size_t>(b)];
      mid_char[static_cast<size_t>(b)] = baco::ends_mid_character(r.text);
      if (r.pos == 0) first.push_back(b);
      else if (!baco::starts_new_word(r.prev_ends_word, false, mid_char[static_cast<size_t>(b)]))
        owner_rows[r.owner].push_back(b);
    }
    provide(kB, owner_rows[kB]);
    provide(kA, owner_rows[kA]);
    provide(kA, first);
    std::vector<int64_t> free_rows;
    std::vector<std::pair<int64_t, int>> forced;  // (row, lane)
    for (auto b : live) {
      const auto bs = static_cast<size_t>(b);
      const auto& r = rows_[bs];
      if (r.pos == 0) continue;
      if (baco::starts_new_word(r.prev_ends_word, false, mid_char[bs])) {
        free_rows.push_back(b);
        continue;
      }
      auto& L = lanes_[r.owner];
      if (baco::starts_new_word(r.prev_ends_word, L.starts_word(L.cand[bs]), mid_char[bs]))
        free_rows.push_back(b);
      else
        forced.emplace_back(b, r.owner);
    }

    // 2. The rule decides the free rows.
    auto routes = decide(free_rows);
    std::vector<int64_t> to_base;
    for (size_t i = 0; i < free_rows.size(); ++i)
      if (routes[i] == BacoChoice::kBase) to_base.push_back(free_rows[i]);
    provide(kB, to_base);
    std::vector<int64_t> to_aligned;
    std::vector<ChoiceReason> reason(B, ChoiceReason::kRule);
    for (size_t i = 0; i < free_rows.size(); ++i) {
      auto b = free_rows[i];
      if (routes[i] == BacoChoice::kAligned) {
        to_aligned.push_back(b);
      } else if (lanes_[kB].is_eos(lanes_[kB].cand[static_cast<size_t>(b)])) {
        routes[i] = BacoChoice::kAligned;  // invariant 3: base EOS hands the step to the aligned model
        reason[static_cast<size_t>(b)] = ChoiceReason::kEosHandoff;
        to_aligned.push_back(b);
      }
    }
    provide(kA, to_aligned);

    // 3. Emit, with one host copy of each lane's statistics for the records.
    for (int l : {kB, kA}) {
      auto& L = lanes_[l];
      const bool any = std::any_of(L.has_stats.begin(), L.has_stats.end(), [](uint8_t x) { return x != 0; });
      host_[l].t = any ? torch::stack({L.pmax.to(torch::kFloat64), L.H.to(torch::kFloat64),
                                       L.top1.to(torch::kFloat64)})
                             .cpu()
                             .contiguous()
                       : torch::Tensor();
    }
    for (auto b : first) emit(b, kA, lanes_[kA].cand[static_cast<size_t>(b)], ChoiceReason::kFirstToken);
    for (auto [b, l] : forced) {
      auto& L = lanes_[l];
      auto id = L.cand[static_cast<size_t>(b)];
      // EOS starts a word, so an owner proposes it inside one only while a character is unfinished;
      // base may not end the text (invariant 3) and must finish the character.
      if (l == kB && L.is_eos(id)) id = redraw_without_eos(kB, b);
      emit(b, l, id, ChoiceReason::kInWord);
    }
    for (size_t i = 0; i < free_rows.size(); ++i) {
      auto b = free_rows[i];
      auto bs = static_cast<size_t>(b);
      const auto& r = rows_[bs];
      const int chosen = routes[i] == BacoChoice::kBase ? kB : kA;
      const int other = 1 - chosen;
      auto& L = lanes_[chosen];
      int32_t id = L.cand[bs];
      ChoiceReason why = reason[bs];
      // The chosen model's candidate must not continue a word the other model started.
      if (r.owner == other && !baco::starts_new_word(r.prev_ends_word, L.starts_word(id), mid_char[bs])) {
        auto& O = lanes_[other];
        if (!(other == kB && O.is_eos(O.cand[bs]))) {
          emit(b, other, O.cand[bs], ChoiceReason::kInWord);
          continue;
        }
        id = aligned_word_start_draw(b);  // the base owner proposes EOS: aligned takes a new word
      }
      emit(b, chosen, id, why);
    }
  }

  // ---------------------------------------------------------------------------- resident step

  /// BacoStep::kResident: step_host_driven's decisions for every live row at once, on tensors on
  /// the step device, read by the host once. Each lane draws ahead every candidate the step might
  /// use, with the uniforms its generator would give (peeked), on its own model's device; the host
  /// advances each generator by the number of draws the decisions used, so the streams are those of
  /// the host-driven step. A base lane on another device sends its draws and statistics to the step
  /// device as one group (move_group) before the decisions.
  void step_resident(const std::vector<int64_t>& live) {
    const auto B = static_cast<int64_t>(rows_.size());
    auto& Lb = lanes_[kB];
    auto& La = lanes_[kA];
    const auto dev = device_;
    const auto dev_b = Lb.logits.device();
    const float ninf = -std::numeric_limits<float>::infinity();

    // The host's knowledge of each row: flags [6, B] and peeked uniforms [5, B] (aligned: its
    // candidate, the EOS-free redraw, the word-start draw after one or two draws; base: its
    // candidate, the EOS-free redraw).
    enum { kLive, kFirst, kInWord, kOwnerBase, kPrevEnds, kMid, kFlags };
    auto flags = torch::zeros({kFlags, B}, torch::kBool);
    auto unif = torch::zeros({5, B}, torch::kFloat64);
    {
      auto f = flags.accessor<bool, 2>();
      auto u = unif.accessor<double, 2>();
      for (auto b : live) {
        const auto& r = rows_[static_cast<size_t>(b)];
        const bool mid = baco::ends_mid_character(r.text);
        f[kLive][b] = true;
        f[kFirst][b] = r.pos == 0;
        f[kInWord][b] = r.pos > 0 && !baco::starts_new_word(r.prev_ends_word, false, mid);
        f[kOwnerBase][b] = r.owner == kB;
        f[kPrevEnds][b] = r.prev_ends_word;
        f[kMid][b] = mid;
        const auto out = static_cast<size_t>(r.out);
        auto ua = sampling::peek_uniforms((*La.gens)[out], 3);
        auto ub = sampling::peek_uniforms((*Lb.gens)[out], 2);
        for (int k = 0; k < 3; ++k) u[k][b] = ua[static_cast<size_t>(k)];
        for (int k = 0; k < 2; ++k) u[3 + k][b] = ub[static_cast<size_t>(k)];
      }
    }
    auto fl = sampling::to_device(flags, dev);
    auto ut = sampling::to_device(unif, dev);
    // The base lane's uniforms on its own device (a host -> device copy where that is not dev's).
    auto ub = dev_b == dev ? ut.narrow(0, 3, 2) : sampling::to_device(unif.narrow(0, 3, 2).contiguous(), dev_b);
    auto live_t = fl[kLive], first = fl[kFirst] & live_t, in_word = fl[kInWord] & live_t;
    auto owner_base = fl[kOwnerBase], prev_ends = fl[kPrevEnds], mid = fl[kMid];

    auto eos_masked = [&](const Lane& L, const torch::Tensor& lg) {
      return L.eos_ids.numel() > 0 ? lg.index_fill(1, sampling::on_device(L.eos_ids, lg.device()), ninf) : lg;
    };
    auto is_eos = [](const Lane& L, const torch::Tensor& ids) {
      return L.eos_of.index_select(0, ids.clamp_min(0)) & (ids >= 0);
    };
    auto starts = [](const Lane& L, const torch::Tensor& ids) {
      return L.word_start.index_select(0, ids.clamp_min(0));
    };
    auto draw = [](const Lane& L, const torch::Tensor& lg, const torch::Tensor& u) {
      return sampling::sample_at(*L.sampler, lg, u).to(torch::kInt64);
    };

    // Aligned: the candidate; its EOS-free redraw where it drew an EOS that is not its top-1
    // (invariant 3); the word-start draw (raw logits, EOS allowed only as the top-1) after them.
    const auto& rawA = La.logits;
    auto lgA = La.mask_eos ? eos_masked(La, rawA) : rawA;
    auto a_first = draw(La, lgA, ut[0]);
    auto redo = La.eos.empty() ? torch::zeros_like(live_t) : is_eos(La, a_first) & (a_first != La.top1);
    auto cand_a = torch::where(redo, draw(La, eos_masked(La, lgA), ut[1]), a_first);
    auto ok = La.word_start.unsqueeze(0).expand({B, La.word_start.size(0)});
    if (!La.eos.empty()) ok = ok & ~(La.eos_of.unsqueeze(0) & ~is_eos(La, La.top1).unsqueeze(1));
    auto lg_ws = rawA.masked_fill(~ok, ninf);
    auto word_start_a = torch::where(redo, draw(La, lg_ws, ut[2]), draw(La, lg_ws, ut[1]));
    // Base: the candidate, and the EOS-free redraw of a base owner proposing EOS inside a word,
    // drawn and classified on the base model's device, then on the step device in one group.
    const auto& rawB = Lb.logits;
    auto cand_b = draw(Lb, Lb.mask_eos ? eos_masked(Lb, rawB) : rawB, ub[0]);
    auto b_no_eos = draw(Lb, eos_masked(Lb, rawB), ub[1]);
    auto b_eos = is_eos(Lb, cand_b);
    auto b_starts = starts(Lb, cand_b);
    const auto gb = move_group({cand_b, b_no_eos, b_eos, b_starts, Lb.pmax, Lb.H, Lb.top1}, dev);
    cand_b = gb[0];
    b_no_eos = gb[1];
    b_eos = gb[2];
    b_starts = gb[3];
    const LaneStats sb{gb[4], gb[5], gb[6]}, sa{La.pmax, La.H, La.top1};

    // 1. Classify: an owner whose candidate starts a word frees the row for the rule.
    auto owner_starts = torch::where(owner_base, b_starts, starts(La, cand_a));
    auto freed = in_word & ~mid & (prev_ends | owner_starts);
    auto free = (live_t & ~first & ~in_word) | freed;
    auto forced = in_word & ~freed;

    // 2. The rule: first with what it asks for first (plus an owner's candidate already drawn),
    // then with both models for the rows it left open.
    const Needs needs = sh_.rule->first_needs();
    auto has_b1 = (in_word & owner_base) | (free & static_cast<bool>(needs & kNeedsBase));
    auto has_a1 = (in_word & ~owner_base) | first | (free & static_cast<bool>(needs & kNeedsAligned));
    const auto kU = static_cast<int8_t>(BacoChoice::kUndecided);
    const auto kBase = static_cast<int8_t>(BacoChoice::kBase);
    const auto kAl = static_cast<int8_t>(BacoChoice::kAligned);
    // Every row is asked (resident rules decide each row alone); only the free rows' answers count.
    auto r1 = routes(step_tensors(sb, sa, has_b1, has_a1, cand_b, cand_a)).to(torch::kInt8);
    auto undecided = free & (r1 == kU);
    auto has_b2 = has_b1 | undecided, has_a2 = has_a1 | undecided;
    auto r2 = routes(step_tensors(sb, sa, has_b2, has_a2, cand_b, cand_a)).to(torch::kInt8);
    auto rule_failed = undecided & (r2 != kBase) & (r2 != kAl);
    auto to_base = free & (torch::where(undecided, r2, r1) == kBase);
    auto handoff = to_base & b_eos;  // invariant 3: base EOS hands the step over
    auto chosen_base = to_base & ~handoff;
    auto drawn_b = has_b2 | to_base;
    auto drawn_a = has_a2 | (free & ~chosen_base);

    // 3. What each row emits. A chosen candidate must not continue the other model's word: the
    // owner continues it, unless that is a base EOS, when aligned draws a word start instead.
    auto chosen_starts = torch::where(chosen_base, b_starts, starts(La, cand_a));
    auto other_owns = torch::where(chosen_base, ~owner_base, owner_base);
    auto conflict = free & other_owns & (mid | (~prev_ends & ~chosen_starts));
    auto other_base_eos = ~chosen_base & b_eos;
    auto keep_other = conflict & ~other_base_eos;
    auto word_start_case = conflict & other_base_eos;
    auto forced_b_redraw = forced & owner_base & b_eos;
    auto forced_id = torch::where(owner_base, torch::where(forced_b_redraw, b_no_eos, cand_b), cand_a);
    auto free_base_lane = torch::where(keep_other, ~chosen_base, chosen_base);
    auto free_id = torch::where(keep_other, torch::where(chosen_base, cand_a, cand_b),
                                torch::where(word_start_case, word_start_a,
                                             torch::where(chosen_base, cand_b, cand_a)));
    auto lane_base = torch::where(forced, owner_base, free & free_base_lane);
    auto id = torch::where(first, cand_a, torch::where(forced, forced_id, free_id));
    auto reason = torch::where(first, int64_t(static_cast<int>(ChoiceReason::kFirstToken)),
                  torch::where(forced | keep_other, int64_t(static_cast<int>(ChoiceReason::kInWord)),
                  torch::where(handoff, int64_t(static_cast<int>(ChoiceReason::kEosHandoff)),
                               int64_t(static_cast<int>(ChoiceReason::kRule)))));
    auto redraws_a = (drawn_a & redo).to(torch::kInt64) + word_start_case.to(torch::kInt64);
    const int64_t per_b = Lb.sampler->options().greedy() ? 0 : 1;
    const int64_t per_a = La.sampler->options().greedy() ? 0 : 1;
    auto used_b = (drawn_b.to(torch::kInt64) + forced_b_redraw.to(torch::kInt64)) * per_b;
    auto used_a = (drawn_a.to(torch::kInt64) + redraws_a) * per_a;

    // The step's one read.
    enum { kLane, kId, kReason, kDrawnB, kDrawnA, kCandB, kCandA, kRedraws, kUsedB, kUsedA, kForced,
           kFree, kPB, kHB, kTopB, kPA, kHA, kTopA, kBadRule, kBadB, kBadA, kBadBRedraw, kBadWordStart,
           kFields };
    auto d = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
    auto host = torch::stack({d(lane_base), d(id), d(reason), d(drawn_b), d(drawn_a), d(cand_b), d(cand_a),
                              d(redraws_a), d(used_b), d(used_a), d(forced), d(free), d(sb.pmax), d(sb.H),
                              d(sb.top1), d(sa.pmax), d(sa.H), d(sa.top1), d(rule_failed),
                              d(drawn_b & (cand_b < 0)), d(drawn_a & (a_first < 0)),
                              d(forced_b_redraw & (b_no_eos < 0)), d(word_start_case & (word_start_a < 0))})
                    .cpu()
                    .contiguous();
    const double* h = host.data_ptr<double>();
    auto at = [&](int field, int64_t b) { return h[field * B + b]; };
    for (auto b : live) {
      BREADTH_CHECK_ARG(at(kBadRule, b) == 0,
                        "rule '{}' left a step undecided with both models' information; a rule "
                        "must return BacoChoice::kBase or BacoChoice::kAligned for a full view",
                        sh_.rule->name());
      BREADTH_CHECK_ARG(at(kBadB, b) == 0, "BACO: the base model's sampler found no token to draw (NaN logits?)");
      BREADTH_CHECK_ARG(at(kBadA, b) == 0, "BACO: the aligned model's sampler found no token to draw (NaN logits?)");
      BREADTH_CHECK_ARG(at(kBadBRedraw, b) == 0, "BACO: the base model has no token but EOS to draw");
      BREADTH_CHECK_ARG(at(kBadWordStart, b) == 0, "BACO: the aligned model has no word-starting token to draw");
    }
    // The generators advance by the draws used; the host's step state is what emit() reads.
    for (auto b : live) {
      const auto bs = static_cast<size_t>(b);
      const auto out = static_cast<size_t>(rows_[bs].out);
      for (int64_t k = 0; k < static_cast<int64_t>(at(kUsedB, b)); ++k) sampling::next_uniform((*Lb.gens)[out]);
      for (int64_t k = 0; k < static_cast<int64_t>(at(kUsedA, b)); ++k) sampling::next_uniform((*La.gens)[out]);
      Lb.has_cand[bs] = at(kDrawnB, b) != 0;
      La.has_cand[bs] = at(kDrawnA, b) != 0;
      Lb.cand[bs] = static_cast<int32_t>(at(kCandB, b));
      La.cand[bs] = static_cast<int32_t>(at(kCandA, b));
      La.redraws[bs] = static_cast<int32_t>(at(kRedraws, b));
    }
    host_[kB].t = host.narrow(0, kPB, 3).contiguous();
    host_[kA].t = host.narrow(0, kPA, 3).contiguous();
    // Emitted in step_host_driven's order: first tokens, in-word rows, then the rule's rows.
    auto emit_row = [&](int64_t b) {
      emit(b, at(kLane, b) != 0 ? kB : kA, static_cast<int32_t>(at(kId, b)),
           static_cast<ChoiceReason>(static_cast<int>(at(kReason, b))));
    };
    for (auto b : live)
      if (rows_[static_cast<size_t>(b)].pos == 0) emit_row(b);
    for (auto b : live)
      if (at(kForced, b) != 0) emit_row(b);
    for (auto b : live)
      if (at(kFree, b) != 0) emit_row(b);
  }

  void emit(int64_t b64, int l, int32_t id, ChoiceReason why) {
    auto b = static_cast<size_t>(b64);
    auto& r = rows_[b];
    auto& L = lanes_[l];
    auto& sample = (*sh_.samples)[static_cast<size_t>(r.out)];
    TokenRecord rec;
    rec.id = id;
    rec.source = l == kB ? TokenSource::kBase : TokenSource::kAligned;
    rec.reason = why;
    auto& Lb = lanes_[kB];
    auto& La = lanes_[kA];
    if (Lb.has_stats[b]) {
      rec.p_base_max = host_[kB].pmax(b64);
      rec.h_base = host_[kB].H(b64);
    }
    if (La.has_stats[b]) {
      rec.p_aligned_max = host_[kA].pmax(b64);
      rec.h_aligned = host_[kA].H(b64);
      rec.aligned_top1 = host_[kA].top1(b64);
    }
    if (Lb.has_cand[b]) rec.base_candidate = Lb.cand[b];
    if (La.has_cand[b]) rec.aligned_candidate = La.cand[b];
    rec.eos_redraws = La.redraws[b];
    ++sh_.emitted;
    if (l == kA && L.is_eos(id)) {
      rec.eos = true;
      sample.tokens.push_back(std::move(rec));
      sample.finish = FinishReason::kEos;
      r.active = false;
      callback(r, sample);
      return;
    }
    rec.text = token_text(*L.tok, id);
    r.text += rec.text;
    L.pending[b].push_back(id);
    L.synced[b] = r.text.size();
    if (sh_.shared_vocab) {
      auto& O = lanes_[1 - l];
      O.pending[b].push_back(id);
      O.synced[b] = r.text.size();
    }
    r.owner = l;
    r.prev_ends_word = L.ends_word(id);
    ++r.pos;
    sample.tokens.push_back(std::move(rec));
    sample.text = r.text;
    if (r.pos >= sh_.opt->max_new_tokens) {
      sample.finish = FinishReason::kLength;
      r.active = false;
    }
    callback(r, sample);
  }

  void callback(Row& r, BacoSample& sample) {
    if (!sh_.opt->on_token) return;
    if (!sh_.opt->on_token(r.out, sample.tokens.back()) && r.active) {
      sample.finish = FinishReason::kCallback;
      r.active = false;
    }
  }

  Shared& sh_;
  Lane* lanes_;
  std::vector<Row> rows_;
  torch::Device device_ = torch::kCPU;  // the step device (the aligned model's): the step's shared tensors
  torch::Tensor out_t_;                 // [B] int64: each row's index in the result
  torch::Tensor u_t_, pos_t_;           // this step, [B]: routing u (float64) and position (int64)
  HostStats host_[2];                   // this step's statistics on the host, while emitting
};

void validate(const BacoOptions& o) {
  o.base_sampling.validate();
  o.aligned_sampling.validate();
  BREADTH_CHECK_ARG(o.num_samples >= 1, "BacoOptions::num_samples must be >= 1, got {}", o.num_samples);
  BREADTH_CHECK_ARG(o.max_new_tokens >= 1, "BacoOptions::max_new_tokens must be >= 1, got {}",
                    o.max_new_tokens);
  BREADTH_CHECK_ARG(o.first_sample_index >= 0, "BacoOptions::first_sample_index must be >= 0, got {}",
                    o.first_sample_index);
  BREADTH_CHECK_ARG(o.min_new_tokens >= 0 && o.min_new_tokens <= o.max_new_tokens,
                    "BacoOptions::min_new_tokens must lie in [0, max_new_tokens={}], got {}",
                    o.max_new_tokens, o.min_new_tokens);
  BREADTH_CHECK_ARG(o.max_retries >= 0, "BacoOptions::max_retries must be >= 0, got {}", o.max_retries);
}

}  // namespace

BacoStep parse_baco_step(std::string_view name, std::string_view what) {
  if (name == "auto") return BacoStep::kAuto;
  if (name == "host-driven") return BacoStep::kHostDriven;
  if (name == "resident") return BacoStep::kResident;
  fail("{} must be auto, host-driven (the host reads candidates and routes as decisions need them) or "
       "resident (the step stays on the device, read once), got '{}'",
       what, name);
}

const char* baco_step_name(BacoStep step) {
  switch (step) {
    case BacoStep::kHostDriven: return "host-driven";
    case BacoStep::kResident: return "resident";
    case BacoStep::kAuto: break;
  }
  return "auto";
}

namespace {

std::vector<int32_t> render(const CausalLM& model, const Tokenizer& tok, const std::string& prompt,
                            const std::shared_ptr<const ChatTemplate>& tmpl, bool chat) {
  std::vector<int32_t> ids;
  if (tmpl) ids = tok.encode_chat(prompt, tmpl.get(), /*add_special=*/!chat);
  else ids = encode_prompt(model, prompt, chat);
  if (ids.empty() && tok.bos_id()) ids.push_back(*tok.bos_id());
  BREADTH_CHECK_ARG(!ids.empty(),
                    "BACO: the prompt '{}' encodes to no tokens for the {} model and its tokenizer "
                    "has no BOS to start from; give a non-empty prompt",
                    prompt, chat ? "aligned" : "base");
  return ids;
}

}  // namespace

// ------------------------------------------------------------------------------------ BacoDecoder

BacoDecoder::BacoDecoder(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned)
    : base_(std::move(base)), aligned_(std::move(aligned)) {
  BREADTH_CHECK_ARG(base_ && aligned_, "BacoDecoder: both the base and the aligned model are needed");
  base_tok_ = base_->tokenizer();
  aligned_tok_ = aligned_->tokenizer();
  BREADTH_CHECK_ARG(base_tok_ && aligned_tok_,
                    "BacoDecoder: the {} checkpoint has no tokenizer; BACO needs both models' "
                    "tokenizers (tokenizer.json in the directory, or a GGUF with its vocabulary)",
                    base_tok_ ? "aligned" : "base");
  // The models may be on different devices and in different dtypes: each lane's cache, logits and
  // draws stay on its model's device, the step's shared tensors on the aligned model's (see the top).
  shared_vocab_ = base_tok_ == aligned_tok_ || baco::same_vocabulary(*base_tok_, *aligned_tok_);
}

std::vector<int32_t> BacoDecoder::aligned_prompt(const std::string& prompt,
                                                 const BacoOptions& options) const {
  return render(*aligned_, *aligned_tok_, prompt, options.aligned_template, true);
}

std::vector<int32_t> BacoDecoder::base_prompt(const std::string& prompt,
                                              const BacoOptions& options) const {
  // Default: the plain shifting template (BACO Appendix A), "PROMPT\n", encoded with the base
  // tokenizer's specials (e.g. BOS) as for raw text.
  static const std::shared_ptr<const ChatTemplate> kShifting = ChatTemplate::shifting();
  return render(*base_, *base_tok_, prompt, options.base_template ? options.base_template : kShifting, false);
}

BacoResult BacoDecoder::generate(const std::vector<std::string>& prompts, const std::string& spec,
                                 const BacoOptions& options) const {
  auto rule = make_rule(spec);
  return generate(prompts, *rule, options);
}

BacoResult BacoDecoder::generate(const std::vector<std::string>& prompts, const BacoRule& rule,
                                 const BacoOptions& opt) const {
  validate(opt);
  BREADTH_CHECK_ARG(!prompts.empty(), "BacoDecoder::generate: give at least one prompt");
  const auto P = static_cast<int64_t>(prompts.size());
  const int64_t n = opt.num_samples;

  BacoResult result;
  result.rule = rule.name();
  result.samples.resize(static_cast<size_t>(P * n));

  Shared sh;
  sh.opt = &opt;
  sh.rule = &rule;
  sh.shared_vocab = shared_vocab_;
  // The resident step needs every decision computable from tensors: eager statistics, one
  // vocabulary (no text hand-off) and a rule that reads no text. It pays where a host read waits
  // for a device; on the CPU the host-driven step, which draws only what it uses, is cheaper.
  const bool resident_ok = shared_vocab_ && !opt.lazy && !rule.reads_text();
  BREADTH_CHECK_ARG(opt.step != BacoStep::kResident || resident_ok,
                    "BacoOptions::step = kResident needs lazy = false, models sharing a vocabulary "
                    "and a rule that does not read text (got lazy = {}, {} vocabularies, rule '{}'{}); "
                    "use BacoStep::kAuto",
                    opt.lazy, shared_vocab_ ? "shared" : "different", rule.name(),
                    rule.reads_text() ? " reads text" : "");
  sh.resident = opt.step == BacoStep::kResident ||
                (opt.step == BacoStep::kAuto && resident_ok &&
                 (!aligned_->device().is_cpu() || !base_->device().is_cpu()));
  sh.prompts = &prompts;
  sh.samples = &result.samples;
  sh.steps = &result.steps;

  // Prompts: prefilled once per model, forked n ways per run.
  std::vector<std::vector<int32_t>> ids[2];
  for (const auto& p : prompts) {
    ids[kB].push_back(base_prompt(p, opt));
    ids[kA].push_back(aligned_prompt(p, opt));
  }
  const uint64_t base_seed = opt.base_seed ? *opt.base_seed : baco::default_base_seed(opt.seed);
  for (int64_t p = 0; p < P; ++p) {
    auto a_key = sample_seed(opt.seed, prompt_key(ids[kA][static_cast<size_t>(p)]));
    auto b_key = sample_seed(base_seed, prompt_key(ids[kB][static_cast<size_t>(p)]));
    auto r_key = sample_seed(baco::route_seed(opt.seed), prompt_key(ids[kA][static_cast<size_t>(p)]));
    for (int64_t i = 0; i < n; ++i) {
      const auto idx = static_cast<uint64_t>(opt.first_sample_index + i);
      sh.gens[kA].push_back(make_generator(a_key, idx));
      sh.gens[kB].push_back(make_generator(b_key, idx));
      sh.route_gens.push_back(make_generator(r_key, idx));
      auto& s = result.samples[static_cast<size_t>(p * n + i)];
      s.prompt_index = p;
      s.sample_index = opt.first_sample_index + i;
    }
  }

  baco::FragmentEncoder frag_b(base_tok_), frag_a(aligned_tok_);
  Lane lanes[2];
  const CausalLM* models[2] = {base_.get(), aligned_.get()};
  const Tokenizer* toks[2] = {base_tok_.get(), aligned_tok_.get()};
  const baco::FragmentEncoder* frags[2] = {&frag_b, &frag_a};
  for (int l : {kB, kA}) {
    auto& L = lanes[l];
    L.model = models[l];
    L.tok = toks[l];
    L.cls = std::make_unique<Classes>(*L.tok);
    std::vector<int64_t> eos(L.tok->eos_ids().begin(), L.tok->eos_ids().end());
    auto extra = l == kB ? opt.base_transforms : opt.aligned_transforms;
    // ignore_eos masks the raw logits before the sampler's chain (as HF's logits processors run
    // before its warpers): masked after top-p, a distribution whose nucleus is all EOS would be left
    // with nothing to draw.
    L.mask_eos = opt.ignore_eos && !eos.empty();
    L.sampler = std::make_unique<Sampler>(l == kB ? opt.base_sampling : opt.aligned_sampling, extra);
    L.gens = &sh.gens[l];
    L.frag = frags[l];
    L.eos.insert(eos.begin(), eos.end());
    L.eos_ids = torch::tensor(eos, torch::kInt64);
    int64_t max_len = 0;
    for (const auto& x : ids[l]) max_len = std::max<int64_t>(max_len, static_cast<int64_t>(x.size()));
    sh.prompt_cache[l] = L.model->new_cache(P, max_len + opt.max_new_tokens + 8);
    sh.prompt_logits[l] = L.model->prefill(sh.prompt_cache[l], ids[l]).to(torch::kFloat32);
    const int64_t V = sh.prompt_logits[l].size(1);
    L.word_start = torch::empty({V}, torch::kBool);
    L.punct_of = torch::empty({V}, torch::kBool);
    L.function_of = torch::empty({V}, torch::kBool);
    L.eos_of = torch::empty({V}, torch::kBool);
    auto ws = L.word_start.accessor<bool, 1>();
    auto pu = L.punct_of.accessor<bool, 1>();
    auto fn = L.function_of.accessor<bool, 1>();
    auto eo = L.eos_of.accessor<bool, 1>();
    for (int64_t v = 0; v < V; ++v) {
      // The tokens that may follow a token that does not end a word.
      ws[v] = baco::starts_new_word(/*prev_ends_word=*/false, L.starts_word(v), /*mid_character=*/false);
      pu[v] = L.cls->punct(v) || L.is_eos(v);
      fn[v] = L.cls->function(v);
      eo[v] = L.is_eos(v);
    }
    const auto dev = sh.prompt_logits[l].device();
    L.word_start = L.word_start.to(dev);
    L.eos_of = L.eos_of.to(dev);
    // Masking an id beyond the logits would be an index error: keep only those inside.
    if (L.eos_ids.numel() > 0) L.eos_ids = L.eos_ids.index({L.eos_ids < V});
  }
  // The draws' tables went to each model's device; the rule's class tables go from the host straight
  // to the step device (the aligned model's, as its logits name it: a model loaded on "cuda" computes
  // on cuda:N), known once both prompts are prefilled.
  const auto step_dev = sh.prompt_logits[kA].device();
  for (auto& L : lanes) {
    L.punct_of = L.punct_of.to(step_dev);
    L.function_of = L.function_of.to(step_dev);
  }

  // Decode all samples; regenerate those that stopped under the minimum length.
  std::vector<int64_t> todo(static_cast<size_t>(P * n));
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = static_cast<int64_t>(i);
  sh.possible = P * n * opt.max_new_tokens;
  for (int64_t attempt = 0; !todo.empty(); ++attempt) {
    Run run(sh, lanes, todo);
    run.run();
    result.base_forwards += run.base_forwards;
    result.aligned_forwards += run.aligned_forwards;
    result.base_tokens_fed += run.base_fed;
    result.aligned_tokens_fed += run.aligned_fed;
    std::vector<int64_t> again;
    if (opt.min_new_tokens > 0 && attempt < opt.max_retries) {
      for (auto out : todo) {
        auto& s = result.samples[static_cast<size_t>(out)];
        if (s.finish == FinishReason::kEos && s.length() < opt.min_new_tokens) {
          auto keep_index = s.sample_index, keep_prompt = s.prompt_index, retries = s.retries + 1;
          s = BacoSample{};
          s.prompt_index = keep_prompt;
          s.sample_index = keep_index;
          s.retries = retries;
          again.push_back(out);
          sh.possible += opt.max_new_tokens;
        }
      }
    }
    todo = std::move(again);
  }
  result.summary = summarize(result.samples);
  return result;
}

std::vector<SweepPoint> BacoDecoder::sweep(const std::vector<std::string>& prompts,
                                           const std::string& rule_name,
                                           const std::vector<double>& gammas,
                                           const BacoOptions& options) const {
  BREADTH_CHECK_ARG(!gammas.empty(), "BacoDecoder::sweep: give at least one threshold");
  std::vector<SweepPoint> out;
  out.reserve(gammas.size());
  for (double g : gammas) {
    auto rule = make_rule(rule_name, g);
    out.push_back({g, generate(prompts, *rule, options)});
  }
  return out;
}

}  // namespace breadth
