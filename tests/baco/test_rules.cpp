// Routing rules on hand-built step views: each rule at, just below and just above its threshold,
// partial views (lazy catch-up), cascade precedence and the NAME[:GAMMA] parser; StepBatch's host
// side (views, view, select); the word-boundary invariant on hand-worked cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "baco/word_boundary.hpp"
#include "breadth/error.hpp"
#include "breadth/baco_rules.hpp"

using namespace breadth;

namespace {

StepView full(float pb, float pa, float hb, float ha) {
  StepView v;
  v.has_base = v.has_aligned = true;
  v.p_base_max = pb;
  v.p_aligned_max = pa;
  v.h_base = hb;
  v.h_aligned = ha;
  v.base_candidate = 5;
  v.aligned_candidate = 6;
  v.aligned_top1 = 6;
  return v;
}

float below(float x) { return std::nextafter(x, -1.0f); }
float above(float x) { return std::nextafter(x, 2.0f * x + 1.0f); }

BacoChoice one(const RulePtr& r, const StepView& v) { return r->decide_one(v); }

/// The batched path and the one-row path must agree on every row.
std::vector<BacoChoice> both_paths(const RulePtr& r, const std::vector<StepView>& views) {
  auto t = r->decide(StepBatch::from_views(views));
  REQUIRE(t.size(0) == static_cast<int64_t>(views.size()));
  std::vector<BacoChoice> out;
  for (size_t i = 0; i < views.size(); ++i) {
    auto batched = static_cast<BacoChoice>(t[static_cast<int64_t>(i)].item<int8_t>());
    CHECK(batched == one(r, views[i]));
    out.push_back(batched);
  }
  return out;
}

constexpr BacoChoice B = BacoChoice::kBase, A = BacoChoice::kAligned, U = BacoChoice::kUndecided;

}  // namespace

TEST_CASE("p: base when max P_b < gamma") {
  const float g = 0.3f;
  auto r = p_rule(0.3);
  auto got = both_paths(r, {full(g, 0.9f, 1, 1), full(below(g), 0.9f, 1, 1), full(above(g), 0.9f, 1, 1)});
  CHECK((got == std::vector<BacoChoice>{A, B, A}));
  CHECK(r->first_needs() == kNeedsBase);
  CHECK(r->name() == "p:0.3");
}

TEST_CASE("p-a: base when max P_a < gamma") {
  const float g = 0.6f;
  auto got = both_paths(p_a_rule(0.6), {full(0.01f, g, 1, 1), full(0.01f, below(g), 1, 1),
                                        full(0.01f, above(g), 1, 1)});
  CHECK((got == std::vector<BacoChoice>{A, B, A}));
}

TEST_CASE("h and h-a: base when the entropy exceeds gamma") {
  const float g = 2.5f;
  auto got = both_paths(h_rule(2.5), {full(0.5f, 0.5f, g, 0), full(0.5f, 0.5f, below(g), 0),
                                      full(0.5f, 0.5f, above(g), 0)});
  CHECK((got == std::vector<BacoChoice>{A, A, B}));
  got = both_paths(h_a_rule(2.5), {full(0.5f, 0.5f, 9, g), full(0.5f, 0.5f, 9, below(g)),
                                   full(0.5f, 0.5f, 9, above(g))});
  CHECK((got == std::vector<BacoChoice>{A, A, B}));
}

TEST_CASE("pr: base when max P_b / max P_a < gamma") {
  // 0.25 / 0.5 == 0.5 exactly in binary floating point.
  auto got = both_paths(pr_rule(0.5), {full(0.25f, 0.5f, 1, 1), full(below(0.25f), 0.5f, 1, 1),
                                       full(above(0.25f), 0.5f, 1, 1)});
  CHECK((got == std::vector<BacoChoice>{A, B, A}));
}

