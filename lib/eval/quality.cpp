// Quality scorers of SPEC §4: gold sets, rewards mapped to 1..10, constants, user functions.
#include <algorithm>
#include <cmath>
#include <set>

#include "breadth/divcov.hpp"
#include "core/check.hpp"

namespace breadth {

const std::vector<double>& noveltybench_reward_thresholds() {
  static const std::vector<double> t = {-7.71875, -6.28125, -6.0,   -5.71875, -5.5,
                                        -5.0,     -4.375,   -3.4375, -2.046875};
  return t;
}

int reward_to_score(double reward, const std::vector<double>& thresholds) {
  BREADTH_CHECK_ARG(!std::isnan(reward), "reward_to_score: the reward is NaN");
  // Python's bisect_left: the first position whose threshold is >= reward.
  return static_cast<int>(std::lower_bound(thresholds.begin(), thresholds.end(), reward) -
                          thresholds.begin()) +
         1;
}

namespace {

using BatchFn = std::function<std::vector<double>(const std::string&, const std::vector<std::string>&)>;

class GoldQuality : public QualityScorer {
 public:
  explicit GoldQuality(std::vector<std::string> gold) {
    for (const auto& g : gold) gold_.insert(normalize_answer(g));
    BREADTH_CHECK_ARG(!gold_.empty(), "gold quality: the gold answer set is empty");
  }
  std::vector<double> score(const std::string&, const std::vector<std::string>& answers) const override {
    std::vector<double> out;
    for (const auto& a : answers) out.push_back(gold_.count(normalize_answer(a)) ? 1.0 : 0.0);
    return out;
  }
  double max_score() const override { return 1.0; }
  double max_unique_sum(int64_t budget) const override {
    return static_cast<double>(std::min<int64_t>(budget, static_cast<int64_t>(gold_.size())));
  }

 private:
  std::set<std::string> gold_;
};

class RewardQuality : public QualityScorer {
 public:
  RewardQuality(BatchFn fn, std::vector<double> thresholds)
      : fn_(std::move(fn)), thresholds_(std::move(thresholds)) {
    BREADTH_CHECK_ARG(static_cast<bool>(fn_), "reward quality: no reward function given");
    BREADTH_CHECK_ARG(std::is_sorted(thresholds_.begin(), thresholds_.end()),
                      "reward quality: thresholds must be sorted ascending");
  }
  std::vector<double> score(const std::string& prompt, const std::vector<std::string>& answers) const override {
    auto r = fn_(prompt, answers);
    BREADTH_CHECK_ARG(r.size() == answers.size(), "reward quality: {} rewards for {} answers", r.size(),
                      answers.size());
    std::vector<double> out;
    for (double v : r) out.push_back(reward_to_score(v, thresholds_));
    return out;
  }
  double max_score() const override { return static_cast<double>(thresholds_.size() + 1); }

 private:
  BatchFn fn_;
  std::vector<double> thresholds_;
};

class FunctionQuality : public QualityScorer {
 public:
  FunctionQuality(BatchFn fn, double max) : fn_(std::move(fn)), max_(max) {
    BREADTH_CHECK_ARG(static_cast<bool>(fn_), "function quality: no function given");
    BREADTH_CHECK_ARG(std::isfinite(max) && max > 0, "function quality: max_score must be > 0 (got {})", max);
  }
  std::vector<double> score(const std::string& prompt, const std::vector<std::string>& answers) const override {
    auto r = fn_(prompt, answers);
    BREADTH_CHECK_ARG(r.size() == answers.size(), "function quality: {} scores for {} answers", r.size(),
                      answers.size());
    return r;
  }
  double max_score() const override { return max_; }

 private:
  BatchFn fn_;
  double max_;
};

}  // namespace

std::shared_ptr<QualityScorer> gold_quality(std::vector<std::string> gold) {
  return std::make_shared<GoldQuality>(std::move(gold));
}

std::shared_ptr<QualityScorer> reward_quality(BatchFn rewards, std::vector<double> thresholds) {
  return std::make_shared<RewardQuality>(std::move(rewards), std::move(thresholds));
}

std::shared_ptr<QualityScorer> reward_quality(std::shared_ptr<const RewardModel> model) {
  BREADTH_CHECK_ARG(model != nullptr, "reward quality: no reward model given");
  return reward_quality([model](const std::string& p, const std::vector<std::string>& a) {
    return model->rewards(p, a);
  });
}

std::shared_ptr<QualityScorer> constant_quality(double value) {
  BREADTH_CHECK_ARG(std::isfinite(value) && value > 0, "constant quality: value must be > 0 (got {})", value);
  return std::make_shared<FunctionQuality>(
      [value](const std::string&, const std::vector<std::string>& a) {
        return std::vector<double>(a.size(), value);
      },
      value);
}

std::shared_ptr<QualityScorer> function_quality(BatchFn fn, double max_score) {
  return std::make_shared<FunctionQuality>(std::move(fn), max_score);
}

}  // namespace breadth
