// The built-in BACO rules of SPEC §3, each a pure tensor function over a step.
#include <torch/torch.h>

#include <cmath>

#include "baco/rule_util.hpp"
#include "core/check.hpp"

namespace breadth {

torch::Tensor BacoRule::decide(const StepBatch& step) const {
  // One host copy of the batch, then one call per row; the answers are made on the host and stay
  // there (the decoder reads routes on the host).
  auto views = step.views();
  auto out = torch::empty({static_cast<int64_t>(views.size())}, torch::kInt8);
  auto a = out.accessor<int8_t, 1>();
  for (size_t i = 0; i < views.size(); ++i)
    a[static_cast<int64_t>(i)] = static_cast<int8_t>(decide_one(views[i]));
  return out;
}

BacoChoice BacoRule::decide_one(const StepView& view) const {
  auto r = decide(StepBatch::from_views({view}));
  return static_cast<BacoChoice>(r[0].item<int8_t>());
}

namespace baco {

torch::Tensor routes(const torch::Tensor& known, const torch::Tensor& to_base) {
  auto base = to_base.to(torch::kInt8);
  return torch::where(known, base, torch::full_like(base, static_cast<int8_t>(BacoChoice::kUndecided)));
}

std::string gamma_suffix(double gamma) { return fmt::format(":{}", gamma); }

void check_gamma(double gamma, const std::string& rule) {
  BREADTH_CHECK_ARG(std::isfinite(gamma) && gamma >= 0,
                    "rule '{}': gamma must be a finite number >= 0, got {}", rule, gamma);
}

namespace {

/// A rule given as a tensor function.
class TensorRule final : public BacoRule {
 public:
  using Fn = std::function<torch::Tensor(const StepBatch&)>;
  TensorRule(std::string name, Needs needs, Fn fn)
      : name_(std::move(name)), needs_(needs), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  Needs first_needs() const override { return needs_; }
  torch::Tensor decide(const StepBatch& s) const override {
    if (s.size() == 0) return torch::empty({0}, torch::kInt8);
    return fn_(s);
  }
  bool reads_text() const override { return false; }

 private:
  std::string name_;
  Needs needs_;
  Fn fn_;
};

RulePtr logit(const char* name, double gamma, Needs needs, TensorRule::Fn fn) {
  check_gamma(gamma, name);
  return std::make_shared<TensorRule>(name + gamma_suffix(gamma), needs, std::move(fn));
}

}  // namespace
}  // namespace baco

using baco::logit;
using baco::routes;

RulePtr rand_rule(double g) {
  return logit("rand", g, kNeedsNothing, [g](const StepBatch& s) {
    return routes(torch::ones_like(s.has_base), s.u < g);
  });
}
RulePtr p_rule(double g) {
  return logit("p", g, kNeedsBase,
               [g](const StepBatch& s) { return routes(s.has_base, s.p_base_max < g); });
}
RulePtr p_a_rule(double g) {
  return logit("p-a", g, kNeedsAligned,
               [g](const StepBatch& s) { return routes(s.has_aligned, s.p_aligned_max < g); });
}
RulePtr h_rule(double g) {
  return logit("h", g, kNeedsBase,
               [g](const StepBatch& s) { return routes(s.has_base, s.h_base > g); });
}
RulePtr h_a_rule(double g) {
  return logit("h-a", g, kNeedsAligned,
               [g](const StepBatch& s) { return routes(s.has_aligned, s.h_aligned > g); });
}
RulePtr pr_rule(double g) {
  return logit("pr", g, kNeedsBoth, [g](const StepBatch& s) {
    // max P_a >= 1/V > 0, so the ratio is always defined.
    return routes(s.has_base & s.has_aligned, s.p_base_max / s.p_aligned_max < g);
  });
}
RulePtr hr_rule(double g) {
  return logit("hr", g, kNeedsBoth, [g](const StepBatch& s) {
    auto ratio_says = s.h_base / s.h_aligned > g;
    auto zero = s.h_aligned == 0;
    return routes(s.has_base & s.has_aligned, torch::where(zero, s.h_base > 0, ratio_says));
  });
}

RulePtr punc_rule() {
  return std::make_shared<baco::TensorRule>("punc", kNeedsAligned, [](const StepBatch& s) {
    auto aligned = (s.has_aligned & s.aligned_top1_punct) | (s.has_base & s.base_candidate_punct);
    auto known = aligned | (s.has_aligned & s.has_base);
    return routes(known, ~aligned);
  });
}
RulePtr fc_rule() {
  return std::make_shared<baco::TensorRule>("fc", kNeedsAligned, [](const StepBatch& s) {
    return routes(s.has_aligned, ~s.aligned_top1_function);
  });
}
RulePtr constant_rule(BacoChoice route) {
  BREADTH_CHECK_ARG(route != BacoChoice::kUndecided, "constant_rule: route must be kBase or kAligned");
  const bool base = route == BacoChoice::kBase;
  return std::make_shared<baco::TensorRule>(base ? "base" : "aligned", kNeedsNothing,
                                            [base](const StepBatch& s) {
                                              return torch::full({s.size()}, int8_t(base ? 1 : 0),
                                                                 torch::dtype(torch::kInt8).device(s.device()));
                                            });
}

}  // namespace breadth