TEST_CASE("hr: base when H_b / H_a > gamma, and the H_a = 0 case") {
  auto got = both_paths(hr_rule(2.0), {full(0.5f, 0.5f, 3.0f, 1.5f), full(0.5f, 0.5f, below(3.0f), 1.5f),
                                       full(0.5f, 0.5f, above(3.0f), 1.5f),
                                       full(0.5f, 1.0f, 0.1f, 0.0f), full(0.5f, 1.0f, 0.0f, 0.0f)});
  CHECK((got == std::vector<BacoChoice>{A, A, B, B, A}));
}

TEST_CASE("rand: base when u < gamma") {
  auto v = full(0.5f, 0.5f, 1, 1);
  std::vector<StepView> views(3, v);
  views[0].u = 0.4;
  views[1].u = std::nextafter(0.4, 0.0);
  views[2].u = std::nextafter(0.4, 1.0);
  auto got = both_paths(rand_rule(0.4), views);
  CHECK((got == std::vector<BacoChoice>{A, B, A}));
  CHECK(rand_rule(0.4)->first_needs() == kNeedsNothing);
  // γ = 0 never routes to base, γ = 1 always does (u is in [0, 1)).
  views[0].u = 0.0;
  CHECK((both_paths(rand_rule(0.0), views) == std::vector<BacoChoice>{A, A, A}));
  CHECK((both_paths(rand_rule(1.0), views) == std::vector<BacoChoice>{B, B, B}));
}

TEST_CASE("punc and fc read token classes") {
  auto v = full(0.1f, 0.9f, 1, 1);
  auto top1_punct = v, cand_punct = v, plain = v, top1_fw = v, cand_fw = v;
  top1_punct.aligned_top1_punct = true;
  cand_punct.base_candidate_punct = true;
  top1_fw.aligned_top1_function = true;
  cand_fw.base_candidate_function = true;
  CHECK((both_paths(punc_rule(), {top1_punct, cand_punct, plain, top1_fw}) ==
        std::vector<BacoChoice>{A, A, B, B}));
  // fc looks at the aligned top-1 only (SPEC §3).
  CHECK((both_paths(fc_rule(), {top1_fw, cand_fw, plain, top1_punct}) ==
        std::vector<BacoChoice>{A, B, B, B}));
}

TEST_CASE("partial views: a rule decides what it can and leaves the rest undecided") {
  StepView base_only = full(0.1f, NAN, 3, NAN);
  base_only.has_aligned = false;
  base_only.aligned_top1 = -1;
  StepView aligned_only = full(NAN, 0.2f, NAN, 3);
  aligned_only.has_base = false;
  aligned_only.base_candidate = -1;
  StepView none;

  CHECK((both_paths(p_rule(0.3), {base_only, aligned_only, none}) == std::vector<BacoChoice>{B, U, U}));
  CHECK((both_paths(p_a_rule(0.3), {base_only, aligned_only, none}) == std::vector<BacoChoice>{U, B, U}));
  CHECK((both_paths(pr_rule(0.3), {base_only, aligned_only}) == std::vector<BacoChoice>{U, U}));
  CHECK((both_paths(hr_rule(0.3), {base_only, aligned_only}) == std::vector<BacoChoice>{U, U}));
  CHECK((both_paths(rand_rule(0.5), {none}) == std::vector<BacoChoice>{B}));  // u = 0

  // punc: an aligned top-1 punctuation decides alone; a base punctuation candidate decides alone.
  auto a_punct = aligned_only;
  a_punct.aligned_top1_punct = true;
  auto b_punct = base_only;
  b_punct.base_candidate_punct = true;
  CHECK((both_paths(punc_rule(), {a_punct, aligned_only, b_punct, base_only}) ==
        std::vector<BacoChoice>{A, U, A, U}));
  auto a_fw = aligned_only;
  a_fw.aligned_top1_function = true;
  CHECK((both_paths(fc_rule(), {a_fw, aligned_only, base_only}) == std::vector<BacoChoice>{A, B, U}));
}

