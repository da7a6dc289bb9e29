// Logit ensemble, response ensemble and NUDGING on the tiny pairs.
#include <cmath>

#include "methods_test_util.hpp"

using namespace methods_test;

namespace {

const std::vector<std::string> kPrompts = {"Tell me a joke about a cat.", "Name a color.",
                                           "Write a haiku about rain."};

std::vector<std::vector<int32_t>> tokens_of(const MethodResult& r) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& s : r.samples) out.push_back(s.tokens);
  return out;
}

}  // namespace

TEST_CASE("logit ensemble at w = 0 is aligned sampling token for token", "[methods][logit_ensemble]") {
  const auto& P = pair("shared");
  LogitEnsembleOptions o;
  o.num_samples = 4;
  o.max_new_tokens = 24;
  o.seed = 7;
  o.w = 0.0;
  auto ens = logit_ensemble(P.base, P.aligned, kPrompts, o);
  REQUIRE(ens.samples.size() == kPrompts.size() * 4);
  auto ref = sample(*P.aligned, kPrompts, o);  // generate() with the aligned chat template
  REQUIRE(tokens_of(ens) == tokens_of(ref));
  for (size_t r = 0; r < ens.samples.size(); ++r) {
    CHECK(ens.samples[r].text == ref.samples[r].text);
    CHECK(ens.samples[r].finish == ref.samples[r].finish);
    CHECK(ens.samples[r].prompt_index == static_cast<int64_t>(r / 4));
    CHECK(ens.samples[r].sample_index == static_cast<int64_t>(r % 4));
  }
  // A prompt's answers do not depend on the batch it shares.
  auto alone = logit_ensemble(P.base, P.aligned, {kPrompts[1]}, o);
  for (size_t i = 0; i < 4; ++i) CHECK(alone.samples[i].tokens == ens.samples[4 + i].tokens);
}

TEST_CASE("logit ensemble at w = 1 draws from the base model with the aligned prompt's uniforms",
          "[methods][logit_ensemble]") {
  const auto& P = pair("shared");
  LogitEnsembleOptions o;
  o.num_samples = 3;
  o.max_new_tokens = 12;
  o.seed = 3;
  o.w = 1.0;
  auto ens = logit_ensemble(P.base, P.aligned, {kPrompts[0]}, o);
  // Reference: the base model's full-forward logits on "PROMPT\n" + tokens so far, drawn by a Sampler
  // with generator i of the aligned prompt.
  const auto a_ids = aligned_ids(*P.aligned, kPrompts[0]);
  const auto b_ids = base_ids(*P.base, kPrompts[0]);
  Sampler sampler(o.sampling);
  const auto eos = P.base->tokenizer()->eos_ids();
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<torch::Generator> gens{make_generator(sample_seed(o.seed, prompt_key(a_ids)), static_cast<uint64_t>(i))};
    std::vector<int32_t> toks;
    while (static_cast<int64_t>(toks.size()) < o.max_new_tokens) {
      auto id = static_cast<int32_t>(sampler.sample(full_logits(*P.base, concat(b_ids, toks)), gens)[0].item<int64_t>());
      toks.push_back(id);
      if (std::find(eos.begin(), eos.end(), id) != eos.end()) break;
    }
    CHECK(ens.samples[static_cast<size_t>(i)].tokens == toks);
    CHECK(ens.samples[static_cast<size_t>(i)].source == "base");
  }
}

TEST_CASE("logit ensemble greedy picks the argmax of w·P_base + (1−w)·P_aligned", "[methods][logit_ensemble]") {
  const auto& P = pair("shared");
  for (double w : {0.3, 0.5, 0.8}) {
    LogitEnsembleOptions o;
    o.num_samples = 1;
    o.max_new_tokens = 10;
    o.sampling.temperature = 0.0;
    o.w = w;
    auto ens = logit_ensemble(P.base, P.aligned, {kPrompts[2]}, o);
    const auto a_ids = aligned_ids(*P.aligned, kPrompts[2]);
    const auto b_ids = base_ids(*P.base, kPrompts[2]);
    const auto& toks = ens.samples[0].tokens;
    REQUIRE(!toks.empty());
    int64_t mixed_differs = 0;
    for (size_t t = 0; t < toks.size(); ++t) {
      std::vector<int32_t> prefix(toks.begin(), toks.begin() + static_cast<long>(t));
      auto pb = torch::softmax(full_logits(*P.base, concat(b_ids, prefix)), -1)[0];
      auto pa = torch::softmax(full_logits(*P.aligned, concat(a_ids, prefix)), -1)[0];
      auto mixp = w * pb + (1 - w) * pa;
      CHECK(mixp.argmax().item<int64_t>() == toks[t]);
      if (pb.argmax().item<int64_t>() != toks[t] || pa.argmax().item<int64_t>() != toks[t]) ++mixed_differs;
    }
    INFO("w = " << w << ": steps where the mixture's argmax is not both models' argmax: " << mixed_differs);
    CHECK(ens.samples[0].source == "mixed");
  }
}

