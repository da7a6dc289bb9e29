// Cascades, user function rules and the judge rule.
#include <torch/torch.h>

#include <algorithm>

#include "baco/rule_util.hpp"
#include "core/check.hpp"

namespace breadth {
namespace {

constexpr int8_t kA = static_cast<int8_t>(BacoChoice::kAligned);
constexpr int8_t kB = static_cast<int8_t>(BacoChoice::kBase);
constexpr int8_t kU = static_cast<int8_t>(BacoChoice::kUndecided);

class Cascade final : public BacoRule {
 public:
  Cascade(std::vector<RulePtr> stages, std::string name)
      : stages_(std::move(stages)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Needs first_needs() const override { return stages_.front()->first_needs(); }

  bool reads_text() const override {
    return std::any_of(stages_.begin(), stages_.end(), [](const RulePtr& r) { return r->reads_text(); });
  }

  torch::Tensor decide(const StepBatch& s) const override {
    if (!reads_text()) return decide_masked(s);
    const int64_t n = s.size();
    // The bookkeeping lives with the batch (a stage may answer on another device: moved here).
    const auto dev = s.device();
    auto out = torch::full({n}, kU, torch::dtype(torch::kInt8).device(dev));
    // Rows still going down the cascade; each stage sees only those (a judge stage is expensive).
    auto open = torch::arange(n, torch::dtype(torch::kInt64).device(dev));
    for (size_t k = 0; k < stages_.size() && open.size(0) > 0; ++k) {
      const bool last = k + 1 == stages_.size();
      StepBatch sub = open.size(0) == n ? s : s.select(open);
      auto r = stages_[k]->decide(sub);
      BREADTH_CHECK_ARG(r.dim() == 1 && r.size(0) == open.size(0),
                        "rule '{}' returned {} routes for {} rows", stages_[k]->name(),
                        r.dim() == 1 ? r.size(0) : -1, open.size(0));
      r = r.to(dev, torch::kInt8);
      // Aligned decides; undecided stops the cascade for that row (a later stage could only be
      // asked once this one knows it would not route to aligned).
      auto stop = last ? torch::ones_like(r, torch::kBool) : (r != kB);
      out.index_put_({open.index({stop})}, r.index({stop}));
      open = open.index({~stop});
    }
    return out;
  }

 private:
  /// Row-wise stages: every stage sees every row and the rows it does not concern are masked out,
  /// so nothing waits for the device (cutting sub-batches reads the open rows' count on the host).
  torch::Tensor decide_masked(const StepBatch& s) const {
    const auto dev = s.device();
    auto out = torch::full({s.size()}, kU, torch::dtype(torch::kInt8).device(dev));
    auto open = torch::ones({s.size()}, torch::dtype(torch::kBool).device(dev));
    for (size_t k = 0; k < stages_.size(); ++k) {
      auto r = stages_[k]->decide(s);
      BREADTH_CHECK_ARG(r.dim() == 1 && r.size(0) == s.size(), "rule '{}' returned {} routes for {} rows",
                        stages_[k]->name(), r.dim() == 1 ? r.size(0) : -1, s.size());
      r = r.to(torch::kInt8);
      auto stop = k + 1 == stages_.size() ? open : open & (r != kB);
      out = torch::where(stop, r, out);
      open = open & ~stop;
    }
    return out;
  }

  std::vector<RulePtr> stages_;
  std::string name_;
};

std::string strip_gamma(const std::string& n) { return n.substr(0, n.find(':')); }

class FunctionRule final : public BacoRule {
 public:
  FunctionRule(std::string name, std::function<BacoChoice(const StepView&)> fn, Needs needs)
      : name_(std::move(name)), fn_(std::move(fn)), needs_(needs) {}
  std::string name() const override { return name_; }
  Needs first_needs() const override { return needs_; }
  BacoChoice decide_one(const StepView& v) const override {
    if (((needs_ & kNeedsBase) && !v.has_base) || ((needs_ & kNeedsAligned) && !v.has_aligned))
      return BacoChoice::kUndecided;
    return fn_(v);
  }

 private:
  std::string name_;
  std::function<BacoChoice(const StepView&)> fn_;
  Needs needs_;
};

}  // namespace

RulePtr cascade(std::vector<RulePtr> stages, std::string name) {
  BREADTH_CHECK_ARG(!stages.empty(), "cascade: give at least one stage");
  std::vector<RulePtr> flat;
  for (auto& s : stages) {
    // A cascade nested as a stage behaves as its stages in line, so no flattening is needed.
    BREADTH_CHECK_ARG(s != nullptr, "cascade: stage is null");
    flat.push_back(s);
  }
  if (name.empty()) {
    // BACO writes "-X-Y" for "Y first, then X": the reverse of the stage order.
    std::string gamma;
    for (auto it = flat.rbegin(); it != flat.rend(); ++it) {
      auto n = (*it)->name();
      if (!name.empty()) name += "-";
      name += strip_gamma(n);
      if (gamma.empty() && n.find(':') != std::string::npos) gamma = n.substr(n.find(':'));
    }
    name += gamma;
  }
  return std::make_shared<Cascade>(std::move(flat), std::move(name));
}

RulePtr function_rule(std::string name, std::function<BacoChoice(const StepView&)> fn, Needs needs) {
  BREADTH_CHECK_ARG(static_cast<bool>(fn), "function_rule '{}': the function is empty", name);
  return std::make_shared<FunctionRule>(std::move(name), std::move(fn), needs);
}

RulePtr judge_rule(JudgeCallback judge) {
  BREADTH_CHECK_ARG(static_cast<bool>(judge), "judge_rule: the judge callback is empty");
  return function_rule(
      "judge",
      [judge = std::move(judge)](const StepView& v) {
        auto verdict = judge(v);
        return verdict.may_diverge && verdict.base_acceptable ? BacoChoice::kBase : BacoChoice::kAligned;
      },
      kNeedsBoth);
}

}  // namespace breadth