TEST_CASE("cascades: the content rule first, aligned decides, else the logit rule") {
  const float g = 0.3f;
  auto v = full(below(g), 0.9f, 4, 0.1f);  // p alone would route to base
  auto punct_top1 = v, punct_cand = v, fw = v, hi = v;
  punct_top1.aligned_top1_punct = true;
  punct_cand.base_candidate_punct = true;
  fw.aligned_top1_function = true;
  hi.p_base_max = g;  // p alone would route to aligned

  auto p_punc = make_rule("p-punc:0.3");
  CHECK(p_punc->name() == "p-punc:0.3");
  CHECK(p_punc->first_needs() == kNeedsAligned);
  CHECK((both_paths(p_punc, {v, punct_top1, punct_cand, fw, hi}) ==
        std::vector<BacoChoice>{B, A, A, B, A}));
  auto p_fc = make_rule("p-fc:0.3");
  CHECK((both_paths(p_fc, {v, punct_top1, punct_cand, fw, hi}) ==
        std::vector<BacoChoice>{B, B, B, A, A}));
  // h-* with γ = 3: h_base = 4 > 3 routes to base unless the content rule said aligned.
  auto h_punc = make_rule("h-punc:3");
  CHECK((both_paths(h_punc, {v, punct_top1, fw}) == std::vector<BacoChoice>{B, A, B}));
  auto h_fc = make_rule("h-fc:3");
  CHECK((both_paths(h_fc, {v, punct_top1, fw}) == std::vector<BacoChoice>{B, B, A}));
  auto low_h = v;
  low_h.h_base = 3;
  CHECK((both_paths(h_fc, {low_h}) == std::vector<BacoChoice>{A}));

  // Lazy: with only the aligned model, a punctuation top-1 decides; otherwise the cascade must wait.
  auto a_only = punct_top1;
  a_only.has_base = false;
  auto a_only_word = v;
  a_only_word.has_base = false;
  CHECK((both_paths(p_punc, {a_only, a_only_word}) == std::vector<BacoChoice>{A, U}));
}

TEST_CASE("user compositions: stages in order, nested cascades, function rules") {
  auto v = full(0.1f, 0.9f, 4, 0.1f);
  auto fw = v, punct = v;
  fw.aligned_top1_function = true;
  punct.aligned_top1_punct = true;
  // "p-fc-punc": punc, then fc, then p.
  auto r = make_rule("p-fc-punc:0.3");
  CHECK(r->name() == "p-fc-punc:0.3");
  CHECK((both_paths(r, {v, fw, punct}) == std::vector<BacoChoice>{B, A, A}));
  auto same = cascade({punc_rule(), cascade({fc_rule(), p_rule(0.3)})});
  CHECK((both_paths(same, {v, fw, punct}) == std::vector<BacoChoice>{B, A, A}));
  CHECK(same->name() == "p-fc-punc:0.3");

  // A user rule: base on even positions only, after punc.
  int calls = 0;
  auto even = function_rule("even", [&calls](const StepView& s) {
    ++calls;
    return s.position % 2 == 0 ? BacoChoice::kBase : BacoChoice::kAligned;
  }, kNeedsNothing);
  auto c = cascade({punc_rule(), even});
  auto v0 = v, v1 = v, v2 = punct;
  v0.position = 0;
  v1.position = 1;
  v2.position = 2;
  CHECK((c->decide(StepBatch::from_views({v0, v1, v2})).equal(
      torch::tensor({1, 0, 0}, torch::kInt8))));
  CHECK(calls == 2);  // the punctuation row never reached the user rule

  // A user rule that needs the base model is not called on a view without it.
  auto needs_base = function_rule("nb", [](const StepView&) { return BacoChoice::kBase; }, kNeedsBase);
  auto no_base = v;
  no_base.has_base = false;
  CHECK(needs_base->decide_one(no_base) == U);
  CHECK(needs_base->decide_one(v) == B);
}