TEST_CASE("logit ensemble refuses models without a shared vocabulary and bad weights", "[methods][logit_ensemble]") {
  const auto& C = pair("cross");
  LogitEnsembleOptions o;
  o.num_samples = 1;
  o.max_new_tokens = 4;
  try {
    logit_ensemble(C.base, C.aligned, kPrompts, o);
    FAIL("no error");
  } catch (const VocabularyMismatch& e) {
    CHECK(e.code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(e.what(), Catch::Contains("different vocabularies") && Catch::Contains("shares a tokenizer"));
  }
  const auto& P = pair("shared");
  o.w = 1.5;
  CHECK_THROWS_AS(logit_ensemble(P.base, P.aligned, kPrompts, o), InvalidArgument);
  CHECK_THROWS_WITH(logit_ensemble(P.base, P.aligned, kPrompts, o), Catch::Contains("options.w"));
  CHECK_THROWS_WITH(logit_ensemble_sweep(P.base, P.aligned, kPrompts, {0.2, -0.1}, o), Catch::Contains("-0.1"));
}

TEST_CASE("logit ensemble sweep gives one point per w in order, each as the single call", "[methods][logit_ensemble]") {
  const auto& P = pair("shared");
  LogitEnsembleOptions o;
  o.num_samples = 2;
  o.max_new_tokens = 8;
  auto pts = logit_ensemble_sweep(P.base, P.aligned, {kPrompts[0]}, {0.0, 0.5, 1.0}, o);
  REQUIRE(pts.size() == 3);
  for (const auto& pt : pts) {
    auto single = o;
    single.w = pt.value;
    CHECK(tokens_of(pt.result) == tokens_of(logit_ensemble(P.base, P.aligned, {kPrompts[0]}, single)));
  }
  CHECK(pts[0].value == 0.0);
  CHECK(pts[2].value == 1.0);
}

TEST_CASE("response ensemble: the first round(ratio·n) answers from base, the rest from aligned", "[methods][response_ensemble]") {
  CHECK(response_ensemble_base_count(0.5, 10) == 5);
  CHECK(response_ensemble_base_count(0.5, 5) == 3);
  CHECK(response_ensemble_base_count(0.3, 10) == 3);
  CHECK(response_ensemble_base_count(0.0, 4) == 0);
  CHECK(response_ensemble_base_count(1.0, 4) == 4);
  CHECK_THROWS_WITH(response_ensemble_base_count(1.2, 4), Catch::Contains("options.ratio"));

  const auto& P = pair("shared");
  ResponseEnsembleOptions o;
  o.num_samples = 5;
  o.max_new_tokens = 10;
  o.seed = 11;
  o.ratio = 0.4;  // 2 of 5 from base
  auto r = response_ensemble(P.base, P.aligned, kPrompts, o);
  REQUIRE(r.samples.size() == 15);
  // References: each model sampled on its own prompt (base: "PROMPT\n" with specials).
  GenerateOptions g;
  g.sampling = o.sampling;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.num_samples = 5;
  std::vector<std::vector<int32_t>> b_ids, a_ids;
  for (const auto& p : kPrompts) {
    b_ids.push_back(base_ids(*P.base, p));
    a_ids.push_back(aligned_ids(*P.aligned, p));
  }
  auto rb = generate_ids(*P.base, b_ids, g);
  auto ra = generate_ids(*P.aligned, a_ids, g);
  for (size_t p = 0; p < kPrompts.size(); ++p)
    for (size_t i = 0; i < 5; ++i) {
      const auto& s = r.samples[p * 5 + i];
      const auto& ref = i < 2 ? rb.samples[p * 5 + i] : ra.samples[p * 5 + i];
      CHECK(s.source == (i < 2 ? "base" : "aligned"));
      CHECK(s.tokens == ref.tokens);
      CHECK(s.text == ref.text);
      CHECK(s.prompt_index == static_cast<int64_t>(p));
      CHECK(s.sample_index == static_cast<int64_t>(i));
    }
  // Cross vocabularies are fine: nothing passes between the models.
  const auto& C = pair("cross");
  auto rc = response_ensemble(C.base, C.aligned, {kPrompts[0]}, o);
  CHECK(rc.samples.size() == 5);
}

TEST_CASE("NUDGING: switch points follow the rule from the recorded base top-1 probabilities", "[methods][nudging]") {
  for (const std::string name : {"shared", "cross"}) {
    const auto& P = pair(name);
    NudgingOptions o;
    o.num_samples = 4;
    o.max_new_tokens = 40;
    o.seed = 5;
    o.threshold = 0.4;
    auto r = nudging(P.base, P.aligned, kPrompts, o);
    REQUIRE(r.provenance.size() == r.samples.size());
    int64_t rule_aligned = 0, rule_base = 0;
    for (size_t k = 0; k < r.samples.size(); ++k) {
      const auto& toks = r.provenance[k].tokens;
      CHECK(r.samples[k].text == r.provenance[k].text);
      REQUIRE(!toks.empty());
      CHECK(toks[0].source == TokenSource::kAligned);  // the first word from the aligned model
      CHECK(toks[0].reason == ChoiceReason::kFirstToken);
      for (size_t t = 1; t < toks.size(); ++t) {
        const auto& rec = toks[t];
        if (rec.reason == ChoiceReason::kRule) {
          REQUIRE(!std::isnan(rec.p_base_max));  // the rule read the base distribution
          const auto want = rec.p_base_max < o.threshold ? TokenSource::kAligned : TokenSource::kBase;
          CHECK(rec.source == want);
          (want == TokenSource::kAligned ? rule_aligned : rule_base) += 1;
        } else if (rec.reason == ChoiceReason::kInWord) {
          CHECK(rec.source == toks[t - 1].source);  // the word's writer finishes it
        }
      }
    }
    INFO(name << ": rule steps to aligned " << rule_aligned << ", to base " << rule_base);
    CHECK(rule_aligned > 0);
    CHECK(rule_base > 0);
  }
}

TEST_CASE("NUDGING's recorded probabilities are the base model's top-1 probabilities", "[methods][nudging]") {
  const auto& P = pair("shared");
  NudgingOptions o;
  o.num_samples = 2;
  o.max_new_tokens = 16;
  o.seed = 9;
  auto r = nudging(P.base, P.aligned, {kPrompts[0]}, o);
  const auto b_ids = base_ids(*P.base, kPrompts[0]);
  int64_t checked = 0;
  for (const auto& s : r.provenance) {
    std::vector<int32_t> prefix;
    for (const auto& rec : s.tokens) {
      if (!std::isnan(rec.p_base_max)) {
        auto p = torch::softmax(full_logits(*P.base, concat(b_ids, prefix)), -1).max().item<float>();
        CHECK(rec.p_base_max == Approx(p).margin(1e-4));
        ++checked;
      }
      prefix.push_back(rec.id);
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("NUDGING sweep and bad thresholds", "[methods][nudging]") {
  const auto& P = pair("shared");
  NudgingOptions o;
  o.num_samples = 2;
  o.max_new_tokens = 12;
  auto pts = nudging_sweep(P.base, P.aligned, {kPrompts[0]}, {0.0, 1.0}, o);
  REQUIRE(pts.size() == 2);
  // γ = 0: the base model writes everything after the first word; γ = 1: the aligned model writes all.
  for (const auto& rec : pts[0].result.provenance[0].tokens)
    if (rec.reason == ChoiceReason::kRule) CHECK(rec.source == TokenSource::kBase);
  for (const auto& s : pts[1].result.provenance)
    for (const auto& rec : s.tokens)
      if (!rec.eos) CHECK(rec.source == TokenSource::kAligned);
  o.threshold = 2.0;
  CHECK_THROWS_WITH(nudging(P.base, P.aligned, {kPrompts[0]}, o), Catch::Contains("options.threshold"));
  CHECK(nudging_rule(0.25)->name() == "nudging:0.25");
}
