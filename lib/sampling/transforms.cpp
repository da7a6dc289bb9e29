// The standard logits transforms (temperature, top-k, top-p, min-p) and the chain that runs them.
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "breadth/sampler.hpp"
#include "core/check.hpp"

namespace breadth {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_logits(const torch::Tensor& logits, const char* who) {
  BREADTH_CHECK_ARG(logits.defined() && logits.dim() == 2 && logits.size(1) > 0,
                    "{}: logits must be a [B, V] tensor with V > 0", who);
  BREADTH_CHECK_ARG(logits.is_floating_point(), "{}: logits must be floating point, got {}", who,
                    c10::toString(logits.scalar_type()));
}

class Temperature final : public LogitsTransform {
 public:
  explicit Temperature(double t) : t_(t) {}
  torch::Tensor apply(const torch::Tensor& l) const override { return apply_temperature(l, t_); }
  std::string name() const override { return "temperature"; }

 private:
  double t_;
};

class TopK final : public LogitsTransform {
 public:
  explicit TopK(int64_t k) : k_(k) {}
  torch::Tensor apply(const torch::Tensor& l) const override { return apply_top_k(l, k_); }
  std::string name() const override { return "top-k"; }

 private:
  int64_t k_;
};

class TopP final : public LogitsTransform {
 public:
  explicit TopP(double p) : p_(p) {}
  torch::Tensor apply(const torch::Tensor& l) const override { return apply_top_p(l, p_); }
  std::string name() const override { return "top-p"; }

 private:
  double p_;
};

class MinP final : public LogitsTransform {
 public:
  explicit MinP(double p) : p_(p) {}
  torch::Tensor apply(const torch::Tensor& l) const override { return apply_min_p(l, p_); }
  std::string name() const override { return "min-p"; }

 private:
  double p_;
};

}  // namespace

torch::Tensor apply_temperature(const torch::Tensor& logits, double t) {
  check_logits(logits, "apply_temperature");
  BREADTH_CHECK_ARG(std::isfinite(t) && t > 0.0,
                    "apply_temperature: temperature must be > 0 (use greedy() for 0), got {}", t);
  if (t == 1.0) return logits;
  return logits / t;
}

torch::Tensor apply_top_k(const torch::Tensor& logits, int64_t k) {
  check_logits(logits, "apply_top_k");
  BREADTH_CHECK_ARG(k >= 0, "apply_top_k: k must be >= 0, got {}", k);
  if (k == 0 || k >= logits.size(1)) return logits;
  // The k-th largest value per row; everything strictly below it goes.
  auto kth = std::get<0>(logits.topk(k, /*dim=*/-1)).narrow(1, k - 1, 1);
  return logits.masked_fill(logits < kth, kNegInf);
}

torch::Tensor apply_top_p(const torch::Tensor& logits, double p) {
  check_logits(logits, "apply_top_p");
  BREADTH_CHECK_ARG(p > 0.0 && p <= 1.0, "apply_top_p: p must be in (0, 1], got {}", p);
  if (p >= 1.0) return logits;
  auto probs = torch::softmax(logits.to(torch::kFloat32), -1);
  auto sorted = std::get<0>(probs.sort(-1, /*descending=*/true));
  // Mass of the tokens ranked before each one. A tied group's first member sees exactly the mass of
  // the strictly more probable tokens, so the threshold below keeps or drops whole tied groups.
  auto before = sorted.cumsum(-1) - sorted;
  auto kept = (before < p).sum(-1, /*keepdim=*/true).clamp_min(1);
  auto threshold = sorted.gather(1, kept - 1);
  return logits.masked_fill(probs < threshold, kNegInf);
}

torch::Tensor apply_min_p(const torch::Tensor& logits, double p) {
  check_logits(logits, "apply_min_p");
  BREADTH_CHECK_ARG(p >= 0.0 && p < 1.0, "apply_min_p: p must be in [0, 1), got {}", p);
  if (p == 0.0) return logits;
  // p_i >= p * p_max  <=>  l_i - l_max >= log p: no softmax needed, and no underflow.
  auto lf = logits.to(torch::kFloat32);
  auto top = lf.amax(-1, /*keepdim=*/true);
  return logits.masked_fill(lf - top < std::log(p), kNegInf);
}

TransformChain make_chain(const SamplingOptions& options, const TransformChain& extra) {
  options.validate();
  TransformChain chain;
  if (!options.greedy()) {
    if (options.temperature != 1.0) chain.push_back(std::make_shared<Temperature>(options.temperature));
    if (options.top_k > 0) chain.push_back(std::make_shared<TopK>(options.top_k));
    if (options.top_p < 1.0) chain.push_back(std::make_shared<TopP>(options.top_p));
    if (options.min_p > 0.0) chain.push_back(std::make_shared<MinP>(options.min_p));
  }
  for (const auto& t : extra) {
    BREADTH_CHECK_ARG(t != nullptr, "make_chain: a user transform is null");
    chain.push_back(t);
  }
  return chain;
}

torch::Tensor apply(const TransformChain& chain, const torch::Tensor& logits) {
  check_logits(logits, "apply");
  torch::Tensor out = logits;
  for (const auto& t : chain) {
    out = t->apply(out);
    BREADTH_CHECK_ARG(out.defined() && out.sizes() == logits.sizes(),
                      "transform '{}' must return logits of the shape it was given", t->name());
  }
  return out;
}

}  // namespace breadth