TEST_CASE("judge: base only when the judge says both yes") {
  std::vector<std::string> seen;
  auto judge = judge_rule([&seen](const StepView& s) {
    seen.emplace_back(s.base_candidate_text);
    return JudgeVerdict{s.position != 1, s.base_candidate_text != "bad"};
  });
  std::vector<StepView> views(4, full(0.5f, 0.5f, 1, 1));
  const char* texts[] = {" good", " good", "bad", " fine"};
  for (int i = 0; i < 4; ++i) {
    views[i].position = i;
    views[i].base_candidate_text = texts[i];
    views[i].generated = "Once";
  }
  auto got = judge->decide(StepBatch::from_views(views));
  CHECK((got.equal(torch::tensor({1, 0, 0, 1}, torch::kInt8))));
  CHECK((seen == std::vector<std::string>{" good", " good", "bad", " fine"}));
}

TEST_CASE("rule specs: names, thresholds and clear errors") {
  CHECK(make_rule("p:0.25")->name() == "p:0.25");
  CHECK(make_rule("p", 0.25)->name() == "p:0.25");
  CHECK(make_rule("h-a-punc:1.5")->name() == "h-a-punc:1.5");
  CHECK(make_rule("punc")->name() == "punc");
  CHECK(make_rule("aligned")->first_needs() == kNeedsNothing);

  auto msg = [](const std::string& spec) {
    try {
      make_rule(spec);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(msg("bogus:0.3"), Catch::Contains("unknown BACO rule 'bogus'") &&
                                   Catch::Contains("p-punc"));
  CHECK_THAT(msg("p"), Catch::Contains("needs a threshold"));
  CHECK_THAT(msg("p-punc"), Catch::Contains("needs a threshold"));
  CHECK_THAT(msg("punc:0.3"), Catch::Contains("takes no threshold"));
  CHECK_THAT(msg("p:abc"), Catch::Contains("not a number"));
  CHECK_THAT(msg("p:-1"), Catch::Contains(">= 0"));
  CHECK_THAT(msg("p:nan"), Catch::Contains("not a number"));
  CHECK_THAT(msg(":0.3"), Catch::Contains("has no name"));
  CHECK_THAT(msg("p-bogus:0.3"), Catch::Contains("unknown BACO rule"));
  CHECK_THROWS_AS(make_rule("p:0.3", 0.4), InvalidArgument);

  register_rule("always_base_after_punct", [](double) { return punc_rule(); }, false);
  CHECK(make_rule("p-always_base_after_punct:0.2")->name() == "p-always_base_after_punct:0.2");
  CHECK_THROWS_AS(register_rule("p", [](double g) { return p_rule(g); }), InvalidArgument);
  CHECK_THROWS_AS(register_rule("my-rule", [](double g) { return p_rule(g); }), InvalidArgument);
  auto names = rule_names();
  for (const char* n : {"rand", "p", "p-a", "h", "h-a", "pr", "hr", "punc", "fc", "p-punc", "p-fc",
                        "h-punc", "h-fc", "always_base_after_punct"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
}

namespace {

/// Field by field; NaN equals NaN (an absent statistic).
bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }
bool same(const StepView& a, const StepView& b) {
  return a.has_base == b.has_base && a.has_aligned == b.has_aligned && same(a.p_base_max, b.p_base_max) &&
         same(a.p_aligned_max, b.p_aligned_max) && same(a.h_base, b.h_base) && same(a.h_aligned, b.h_aligned) &&
         a.base_candidate == b.base_candidate && a.aligned_candidate == b.aligned_candidate &&
         a.aligned_top1 == b.aligned_top1 && a.base_candidate_punct == b.base_candidate_punct &&
         a.base_candidate_function == b.base_candidate_function && a.aligned_top1_punct == b.aligned_top1_punct &&
         a.aligned_top1_function == b.aligned_top1_function && a.u == b.u && a.position == b.position &&
         a.row == b.row && a.prompt == b.prompt && a.generated == b.generated &&
         a.base_candidate_text == b.base_candidate_text && a.aligned_candidate_text == b.aligned_candidate_text;
}

}  // namespace

TEST_CASE("StepBatch: views, view and select give back exactly the packed rows") {
  std::vector<StepView> v(3);
  v[0] = full(0.25f, 0.75f, 1.5f, 0.125f);
  v[0].base_candidate_punct = true;
  v[0].u = 0.1234567890123;
  v[0].position = 7;
  v[0].row = 11;
  v[0].prompt = "Name a color";
  v[0].generated = "Blue";
  v[0].base_candidate_text = ",";
  v[0].aligned_candidate_text = " and";
  v[1].has_aligned = true;  // a partial view: the base model's fields stay NaN / -1
  v[1].p_aligned_max = std::nextafter(0.3f, 1.0f);
  v[1].h_aligned = 2.0f;
  v[1].aligned_candidate = 40000;
  v[1].aligned_top1 = 3;
  v[1].aligned_top1_function = true;
  v[1].u = 0.999999;
  v[1].position = 0;
  v[1].row = 2;
  v[2] = full(1.0f, 1e-7f, 0.0f, 9.0f);
  v[2].aligned_top1_punct = true;
  v[2].base_candidate_function = true;
  v[2].position = 3;
  v[2].row = 5;
  auto batch = StepBatch::from_views(v);
  REQUIRE(batch.size() == 3);
  CHECK(batch.device() == torch::Device(torch::kCPU));

  auto back = batch.views();
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(same(back[i], v[i]));
    CHECK(same(batch.view(static_cast<int64_t>(i)), v[i]));
  }
  auto sub = batch.select(torch::tensor({2, 0}, torch::kInt64)).views();
  REQUIRE(sub.size() == 2);
  CHECK(same(sub[0], v[2]));
  CHECK(same(sub[1], v[0]));
  CHECK_THROWS_AS(batch.view(3), InvalidArgument);
  CHECK_THROWS_AS(batch.view(-1), InvalidArgument);
  CHECK(StepBatch{}.views().empty());

  // A rule written per row sees exactly those views (BacoRule::decide's default loop).
  std::vector<StepView> seen;
  auto rec = function_rule("rec", [&seen](const StepView& s) {
    seen.push_back(s);
    return BacoChoice::kAligned;
  }, kNeedsNothing);
  CHECK(rec->decide(batch).equal(torch::zeros({3}, torch::kInt8)));
  REQUIRE(seen.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(same(seen[i], v[i]));
}

TEST_CASE("word boundaries (SPEC 3, invariant 2) on hand-worked cases") {
  using baco::ends_mid_character;
  using baco::starts_new_word;
  // Arguments: (previous token ends a word, this token starts one, text ends mid-character).
  CHECK(starts_new_word(false, true, false));        // " the" after "cat": a new word
  CHECK_FALSE(starts_new_word(false, false, false)); // "s" after "cat": "cats", the same word
  CHECK(starts_new_word(true, false, false));        // "s" after "." (or as the first token): new
  CHECK(starts_new_word(true, true, false));         // "," after " ": both
  // Inside a character no token starts a word, whatever its class: "caf\xC3" + " x" or + "\xA9".
  CHECK_FALSE(starts_new_word(true, true, true));
  CHECK_FALSE(starts_new_word(false, true, true));
  CHECK_FALSE(starts_new_word(true, false, true));
  static_assert(starts_new_word(false, true, false) && !starts_new_word(false, false, false),
                "usable in constant expressions");

  CHECK_FALSE(ends_mid_character(""));
  CHECK_FALSE(ends_mid_character("cat"));
  CHECK(ends_mid_character("caf\xC3"));                   // é = C3 A9, half of it
  CHECK_FALSE(ends_mid_character("caf\xC3\xA9"));
  CHECK(ends_mid_character("\xE4\xBD"));                  // 你 = E4 BD A0, two of three
  CHECK_FALSE(ends_mid_character("\xE4\xBD\xA0"));
  CHECK(ends_mid_character("ok \xF0\x9F\x8E"));           // 🎉 = F0 9F 8E 89, three of four
  CHECK_FALSE(ends_mid_character("ok \xF0\x9F\x8E\x89"));
  CHECK(ends_mid_character("\xC3\xA9\xC3"));              // a whole é, then half of another
  CHECK_FALSE(ends_mid_character("a\x80"));                // a stray continuation byte: garbage
  CHECK_FALSE(ends_mid_character("\x80\x80\x80\x80\x80")); // no lead within four bytes
}
