// Oracle labels, soft labels and deterministic rankings.
#include <algorithm>
#include <numeric>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth::routing {

std::vector<int64_t> argmax_rows(const torch::Tensor& m) {
  auto d = m.to(torch::kFloat64).contiguous();
  BREADTH_CHECK_ARG(d.dim() == 2 && d.size(1) > 0, "argmax_rows: expected [Q, M], got {}", d.dim());
  auto a = d.accessor<double, 2>();
  std::vector<int64_t> out(static_cast<size_t>(d.size(0)));
  for (int64_t q = 0; q < d.size(0); ++q) {
    int64_t best = 0;
    for (int64_t j = 1; j < d.size(1); ++j)
      if (a[q][j] > a[q][best]) best = j;
    out[q] = best;
  }
  return out;
}

torch::Tensor one_hot_labels(const torch::Tensor& div_cov) {
  auto idx = argmax_rows(div_cov);
  auto y = torch::zeros({div_cov.size(0), div_cov.size(1)}, torch::kFloat32);
  for (size_t q = 0; q < idx.size(); ++q) y[static_cast<int64_t>(q)][idx[q]] = 1.0f;
  return y;
}

torch::Tensor soft_labels(const torch::Tensor& div_cov) {
  auto d = div_cov.to(torch::kFloat64);
  auto mx = std::get<0>(d.max(1, /*keepdim=*/true));
  auto y = torch::where(mx > 0, d / mx.clamp_min(1e-300), torch::ones_like(d));
  return y.to(torch::kFloat32);
}

torch::Tensor labels_for(const torch::Tensor& div_cov, LabelType t) {
  return t == LabelType::kSoft ? soft_labels(div_cov) : one_hot_labels(div_cov);
}

std::vector<std::vector<int64_t>> rank_rows(const torch::Tensor& scores) {
  auto s = scores.to(torch::kFloat64).contiguous();
  BREADTH_CHECK_ARG(s.dim() == 2, "rank_rows: expected [N, M] scores");
  auto a = s.accessor<double, 2>();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(s.size(0)));
  for (int64_t r = 0; r < s.size(0); ++r) {
    auto& o = out[r];
    o.resize(static_cast<size_t>(s.size(1)));
    std::iota(o.begin(), o.end(), 0);
    std::stable_sort(o.begin(), o.end(), [&](int64_t x, int64_t y) { return a[r][x] > a[r][y]; });
  }
  return out;
}

}  // namespace breadth::routing
