// BacoDecoder on tiny random model pairs: reproduction of single-model sampling at the extremes,
// lazy == eager, batched == one at a time, the invariants over many runs, provenance, min length,
// callbacks, and a pair with different vocabularies.
#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "baco/handoff.hpp"
#include "baco/seeds.hpp"
#include "baco_test_util.hpp"
#include "breadth/error.hpp"
#include "breadth/chat_template.hpp"
#include "breadth/sampler.hpp"
#include "common/host_syncs.hpp"
#include "sampling/uniform.hpp"

using namespace baco_test;

namespace {

const std::vector<std::string> kPrompts = {"Tell me a story about a dog.", "Name a color"};

BacoOptions options(int64_t n = 4, int64_t max_new = 20, uint64_t seed = 7) {
  BacoOptions o;
  o.num_samples = n;
  o.max_new_tokens = max_new;
  o.seed = seed;
  return o;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

/// Ends inside a multi-byte character (a lead byte without all its continuation bytes).
bool unfinished_char(const std::string& s) {
  for (size_t back = 1; back <= 4 && back <= s.size(); ++back) {
    auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back;
  }
  return false;
}

std::unordered_set<int32_t> eos_set(const Tokenizer& t) {
  return {t.eos_ids().begin(), t.eos_ids().end()};
}

}  // namespace

namespace {

/// p with gamma = 0 (never base) against the aligned model's own generate(): token for token.
void check_aligned_only(const Pair& P) {
  auto o = options(4, 24, 7);
  auto baco = P.decoder->generate(kPrompts, "p:0", o);

  GenerateOptions g;
  g.sampling = o.aligned_sampling;
  g.num_samples = o.num_samples;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.apply_chat_template = true;
  auto ref = generate(*P.aligned, kPrompts, g);
  REQUIRE(ref.samples.size() == baco.samples.size());

  int identical = 0;
  for (size_t s = 0; s < ref.samples.size(); ++s) {
    const auto& r = ref.samples[s].tokens;
    const auto& b = baco.samples[s].tokens;
    for (const auto& t : b) CHECK(t.source == TokenSource::kAligned);
    size_t k = 0;
    for (; k < r.size() && k < b.size(); ++k) {
      // An aligned EOS that is not the top-1 is redrawn under BACO (invariant 3): from there the
      // two runs may part, and nothing after it is compared.
      if (b[k].eos_redraws > 0) break;
      INFO("sample " << s << " token " << k);
      REQUIRE(b[k].id == r[k]);
    }
    if (k == r.size() && k == b.size()) ++identical;
  }
  // The fixture's EOS is top-1 on a few percent of steps; most samples must match to the end.
  CHECK(identical >= static_cast<int>(ref.samples.size()) - 2);
}

/// The rule "base" against the base model's own prefill, decode and Sampler with BACO's base seed.
void check_base_only(const Pair& P) {
  auto o = options(6, 20, 3);
  o.base_seed = 99;
  auto baco = P.decoder->generate(kPrompts, "base", o);
  auto tok = P.base->tokenizer();
  auto eos = eos_set(*tok);
  Sampler sampler(o.base_sampling);

  int compared = 0;
  for (size_t s = 0; s < baco.samples.size(); ++s) {
    const auto& x = baco.samples[s];
    REQUIRE(!x.tokens.empty());
    CHECK(x.tokens[0].source == TokenSource::kAligned);
    CHECK(x.tokens[0].reason == ChoiceReason::kFirstToken);
    // Only when the first word ended with the first token does base take token 1 (invariant 2).
    if (x.tokens.size() < 2 || x.tokens[1].source != TokenSource::kBase) continue;
    auto prompt = P.decoder->base_prompt(kPrompts[static_cast<size_t>(x.prompt_index)], o);
    std::vector<torch::Generator> gens{
        make_generator(sample_seed(99, prompt_key(prompt)), static_cast<uint64_t>(x.sample_index))};
    auto ids = prompt;
    ids.push_back(x.tokens[0].id);
    KvCache cache;
    auto logits = P.base->prefill(cache, {ids});
    for (size_t k = 1; k < x.tokens.size(); ++k) {
      auto next = static_cast<int32_t>(sampler.sample(logits, gens)[0].item<int64_t>());
      if (x.tokens[k].reason == ChoiceReason::kEosHandoff) {
        // The base sampler drew EOS here, which BACO hands to the aligned model.
        CHECK(eos.count(next) == 1);
        break;
      }
      INFO("sample " << s << " token " << k);
      REQUIRE(x.tokens[k].source == TokenSource::kBase);
      REQUIRE(x.tokens[k].id == next);
      logits = P.base->decode(cache, torch::tensor({static_cast<int64_t>(next)}));
      ++compared;
    }
  }
  CHECK(compared >= 20);
}

}  // namespace

TEST_CASE("p with gamma = 0 reproduces aligned-only sampling token for token") { check_aligned_only(pair("shared")); }

TEST_CASE("a rule that always picks base reproduces base sampling after the first token") {
  check_base_only(pair("shared"));
}

// Two dtypes: base in bfloat16, aligned in float32 (statistics are float32 either way). Each
// extreme rule must reproduce its own model's sampling in that model's dtype.
TEST_CASE("base in bfloat16 and aligned in float32: each extreme reproduces its model's own sampling") {
  auto P = load_pair("shared", model_options(torch::kCPU, torch::kBFloat16), model_options(torch::kCPU, torch::kFloat32));
  REQUIRE(P.base->dtype() == torch::kBFloat16);
  REQUIRE(P.aligned->dtype() == torch::kFloat32);
  check_aligned_only(P);
  check_base_only(P);
}

TEST_CASE("ignore_eos masks EOS before the sampler's chain: a greedy base whose top-1 is EOS takes its best other token") {
  // Regression: EOS used to be removed after the chain, so a base nucleus holding only EOS (top-k 1
  // here; top-p on a real model) was left with nothing to draw and the run failed.
  const auto& P = pair("shared");
  auto o = options(6, 30, 5);
  o.ignore_eos = true;
  o.base_sampling.top_k = 1;
  auto baco = P.decoder->generate(kPrompts, "base", o);
  auto tok = P.base->tokenizer();
  auto eos = eos_set(*tok);
  auto eos_ids = torch::tensor(std::vector<int64_t>(eos.begin(), eos.end()), torch::kInt64);

  int compared = 0, eos_was_top1 = 0;
  for (const auto& x : baco.samples) {
    CHECK(x.finish == FinishReason::kLength);
    REQUIRE(x.length() == 30);
    for (const auto& t : x.tokens) CHECK(eos.count(t.id) == 0);
    // Replay the base model over the emitted text: each base token is the argmax once EOS is gone.
    auto ids = P.decoder->base_prompt(kPrompts[static_cast<size_t>(x.prompt_index)], o);
    ids.push_back(x.tokens[0].id);
    KvCache cache;
    auto logits = P.base->prefill(cache, {ids});
    for (size_t k = 1; k < x.tokens.size(); ++k) {
      if (x.tokens[k].source == TokenSource::kBase) {
        auto top = logits.argmax(-1)[0].item<int64_t>();
        eos_was_top1 += eos.count(static_cast<int32_t>(top)) == 1;
        auto masked = logits.index_fill(1, eos_ids, -std::numeric_limits<float>::infinity());
        INFO("token " << k);
        REQUIRE(x.tokens[k].id == masked.argmax(-1)[0].item<int64_t>());
        ++compared;
      }
      logits = P.base->decode(cache, torch::tensor({static_cast<int64_t>(x.tokens[k].id)}));
    }
  }
  CHECK(compared >= 100);
  // The case the fix is about happened at least once (the fixture's EOS is top-1 on ~3% of steps).
  CHECK(eos_was_top1 > 0);
}

TEST_CASE("lazy catch-up emits exactly what eager decoding emits") {
  const auto& P = pair("shared");
  for (const char* spec : {"p-punc:0.5", "h-fc:1.5", "rand:0.5", "p-a:0.4", "hr:1.2", "rand:0", "rand:1"}) {
    INFO(spec);
    auto o = options(3, 16, 11);
    o.lazy = true;
    auto lazy = P.decoder->generate(kPrompts, spec, o);
    o.lazy = false;
    auto eager = P.decoder->generate(kPrompts, spec, o);
    REQUIRE(lazy.samples.size() == eager.samples.size());
    for (size_t s = 0; s < lazy.samples.size(); ++s) {
      CHECK(trace(lazy.samples[s]) == trace(eager.samples[s]));
      CHECK(lazy.samples[s].text == eager.samples[s].text);
      // Eager records every statistic; lazy's, where present, are the same numbers.
      for (size_t k = 0; k < lazy.samples[s].tokens.size(); ++k) {
        const auto& a = lazy.samples[s].tokens[k];
        const auto& b = eager.samples[s].tokens[k];
        CHECK(!std::isnan(b.p_base_max));
        CHECK(!std::isnan(b.p_aligned_max));
        if (!std::isnan(a.p_base_max)) CHECK(a.p_base_max == Approx(b.p_base_max).epsilon(1e-4));
        if (!std::isnan(a.h_aligned)) CHECK(a.h_aligned == Approx(b.h_aligned).epsilon(1e-4).margin(1e-5));
      }
    }
    CHECK(lazy.base_forwards + lazy.aligned_forwards <= eager.base_forwards + eager.aligned_forwards);
    CHECK(lazy.base_tokens_fed <= eager.base_tokens_fed);
    CHECK(lazy.aligned_tokens_fed <= eager.aligned_tokens_fed);
    if (std::string(spec) == "rand:0") CHECK(lazy.base_forwards == 0);  // base is never needed
    if (std::string(spec) == "rand:1") {
      // Almost every token comes from base: the aligned model is asked only for the first word and
      // EOS hand-offs, and catches up on what it missed in chunked passes.
      CHECK(lazy.aligned_forwards < eager.aligned_forwards);
      // Without EOS (no hand-offs, which make it catch up on everything) it never sees the rest.
      o.ignore_eos = true;
      o.lazy = true;
      auto lazy_noeos = P.decoder->generate(kPrompts, spec, o);
      o.lazy = false;
      auto eager_noeos = P.decoder->generate(kPrompts, spec, o);
      for (size_t s = 0; s < lazy_noeos.samples.size(); ++s)
        CHECK(trace(lazy_noeos.samples[s]) == trace(eager_noeos.samples[s]));
      CHECK(lazy_noeos.aligned_tokens_fed < eager_noeos.aligned_tokens_fed);
    }
  }
}

TEST_CASE("batched decoding equals one prompt and one sample at a time") {
  const auto& P = pair("shared");
  auto o = options(3, 16, 5);
  auto all = P.decoder->generate(kPrompts, "p-punc:0.4", o);
  for (size_t p = 0; p < kPrompts.size(); ++p) {
    for (int64_t i = 0; i < o.num_samples; ++i) {
      auto one = o;
      one.num_samples = 1;
      one.first_sample_index = i;
      auto r = P.decoder->generate({kPrompts[p]}, "p-punc:0.4", one);
      const auto& a = all.samples[p * static_cast<size_t>(o.num_samples) + static_cast<size_t>(i)];
      INFO("prompt " << p << " sample " << i);
      CHECK(r.samples[0].sample_index == a.sample_index);
      CHECK(trace(r.samples[0]) == trace(a));
    }
  }
}

TEST_CASE("invariants and provenance over many random runs") {
  const auto& P = pair("shared");
  auto btok = P.base->tokenizer();
  auto atok = P.aligned->tokenizer();
  auto a_eos = eos_set(*atok);
  auto b_eos = eos_set(*btok);
  struct Case {
    std::string spec;
    std::function<bool(const TokenRecord&)> base_wanted;  // the rule, written out independently
  };
  const double g = 0.4;
  std::vector<Case> cases = {
      {"p-punc:0.4", [&](const TokenRecord& t) {
         return !punct(*atok, t.aligned_top1) && !punct(*btok, t.base_candidate) && t.p_base_max < g;
       }},
      {"h-fc:1.5", [&](const TokenRecord& t) {
         const auto& c = atok->token_classes();
         return !c.is_function_word[static_cast<size_t>(t.aligned_top1)] && t.h_base > 1.5f;
       }},
      {"p:0.4", [&](const TokenRecord& t) { return t.p_base_max < g; }},
      {"pr:0.9", [&](const TokenRecord& t) { return t.p_base_max / t.p_aligned_max < 0.9f; }},
  };
  int64_t rule_steps = 0, handoffs = 0, in_word = 0, eos_ends = 0, redraws = 0, base_tokens = 0;
  for (const auto& c : cases) {
    for (uint64_t seed : {1u, 2u}) {
      auto o = options(5, 20, seed);
      o.lazy = false;  // every statistic recorded
      auto res = P.decoder->generate(kPrompts, c.spec, o);
      for (const auto& s : res.samples) {
        INFO(c.spec << " seed " << seed << " sample " << s.sample_index << ": " << s.text);
        REQUIRE(!s.tokens.empty());
        CHECK(s.tokens[0].source == TokenSource::kAligned);  // invariant 1
        std::string text;
        for (size_t k = 0; k < s.tokens.size(); ++k) {
          const auto& t = s.tokens[k];
          const auto& tok = t.source == TokenSource::kBase ? *btok : *atok;
          text += t.text;
          redraws += t.eos_redraws;
          // Invariant 3: EOS is the aligned model's top-1, and ends the sample.
          if (t.eos) {
            CHECK(k + 1 == s.tokens.size());
            CHECK(t.source == TokenSource::kAligned);
            CHECK(a_eos.count(t.id) == 1);
            CHECK(t.id == t.aligned_top1);
            CHECK(s.finish == FinishReason::kEos);
            ++eos_ends;
          } else {
            CHECK(a_eos.count(t.id) + b_eos.count(t.id) == 0);
            CHECK(t.text == tok.token_bytes(t.id));
          }
          if (t.source == TokenSource::kAligned && t.aligned_candidate >= 0 &&
              a_eos.count(t.aligned_candidate))
            CHECK(t.aligned_candidate == t.aligned_top1);
          base_tokens += t.source == TokenSource::kBase;
          if (k == 0) continue;
          const auto& prev = s.tokens[k - 1];
          const auto& ptok = prev.source == TokenSource::kBase ? *btok : *atok;
          const bool boundary = ends_word(ptok, prev.id) || starts_word(tok, t.id);
          // Invariant 2: a switch happens only at a word boundary.
          if (t.source != prev.source) {
            CHECK(boundary);
            if (!t.eos) CHECK_FALSE(unfinished_char(text.substr(0, text.size() - t.text.size())));
          }
          switch (t.reason) {
            case ChoiceReason::kFirstToken: FAIL("first-token reason after position 0"); break;
            case ChoiceReason::kInWord:
              CHECK(t.source == prev.source);
              ++in_word;
              break;
            case ChoiceReason::kEosHandoff:
              CHECK(t.source == TokenSource::kAligned);
              CHECK(b_eos.count(t.base_candidate) == 1);
              CHECK(c.base_wanted(t));
              ++handoffs;
              break;
            case ChoiceReason::kRule:
              // The rule decided at a boundary, and the record's statistics give its decision.
              CHECK(boundary);
              CHECK(c.base_wanted(t) == (t.source == TokenSource::kBase));
              ++rule_steps;
              break;
          }
        }
        CHECK(text == s.text);
        CHECK(s.length() <= o.max_new_tokens);
        if (s.finish == FinishReason::kLength) CHECK(s.length() == o.max_new_tokens);
      }
    }
  }
  // The runs must have exercised every path above.
  CHECK(rule_steps > 100);
  CHECK(in_word > 10);
  CHECK(handoffs > 0);
  CHECK(eos_ends > 0);
  CHECK(redraws > 0);
  CHECK(base_tokens > 50);
}

TEST_CASE("rule decisions at word starts inside a word's continuation check") {
  // A rule step whose previous token did not end a word: the owner's candidate started a new word.
  const auto& P = pair("shared");
  auto atok = P.aligned->tokenizer();
  auto btok = P.base->tokenizer();
  int64_t seen = 0;
  auto o = options(5, 20, 21);
  o.lazy = false;
  auto res = P.decoder->generate(kPrompts, "rand:0.5", o);
  for (const auto& s : res.samples)
    for (size_t k = 1; k < s.tokens.size(); ++k) {
      const auto& t = s.tokens[k];
      const auto& prev = s.tokens[k - 1];
      const auto& ptok = prev.source == TokenSource::kBase ? *btok : *atok;
      if (t.reason != ChoiceReason::kRule || t.eos || ends_word(ptok, prev.id)) continue;
      const auto& tok = t.source == TokenSource::kBase ? *btok : *atok;
      CHECK(starts_word(tok, t.id));
      ++seen;
    }
  CHECK(seen > 0);
}

TEST_CASE("a user rule sees each step as the record of the token it decided, and the routing u") {
  // C and Python rules are function rules: what this one sees is what they see.
  struct Seen {
    StepView v;
    std::string prompt, generated, base_text, aligned_text;  // the view's text is valid during the call only
  };
  for (std::string name : {"shared", "cross"}) {
    const auto& P = pair(name);
    auto btok = P.base->tokenizer();
    auto atok = P.aligned->tokenizer();
    auto b_eos = eos_set(*btok);
    auto a_eos = eos_set(*atok);
    for (bool lazy : {true, false}) {
      auto o = options(3, 16, 3);
      o.lazy = lazy;
      std::vector<Seen> seen;
      auto rule = function_rule("rec", [&seen](const StepView& v) {
        seen.push_back({v, std::string(v.prompt), std::string(v.generated), std::string(v.base_candidate_text),
                        std::string(v.aligned_candidate_text)});
        return v.p_base_max < v.p_aligned_max ? BacoChoice::kBase : BacoChoice::kAligned;
      }, kNeedsBoth);
      auto res = P.decoder->generate(kPrompts, *rule, o);
      INFO(name << (lazy ? " lazy" : " eager"));
      REQUIRE(seen.size() > 10);
      std::set<std::pair<int64_t, int64_t>> steps;
      for (const auto& x : seen) {
        const auto& v = x.v;
        INFO("row " << v.row << " position " << v.position);
        CHECK(steps.insert({v.row, v.position}).second);  // one full view per decided step
        REQUIRE(v.row >= 0);
        REQUIRE(static_cast<size_t>(v.row) < res.samples.size());
        const auto& s = res.samples[static_cast<size_t>(v.row)];
        REQUIRE(v.position >= 1);
        REQUIRE(static_cast<size_t>(v.position) < s.tokens.size());
        const auto& t = s.tokens[static_cast<size_t>(v.position)];
        CHECK((v.has_base && v.has_aligned));
        auto bits = [](float f) {
          uint32_t u;
          std::memcpy(&u, &f, sizeof u);
          return u;
        };
        CHECK(bits(v.p_base_max) == bits(t.p_base_max));
        CHECK(bits(v.p_aligned_max) == bits(t.p_aligned_max));
        CHECK(bits(v.h_base) == bits(t.h_base));
        CHECK(bits(v.h_aligned) == bits(t.h_aligned));
        CHECK(v.base_candidate == t.base_candidate);
        CHECK(v.aligned_candidate == t.aligned_candidate);
        CHECK(v.aligned_top1 == t.aligned_top1);
        auto fw = [](const Tokenizer& tok, int32_t id) {
          const auto& c = tok.token_classes().is_function_word;
          return id >= 0 && static_cast<size_t>(id) < c.size() && c[static_cast<size_t>(id)] != 0;
        };
        CHECK(v.base_candidate_punct == (punct(*btok, v.base_candidate) || b_eos.count(v.base_candidate) > 0));
        CHECK(v.aligned_top1_punct == (punct(*atok, v.aligned_top1) || a_eos.count(v.aligned_top1) > 0));
        CHECK(v.base_candidate_function == fw(*btok, v.base_candidate));
        CHECK(v.aligned_top1_function == fw(*atok, v.aligned_top1));
        CHECK(x.prompt == kPrompts[static_cast<size_t>(s.prompt_index)]);
        std::string before;
        for (int64_t k = 0; k < v.position; ++k) before += s.tokens[static_cast<size_t>(k)].text;
        CHECK(x.generated == before);
        CHECK(x.base_text == baco::token_text(*btok, v.base_candidate));
        CHECK(x.aligned_text == baco::token_text(*atok, v.aligned_candidate));
        // The routing generator gives one uniform per step: position p reads the (p+1)-th.
        auto gen = make_generator(
            sample_seed(baco::route_seed(o.seed),
                        prompt_key(P.decoder->aligned_prompt(kPrompts[static_cast<size_t>(s.prompt_index)], o))),
            static_cast<uint64_t>(s.sample_index));
        double u = 0;
        for (int64_t k = 0; k <= v.position; ++k) u = sampling::next_uniform(gen);
        CHECK(v.u == u);
      }
    }
  }
}

TEST_CASE("summaries count base tokens and switches by position") {
  const auto& P = pair("shared");
  auto res = P.decoder->generate(kPrompts, "rand:0.5", options(5, 16, 4));
  const auto& sm = res.summary;
  int64_t tokens = 0, base = 0, switches = 0;
  std::vector<int64_t> at(16, 0), base_at(16, 0), sw_at(16, 0);
  for (const auto& s : res.samples) {
    for (int64_t i = 0; i < s.length(); ++i) {
      const auto& t = s.tokens[static_cast<size_t>(i)];
      ++tokens;
      ++at[static_cast<size_t>(i)];
      if (t.source == TokenSource::kBase) {
        ++base;
        ++base_at[static_cast<size_t>(i)];
      }
      if (i > 0 && t.source != s.tokens[static_cast<size_t>(i - 1)].source) {
        ++switches;
        ++sw_at[static_cast<size_t>(i)];
      }
    }
  }
  CHECK(sm.samples == 10);
  CHECK(sm.tokens == tokens);
  CHECK(sm.base_tokens == base);
  CHECK(sm.switches == switches);
  CHECK(sm.base_share == Approx(static_cast<double>(base) / static_cast<double>(tokens)));
  REQUIRE(sm.base_share_by_position.size() <= 16);
  for (size_t i = 0; i < sm.base_share_by_position.size(); ++i) {
    CHECK(sm.samples_by_position[i] == at[i]);
    CHECK(sm.base_share_by_position[i] ==
          Approx(static_cast<double>(base_at[i]) / static_cast<double>(at[i])));
    CHECK(sm.switch_rate_by_position[i] ==
          Approx(static_cast<double>(sw_at[i]) / static_cast<double>(at[i])));
  }
  CHECK(sm.base_share_by_position[0] == 0.0);  // invariant 1
  CHECK(base > 0);
  CHECK(switches > 0);
}

TEST_CASE("minimum length: short samples are regenerated and counted") {
  const auto& P = pair("shared");
  // p:1 routes nearly everything to base; the aligned EOS still ends samples early at times.
  auto o = options(6, 20, 8);
  auto free_run = P.decoder->generate(kPrompts, "p-punc:0.9", o);
  int64_t short_ones = 0;
  for (const auto& s : free_run.samples)
    short_ones += s.finish == FinishReason::kEos && s.length() < 12;
  REQUIRE(short_ones > 0);

  o.min_new_tokens = 12;
  o.max_retries = 6;
  auto res = P.decoder->generate(kPrompts, "p-punc:0.9", o);
  int64_t retries = 0;
  for (size_t i = 0; i < res.samples.size(); ++i) {
    const auto& s = res.samples[i];
    retries += s.retries;
    if (s.finish == FinishReason::kEos && s.length() < 12) CHECK(s.retries == 6);
    // A sample that was fine the first time is not touched.
    const auto& f = free_run.samples[i];
    if (!(f.finish == FinishReason::kEos && f.length() < 12)) {
      CHECK(s.retries == 0);
      CHECK(trace(s) == trace(f));
    } else {
      CHECK(s.retries > 0);
    }
  }
  CHECK(retries > 0);
  CHECK(res.summary.retries == retries);
}

TEST_CASE("callbacks stream tokens, stop a sample, and cancel through progress") {
  const auto& P = pair("shared");
  auto o = options(2, 12, 9);
  std::vector<std::vector<int32_t>> streamed(4);
  o.on_token = [&](int64_t row, const TokenRecord& t) {
    streamed[static_cast<size_t>(row)].push_back(t.id);
    return !(row == 1 && streamed[1].size() == 3);
  };
  int64_t last_done = -1;
  o.on_progress = [&](int64_t done, int64_t total, const std::string& label) {
    CHECK(label == "baco");
    CHECK(done >= last_done);
    CHECK(total == 4 * 12);
    last_done = done;
    return true;
  };
  auto res = P.decoder->generate(kPrompts, "p-punc:0.5", o);
  for (size_t r = 0; r < 4; ++r) {
    std::vector<int32_t> ids;
    for (const auto& t : res.samples[r].tokens) ids.push_back(t.id);
    CHECK(ids == streamed[r]);
  }
  CHECK(res.samples[1].finish == FinishReason::kCallback);
  CHECK(res.samples[1].tokens.size() == 3);
  CHECK(last_done > 0);

  o.on_token = nullptr;
  o.on_progress = [](int64_t done, int64_t, const std::string&) { return done < 5; };
  CHECK_THROWS_AS(P.decoder->generate(kPrompts, "p-punc:0.5", o), Cancelled);
}

TEST_CASE("gamma sweeps return one point per threshold, equal to single runs") {
  const auto& P = pair("shared");
  auto o = options(3, 12, 2);
  auto pts = P.decoder->sweep({kPrompts[0]}, "p-punc", {0.0, 0.5, 1.0}, o);
  REQUIRE(pts.size() == 3);
  CHECK(pts[0].gamma == 0.0);
  CHECK(pts[2].result.rule == "p-punc:1");
  CHECK(pts[0].result.summary.base_tokens == 0);
  CHECK(pts[2].result.summary.base_share > pts[0].result.summary.base_share);
  auto single = P.decoder->generate({kPrompts[0]}, "p-punc:0.5", o);
  for (size_t s = 0; s < single.samples.size(); ++s)
    CHECK(trace(single.samples[s]) == trace(pts[1].result.samples[s]));
}

TEST_CASE("the base prompt: the shifting template by default, base_template when given") {
  for (const char* name : {"shared", "cross"}) {
    INFO(name);
    const auto& P = pair(name);
    const auto& btok = *P.base->tokenizer();
    BacoOptions o = options();
    for (const auto& prompt : kPrompts) {
      // Default: "PROMPT\n" (BACO Appendix A), with the specials raw text gets (e.g. BOS).
      CHECK(P.decoder->base_prompt(prompt, o) == btok.encode(prompt + "\n", /*add_special=*/true));
      CHECK(P.decoder->base_prompt(prompt, o) != btok.encode(prompt, true));
      // The aligned prompt is unchanged: its chat template, as generate() renders it.
      CHECK(P.decoder->aligned_prompt(prompt, o) == encode_prompt(*P.aligned, prompt, true));
      // A format string replaces the text; the specials stay.
      BacoOptions f = o;
      f.base_template = ChatTemplate::from_format("Question: {prompt}\nAnswer:");
      CHECK(P.decoder->base_prompt(prompt, f) == btok.encode("Question: " + prompt + "\nAnswer:", true));
      f.base_template = ChatTemplate::plain();  // the bare prompt of earlier versions
      CHECK(P.decoder->base_prompt(prompt, f) == btok.encode(prompt, true));
      CHECK(P.decoder->aligned_prompt(prompt, f) == P.decoder->aligned_prompt(prompt, o));
    }
  }
}

TEST_CASE("bad requests fail with clear errors") {
  const auto& P = pair("shared");
  auto o = options();
  CHECK_THROWS_AS(P.decoder->generate({}, "p:0.3", o), InvalidArgument);
  CHECK_THROWS_AS(P.decoder->generate(kPrompts, "nope:0.3", o), InvalidArgument);
  auto bad = o;
  bad.num_samples = 0;
  CHECK_THROWS_WITH(P.decoder->generate(kPrompts, "p:0.3", bad), Catch::Contains("num_samples"));
  bad = o;
  bad.min_new_tokens = 100;
  bad.max_new_tokens = 10;
  CHECK_THROWS_WITH(P.decoder->generate(kPrompts, "p:0.3", bad), Catch::Contains("min_new_tokens"));
  bad = o;
  bad.aligned_sampling.top_p = 0;
  CHECK_THROWS_AS(P.decoder->generate(kPrompts, "p:0.3", bad), InvalidArgument);
  // A user rule that never decides is reported, not looped on.
  auto undecided = function_rule("never", [](const StepView&) { return BacoChoice::kUndecided; });
  CHECK_THROWS_WITH(P.decoder->generate(kPrompts, *undecided, o), Catch::Contains("undecided"));
  CHECK_THROWS_AS(BacoDecoder(nullptr, P.aligned), InvalidArgument);
}

namespace {

/// Every field of every record, the text and the finish of two results, compared exactly.
void check_same_samples(const BacoResult& a, const BacoResult& b) {
  REQUIRE(a.samples.size() == b.samples.size());
  for (size_t s = 0; s < a.samples.size(); ++s) {
    const auto& x = a.samples[s];
    const auto& y = b.samples[s];
    INFO("sample " << s << ": " << x.text << " | " << y.text);
    CHECK(x.text == y.text);
    CHECK(x.finish == y.finish);
    CHECK(x.retries == y.retries);
    REQUIRE(x.tokens.size() == y.tokens.size());
    for (size_t k = 0; k < x.tokens.size(); ++k) {
      const auto& t = x.tokens[k];
      const auto& u = y.tokens[k];
      INFO("token " << k);
      CHECK(t.id == u.id);
      CHECK(t.source == u.source);
      CHECK(t.reason == u.reason);
      CHECK(t.eos == u.eos);
      CHECK(t.base_candidate == u.base_candidate);
      CHECK(t.aligned_candidate == u.aligned_candidate);
      CHECK(t.aligned_top1 == u.aligned_top1);
      CHECK(t.eos_redraws == u.eos_redraws);
      CHECK(std::memcmp(&t.p_base_max, &u.p_base_max, sizeof(float)) == 0);
      CHECK(std::memcmp(&t.h_aligned, &u.h_aligned, sizeof(float)) == 0);
    }
  }
}

}  // namespace

namespace {

struct StepConfig {
  const char* spec;
  uint64_t seed;
  bool ignore_eos;
  bool greedy_aligned;
  int64_t min_new;
};

// Every rule family, cascades, both EOS modes (hand-offs and invariant-3 redraws need EOS), a
// greedy lane (draws that use no uniform) and regenerated short samples.
const std::vector<StepConfig> kStepConfigs = {
    {"p-punc:0.5", 1, false, false, 0}, {"h-fc:1.5", 2, false, false, 0}, {"rand:0.5", 3, false, false, 4},
    {"p-a:0.4", 4, false, false, 0},    {"hr:1.2", 5, false, true, 0},     {"rand:1", 6, false, false, 0},
    {"rand:0", 7, true, false, 0},      {"pr:0.9", 8, true, false, 0},     {"p:0.3", 9, false, false, 6},
    {"base", 10, false, false, 0},      {"punc", 11, false, false, 0},     {"fc", 12, false, true, 0},
};

/// The resident step against the host-driven step on `P` for each config: identical records, and
/// one host read per step (the hook's count) but the first step of each pass.
void check_resident_equals_host_driven(const Pair& P, const std::vector<StepConfig>& configs) {
  int64_t handoffs = 0, redraws = 0, in_word = 0, base_tokens = 0;
  for (const auto& c : configs) {
    INFO(c.spec << " seed " << c.seed);
    auto o = options(4, 24, c.seed);
    o.lazy = false;
    o.ignore_eos = c.ignore_eos;
    o.min_new_tokens = c.min_new;
    if (c.greedy_aligned) o.aligned_sampling.temperature = 0;
    o.step = BacoStep::kHostDriven;
    auto host = P.decoder->generate(kPrompts, c.spec, o);
    o.step = BacoStep::kResident;
    std::vector<int64_t> per_step;
    std::string last_log;
    test::HostSyncCounter syncs;
    o.on_progress = [&](int64_t, int64_t, const std::string&) {
      per_step.push_back(syncs.count());
      if (syncs.count() != 1) last_log = syncs.log();
      syncs.reset();
      return true;
    };
    auto resident = P.decoder->generate(kPrompts, c.spec, o);
    check_same_samples(host, resident);
    CHECK(host.steps == resident.steps);
    // Every step but the first of each pass (its setup forks the prompts' caches): the lanes'
    // forwards, the draws and the rule cost one read. Regenerating short samples adds passes.
    int64_t passes = 1;
    for (const auto& s : resident.samples) passes = std::max(passes, 1 + s.retries);
    REQUIRE(per_step.size() > 2);
    INFO(last_log);
    CHECK(per_step[0] > 1);  // the hook sees the setup (a sanity check of the hook itself)
    CHECK(std::count_if(per_step.begin(), per_step.end(), [](int64_t n) { return n != 1; }) <= passes);
    for (const auto& s : host.samples)
      for (const auto& t : s.tokens) {
        handoffs += t.reason == ChoiceReason::kEosHandoff;
        in_word += t.reason == ChoiceReason::kInWord;
        redraws += t.eos_redraws;
        base_tokens += t.source == TokenSource::kBase;
      }
  }
  // The comparison reached the decisions that are easy to get wrong.
  CHECK(in_word > 0);
  CHECK(base_tokens > 0);
  CHECK(redraws > 0);
  CHECK(handoffs > 0);
}

}  // namespace

TEST_CASE("the resident step emits what the host-driven step emits, with one host read per step") {
  check_resident_equals_host_driven(pair("shared"), kStepConfigs);
}

TEST_CASE("base in bfloat16 and aligned in float32: the resident step equals the host-driven step, one read per step") {
  auto P = load_pair("shared", model_options(torch::kCPU, torch::kBFloat16), model_options(torch::kCPU, torch::kFloat32));
  check_resident_equals_host_driven(P, kStepConfigs);
  // The records' statistics are float32 whatever the base model's dtype: a bfloat16 value has 8
  // significant bits, and the base lane's max-probabilities here have more.
  auto o = options(2, 12, 5);
  o.lazy = false;
  auto res = P.decoder->generate(kPrompts, "rand:0.5", o);
  int64_t finer = 0, seen = 0;
  for (const auto& s : res.samples)
    for (const auto& t : s.tokens) {
      if (std::isnan(t.p_base_max)) continue;
      ++seen;
      finer += static_cast<float>(static_cast<c10::BFloat16>(t.p_base_max)) != t.p_base_max;
    }
  REQUIRE(seen > 0);
  CHECK(finer > 0);
}

TEST_CASE("the resident step is refused where its decisions need the host") {
  const auto& P = pair("shared");
  auto o = options(2, 8, 1);
  o.step = BacoStep::kResident;
  o.lazy = true;
  CHECK_THROWS_WITH(P.decoder->generate(kPrompts, "p:0.3", o), Catch::Contains("lazy = false"));
  o.lazy = false;
  auto text_rule = function_rule("mine", [](const StepView&) { return BacoChoice::kBase; });
  CHECK_THROWS_WITH(P.decoder->generate(kPrompts, *text_rule, o), Catch::Contains("reads text"));
  CHECK_THROWS_WITH(pair("cross").decoder->generate(kPrompts, "p:0.3", o), Catch::Contains("different"));
  // kAuto on the CPU keeps the host-driven step (cheaper there); the result is the same either way.
  o.step = BacoStep::kAuto;
  auto a = P.decoder->generate(kPrompts, "p:0.3", o);
  o.step = BacoStep::kResident;
  check_same_samples(a, P.decoder->generate(kPrompts, "p:0.3", o));
}

TEST_CASE("different vocabularies: hand-off through text at word boundaries") {
  const auto& P = pair("cross");
  REQUIRE_FALSE(P.decoder->shared_vocabulary());
  REQUIRE(pair("shared").decoder->shared_vocabulary());
  auto btok = P.base->tokenizer();
  auto atok = P.aligned->tokenizer();
  int64_t base_tokens = 0, aligned_tokens = 0, switches = 0;
  int64_t valid_texts = 0;
  for (const char* spec : {"rand:0.5", "p-punc:0.6"}) {
    auto o = options(5, 20, 13);
    auto res = P.decoder->generate(kPrompts, spec, o);
    for (const auto& s : res.samples) {
      INFO(spec << " sample " << s.sample_index << ": " << s.text);
      std::string text;
      for (size_t k = 0; k < s.tokens.size(); ++k) {
        const auto& t = s.tokens[k];
        const auto& tok = t.source == TokenSource::kBase ? *btok : *atok;
        if (!t.eos) CHECK(t.text == tok.token_bytes(t.id));
        text += t.text;
        (t.source == TokenSource::kBase ? base_tokens : aligned_tokens) += 1;
        if (k > 0 && t.source != s.tokens[k - 1].source && !t.eos) {
          const auto& prev = s.tokens[k - 1];
          const auto& ptok = prev.source == TokenSource::kBase ? *btok : *atok;
          // No word is split between the models (invariant 2, in each model's own vocabulary), and
          // no character: the text before a switch is whole UTF-8 characters.
          CHECK((ends_word(ptok, prev.id) || starts_word(tok, t.id)));
          CHECK_FALSE(unfinished_char(text.substr(0, text.size() - t.text.size())));
          ++switches;
        }
      }
      CHECK(text == s.text);
      // No character is split between the models: a random model's own byte tokens can still make
      // invalid UTF-8 (then U+FFFD stands in for it on both sides); a hand-off never does.
      if (!valid_utf8(s.text)) continue;
      ++valid_texts;
      // The text round-trips through both tokenizers.
      CHECK(btok->decode(btok->encode(s.text)) == s.text);
      auto a_back = atok->decode(atok->encode(s.text));
      // SentencePiece's decoder drops the space marker it prepends; the text is otherwise intact.
      CHECK((a_back == s.text || " " + a_back == s.text));
    }
  }
  CHECK(base_tokens > 20);
  CHECK(aligned_tokens > 20);
  CHECK(switches > 10);
  CHECK(valid_texts >= 10);
}

TEST_CASE("different vocabularies: lazy equals eager and the aligned context is re-tokenized text") {
  const auto& P = pair("cross");
  auto o = options(3, 16, 17);
  auto lazy = P.decoder->generate(kPrompts, "p-punc:0.5", o);
  o.lazy = false;
  auto eager = P.decoder->generate(kPrompts, "p-punc:0.5", o);
  for (size_t s = 0; s < lazy.samples.size(); ++s) CHECK(trace(lazy.samples[s]) == trace(eager.samples[s]));
}
