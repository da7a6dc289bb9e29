// BacoDecoder: the two-model decoding loop with its invariants, lazy catch-up and text hand-off.
//
// One step for the live rows of a batch:
//   1. classify each row: the first token (aligned), inside a word (the owner's candidate does not
//      start a word: the owner continues), or free (a word boundary: the rule decides);
//   2. ask the rule with what is known (lazy), then with both models for the rows it left open;
//   3. apply invariant 3 (EOS) and the word-boundary check to the chosen candidate, and emit.
// A model's distribution for a row ("info": statistics plus its drawn candidate) is computed only
// when one of these needs it; its cache catches up on every token it missed in one forward pass.
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/DistributionsHelper.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "baco/handoff.hpp"
#include "baco/seeds.hpp"
#include "breadth/baco.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/model.hpp"
#include "core/check.hpp"

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
  torch::Tensor word_start;    // [V] bool: tokens that may begin a word (redraw mask)
  const baco::FragmentEncoder* frag = nullptr;

  KvCache cache;
  torch::Tensor logits;        // [B, V]; row b is current when pending[b] is empty
  std::vector<std::vector<int32_t>> pending;
  std::vector<size_t> synced;  // bytes of the row's text this lane's context covers
  int64_t forwards = 0, fed = 0;

  // This step.
  std::vector<uint8_t> has_stats, has_cand;
  std::vector<float> pmax, H;
  std::vector<int32_t> top1, cand, redraws;

  bool is_eos(int64_t id) const { return eos.count(id) != 0; }
  bool starts_word(int64_t id) const { return cls->starts_word(id) || cls->punct(id) || is_eos(id); }
  bool ends_word(int64_t id) const { return cls->ends_word(id) || cls->punct(id) || is_eos(id); }

  void reset_step(size_t B) {
    has_stats.assign(B, 0);
    has_cand.assign(B, 0);
    pmax.assign(B, NAN);
    H.assign(B, NAN);
    top1.assign(B, -1);
    cand.assign(B, -1);
    redraws.assign(B, 0);
  }
};

struct Row {
  int64_t out = 0;      // index in the result (and in the generator vectors)
  int64_t prompt = 0;
  bool active = true;
  int64_t pos = 0;
  int owner = kA;
  bool prev_ends_word = true;
  std::string text;
};

struct Shared {
  const BacoOptions* opt;
  const BacoRule* rule;
  bool shared_vocab;
  const std::vector<std::string>* prompts;
  std::vector<torch::Generator> gens[2];
  std::vector<torch::Generator> route_gens;
  KvCache prompt_cache[2];
  torch::Tensor prompt_logits[2];
  std::vector<BacoSample>* samples;
  int64_t* steps;
  int64_t emitted = 0, possible = 0;
};

/// True when `text` ends inside a multi-byte UTF-8 character: no word boundary can be there, since
/// a hand-off would split the character between two vocabularies.
bool utf8_unfinished(const std::string& text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back;
  }
  return false;  // stray continuation bytes: garbage, but nothing in progress
}

double next_uniform(torch::Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  auto* impl = at::check_generator<at::CPUGeneratorImpl>(gen);
  at::uniform_real_distribution<double> uniform(0.0, 1.0);
  return uniform(impl);
}

