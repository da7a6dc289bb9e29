// Helpers shared by the routing tests: hand-made tables and synthetic routing problems.
#pragma once

#include <torch/torch.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "breadth/router.hpp"
#include "common/test_env.hpp"
#include "routing/internal.hpp"

namespace breadth::test {

/// A new, empty folder under the build tree for this process, left in place afterwards (the build
/// tree is scratch space).
inline std::string scratch_dir(const std::string& name) {
  static std::atomic<int> n{0};
  auto d = files::join(binary_dir(), "routing_tmp/" + name + "-" + std::to_string(::getpid()) + "-" +
                                                std::to_string(n++));
  files::make_dirs(d);
  return d;
}

/// A table from a [Q][M] list of div-cov values (other figures derived simply: unq = 10·dc,
/// qual = 1 + m, unq_qual = 2 + m), models "m0".."m{M-1}", queries "q0"...
inline RoutingTable table_from(const std::vector<std::vector<double>>& dc) {
  std::vector<RoutingRow> rows;
  for (size_t q = 0; q < dc.size(); ++q)
    for (size_t m = 0; m < dc[q].size(); ++m) {
      RoutingRow r;
      r.query_id = "q" + std::to_string(q);
      r.query = "query " + std::to_string(q);
      r.model = "m" + std::to_string(m);
      r.figures = {10 * dc[q][m], 1.0 + static_cast<double>(m), 2.0 + static_cast<double>(m), dc[q][m]};
      rows.push_back(r);
    }
  return make_routing_table(rows);
}

/// A synthetic routing problem: query features x ~ N(0, I_D); model m's div-cov is
/// 0.3 + 0.15·tanh(2·x·u_m) + noise, with u_m a random unit direction, and model 0 gets a bias so that
/// it is the best model on average while every model is best somewhere.
struct Synthetic {
  RoutingTable table;
  Features agnostic;  ///< x itself
  Features specific;  ///< per model: a random linear view of x (different dims per model)
};

inline Synthetic make_synthetic(int64_t Q, int64_t M, int64_t D, uint64_t seed, double noise = 0.02,
                                double bias0 = 0.04) {
  torch::manual_seed(seed);
  auto x = torch::randn({Q, D}, torch::kFloat64);
  auto u = torch::randn({D, M}, torch::kFloat64);
  u = u / u.norm(2, {0}, true);
  auto dc = 0.3 + 0.15 * torch::tanh(2 * x.matmul(u)) + noise * torch::randn({Q, M}, torch::kFloat64);
  dc.select(1, 0).add_(bias0);
  dc = dc.clamp(0.0, 1.0);
  std::vector<RoutingRow> rows;
  auto a = dc.accessor<double, 2>();
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t m = 0; m < M; ++m) {
      RoutingRow r;
      r.query_id = "s" + std::to_string(q);
      r.query = "synthetic query " + std::to_string(q);
      r.model = "model-" + std::to_string(m);
      r.figures = {40 * a[q][m], 5.0, 5.0 + a[q][m], a[q][m]};
      rows.push_back(r);
    }
  Synthetic s;
  s.table = make_routing_table(rows);
  s.agnostic.kind = FeatureKind::kAgnostic;
  s.agnostic.mats = {x.to(torch::kFloat32)};
  s.specific.kind = FeatureKind::kSpecific;
  for (int64_t m = 0; m < M; ++m) {
    auto proj = torch::randn({D, D + 2 * m}, torch::kFloat64);
    s.specific.mats.push_back(x.matmul(proj).to(torch::kFloat32));
  }
  return s;
}

/// Mean test div-cov of a router's top-1 picks.
inline double top1_cov(const Router& r, const RoutingTable& t, const Features& f, const std::vector<int64_t>& rows) {
  auto ranks = r.rank(f.select(rows));
  double s = 0;
  for (size_t i = 0; i < rows.size(); ++i) s += t.div_cov[rows[i]][ranks[i][0]].item<double>();
  return s / static_cast<double>(rows.size());
}

}  // namespace breadth::test