torch::Tensor index_tensor(const std::vector<int64_t>& v) {
  return torch::tensor(v, torch::kInt64);
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
    auto out = L.model->forward(L.cache, ids.to(dev), valid.to(dev)).logits;
    ++L.forwards;
    auto idx = index_tensor(fed_rows).to(out.device());
    L.logits.index_copy_(0, idx.to(L.logits.device()), out.index_select(0, idx).to(L.logits.device()));
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
    auto idx = index_tensor(need).to(L.logits.device());
    auto lg = L.logits.index_select(0, idx).to(torch::kFloat32);
    auto logp = torch::log_softmax(lg, -1);
    auto p = logp.exp();
    auto h = -torch::where(p > 0, p * logp, torch::zeros_like(p)).sum(-1);
    auto pm = std::get<0>(p.max(-1));
    auto t1 = lg.argmax(-1);
    auto hc = h.cpu().contiguous(), pc = pm.cpu().contiguous(), tc = t1.cpu().contiguous();
    auto ha = hc.accessor<float, 1>(), pa = pc.accessor<float, 1>();
    auto ta = tc.accessor<int64_t, 1>();
    for (size_t i = 0; i < need.size(); ++i) {
      auto b = static_cast<size_t>(need[i]);
      auto k = static_cast<int64_t>(i);
      L.has_stats[b] = 1;
      L.H[b] = ha[k];
      L.pmax[b] = pa[k];
      L.top1[b] = static_cast<int32_t>(ta[k]);
    }
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
    auto ids = L.sampler->sample(lg, *L.gens, gen_rows).cpu();
    for (size_t i = 0; i < need.size(); ++i) {
      auto b = static_cast<size_t>(need[i]);
      auto id = ids[static_cast<int64_t>(i)].item<int64_t>();
      BREADTH_CHECK_ARG(id >= 0, "BACO: the {} model's sampler found no token to draw (NaN logits?)",
                        l == kB ? "base" : "aligned");
      L.cand[b] = static_cast<int32_t>(id);
      L.has_cand[b] = 1;
    }
    if (l != kA || L.eos.empty()) return;
    std::vector<int64_t> redo, redo_gen, redo_pos;
    for (size_t i = 0; i < need.size(); ++i) {
      auto b = static_cast<size_t>(need[i]);
      if (L.is_eos(L.cand[b]) && L.cand[b] != L.top1[b]) {
        redo.push_back(need[i]);
        redo_gen.push_back(rows_[b].out);
        redo_pos.push_back(static_cast<int64_t>(i));
      }
    }
    if (redo.empty()) return;
    auto masked = lg.index_select(0, index_tensor(redo_pos).to(lg.device())).clone();
    masked.index_fill_(1, L.eos_ids.to(masked.device()), -std::numeric_limits<float>::infinity());
    auto again = L.sampler->sample(masked, *L.gens, redo_gen).cpu();
    for (size_t i = 0; i < redo.size(); ++i) {
      auto b = static_cast<size_t>(redo[i]);
      L.cand[b] = static_cast<int32_t>(again[static_cast<int64_t>(i)].item<int64_t>());
      L.redraws[b] += 1;
    }
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
  /// take the step.
  int32_t aligned_word_start_draw(int64_t b) {
    auto& L = lanes_[kA];
    auto lg = L.logits.index_select(0, index_tensor({b}).to(L.logits.device())).clone();
    auto ok = L.word_start.to(lg.device()).clone();
    if (!L.eos.empty() && !L.is_eos(L.top1[static_cast<size_t>(b)]))
      ok.index_fill_(0, L.eos_ids.to(ok.device()), false);
    lg.masked_fill_(~ok.unsqueeze(0), -std::numeric_limits<float>::infinity());
    auto id = L.sampler->sample(lg, *L.gens, {rows_[static_cast<size_t>(b)].out})[0].item<int64_t>();
    BREADTH_CHECK_ARG(id >= 0, "BACO: the aligned model has no word-starting token to draw");
    L.redraws[static_cast<size_t>(b)] += 1;
    return static_cast<int32_t>(id);
  }

  // ---------------------------------------------------------------------------- decisions

  StepBatch batch_for(const std::vector<int64_t>& rows, std::vector<std::string>& texts) {
    std::vector<StepView> views;
    views.reserve(rows.size());
    texts.clear();
    texts.reserve(rows.size() * 2);
    auto& Lb = lanes_[kB];
    auto& La = lanes_[kA];
    for (auto b64 : rows) {
      auto b = static_cast<size_t>(b64);
      StepView v;
      v.has_base = Lb.has_cand[b];
      v.has_aligned = La.has_cand[b];
      if (v.has_base) {
        v.p_base_max = Lb.pmax[b];
        v.h_base = Lb.H[b];
        v.base_candidate = Lb.cand[b];
        v.base_candidate_punct = Lb.cls->punct(Lb.cand[b]) || Lb.is_eos(Lb.cand[b]);
        v.base_candidate_function = Lb.cls->function(Lb.cand[b]);
        texts.push_back(token_text(*Lb.tok, Lb.cand[b]));
      } else {
        texts.emplace_back();
      }
      if (v.has_aligned) {
        v.p_aligned_max = La.pmax[b];
        v.h_aligned = La.H[b];
        v.aligned_candidate = La.cand[b];
        v.aligned_top1 = La.top1[b];
        v.aligned_top1_punct = La.cls->punct(La.top1[b]) || La.is_eos(La.top1[b]);
        v.aligned_top1_function = La.cls->function(La.top1[b]);
        texts.push_back(token_text(*La.tok, La.cand[b]));
      } else {
        texts.emplace_back();
      }
      v.u = u_[b];
      v.position = rows_[b].pos;
      v.row = rows_[b].out;
      v.prompt = (*sh_.prompts)[static_cast<size_t>(rows_[b].prompt)];
      v.generated = rows_[b].text;
      views.push_back(v);
    }
    for (size_t i = 0; i < views.size(); ++i) {
      views[i].base_candidate_text = texts[2 * i];
      views[i].aligned_candidate_text = texts[2 * i + 1];
    }
    return StepBatch::from_views(views);
  }

  std::vector<BacoChoice> decide(const std::vector<int64_t>& rows) {
    std::vector<BacoChoice> out(rows.size(), BacoChoice::kUndecided);
    if (rows.empty()) return out;
    std::vector<std::string> texts;
    auto ask = [&](const std::vector<int64_t>& rs) {
      auto r = sh_.rule->decide(batch_for(rs, texts)).to(torch::kInt8).cpu();
      BREADTH_CHECK_ARG(r.dim() == 1 && r.size(0) == static_cast<int64_t>(rs.size()),
                        "rule '{}' returned {} routes for {} rows", sh_.rule->name(),
                        r.dim() == 1 ? r.size(0) : -1, rs.size());
      std::vector<BacoChoice> v(rs.size());
      for (size_t i = 0; i < rs.size(); ++i) v[i] = static_cast<BacoChoice>(r[static_cast<int64_t>(i)].item<int8_t>());
      return v;
    };
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

  void step(const std::vector<int64_t>& live) {
    const size_t B = rows_.size();
    for (int l : {kB, kA}) lanes_[l].reset_step(B);
    u_.assign(B, 0.0);
    for (auto b : live)
      u_[static_cast<size_t>(b)] = next_uniform(sh_.route_gens[static_cast<size_t>(rows_[static_cast<size_t>(b)].out)]);
    if (!sh_.opt->lazy && sh_.shared_vocab) {
      stats(kB, live);
      stats(kA, live);
    }

    // 1. Classify.
    std::vector<int64_t> first, owner_rows[2];
    for (auto b : live) {
      const auto& r = rows_[static_cast<size_t>(b)];
      if (r.pos == 0) first.push_back(b);
      else if (!r.prev_ends_word) owner_rows[r.owner].push_back(b);
    }
    provide(kB, owner_rows[kB]);
    provide(kA, owner_rows[kA]);
    provide(kA, first);
    std::vector<int64_t> free_rows;
    std::vector<std::pair<int64_t, int>> forced;  // (row, lane)
    for (auto b : live) {
      const auto& r = rows_[static_cast<size_t>(b)];
      if (r.pos == 0) continue;
      if (r.prev_ends_word) {
        free_rows.push_back(b);
        continue;
      }
      auto& L = lanes_[r.owner];
      if (L.starts_word(L.cand[static_cast<size_t>(b)]) && !utf8_unfinished(r.text)) free_rows.push_back(b);
      else forced.emplace_back(b, r.owner);
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

    // 3. Emit.
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
      if (r.owner == other && !r.prev_ends_word && !L.starts_word(id)) {
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
      rec.p_base_max = Lb.pmax[b];
      rec.h_base = Lb.H[b];
    }
    if (La.has_stats[b]) {
      rec.p_aligned_max = La.pmax[b];
      rec.h_aligned = La.H[b];
      rec.aligned_top1 = La.top1[b];
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
    r.prev_ends_word = L.ends_word(id) && !utf8_unfinished(r.text);
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
  std::vector<double> u_;
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
  BREADTH_CHECK_ARG(base_->device() == aligned_->device(),
                    "BacoDecoder: the base model is on {} and the aligned model on {}; load both on "
                    "the same device", base_->device().str(), aligned_->device().str());
  shared_vocab_ = base_tok_ == aligned_tok_ || baco::same_vocabulary(*base_tok_, *aligned_tok_);
}

std::vector<int32_t> BacoDecoder::aligned_prompt(const std::string& prompt,
                                                 const BacoOptions& options) const {
  return render(*aligned_, *aligned_tok_, prompt, options.aligned_template, true);
}

std::vector<int32_t> BacoDecoder::base_prompt(const std::string& prompt,
                                              const BacoOptions& options) const {
  return render(*base_, *base_tok_, prompt, options.base_template, false);
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
    auto ws = L.word_start.accessor<bool, 1>();
    for (int64_t v = 0; v < V; ++v) ws[v] = L.starts_word(v);
    // Masking an id beyond the logits would be an index error: keep only those inside.
    if (L.eos_ids.numel() > 0) L.eos_ids = L.eos_ids.index({L.eos_ids < V});
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
