// Coverage and Dominance over diversity–quality spaces (BACO Appendix C.2).
#include "breadth/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/check.hpp"

namespace breadth {

SpaceAnchors SpaceAnchors::from_models(QDPoint base, QDPoint aligned, double bound, bool higher) {
  SpaceAnchors a;
  a.x_min = base.x;
  a.x_max = aligned.x;
  a.higher_is_better = higher;
  if (higher) {
    a.y_min = aligned.y;
    a.y_max = bound;
  } else {
    a.y_min = bound;
    a.y_max = aligned.y;
  }
  return a;
}

std::vector<QDPoint> normalize_points(const std::vector<QDPoint>& points, const SpaceAnchors& a) {
  BREADTH_CHECK_ARG(std::isfinite(a.x_min) && std::isfinite(a.x_max) && a.x_max > a.x_min,
                    "pareto: the quality axis needs x_max > x_min (base quality {} must be below aligned "
                    "quality {})",
                    a.x_min, a.x_max);
  BREADTH_CHECK_ARG(std::isfinite(a.y_min) && std::isfinite(a.y_max) && a.y_max > a.y_min,
                    "pareto: the diversity axis needs y_max > y_min (got [{}, {}])", a.y_min, a.y_max);
  std::vector<QDPoint> out;
  for (const auto& p : points) {
    BREADTH_CHECK_ARG(std::isfinite(p.x) && std::isfinite(p.y), "pareto: point ({}, {}) is not finite", p.x,
                      p.y);
    double x = (p.x - a.x_min) / (a.x_max - a.x_min);
    double y = (p.y - a.y_min) / (a.y_max - a.y_min);
    if (!a.higher_is_better) y = 1.0 - y;
    if (x < 0 || x > 1 || y < 0 || y > 1) continue;
    out.push_back({x, y});
  }
  return out;
}

std::vector<QDPoint> pareto_front(const std::vector<QDPoint>& points) {
  std::vector<QDPoint> s(points);
  // x descending, then y descending: a point is optimal iff its y beats every y seen before it.
  std::sort(s.begin(), s.end(), [](const QDPoint& a, const QDPoint& b) {
    return a.x != b.x ? a.x > b.x : a.y > b.y;
  });
  std::vector<QDPoint> front;
  double best_y = -INFINITY;
  for (const auto& p : s) {
    if (p.y > best_y) {
      front.push_back(p);
      best_y = p.y;
    }
  }
  std::reverse(front.begin(), front.end());
  return front;
}

double coverage(const std::vector<QDPoint>& normalized) {
  auto f = pareto_front(normalized);
  if (f.empty()) return 0.0;
  double area = f.front().x * f.front().y;  // flat from x = 0
  for (size_t i = 1; i < f.size(); ++i) area += (f[i].x - f[i - 1].x) * (f[i].y + f[i - 1].y) / 2.0;
  return area;  // nothing after the last point: the curve drops to 0 there
}

namespace {

// Shares along one axis of frontier points sorted by that axis (`coord` gives the coordinate).
template <typename Coord>
std::vector<double> axis_shares(const std::vector<QDPoint>& front,
                                const std::vector<std::vector<size_t>>& owners, size_t methods, Coord coord) {
  std::vector<size_t> order(front.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return coord(front[a]) < coord(front[b]); });
  std::vector<double> share(methods, 0.0);
  const double lo = coord(front[order.front()]), hi = coord(front[order.back()]);
  const double span = hi - lo;
  for (size_t k = 0; k < order.size(); ++k) {
    double len;
    if (span <= 0) {
      len = 1.0;  // one point: it owns the whole axis
    } else {
      double c = coord(front[order[k]]);
      double left = k == 0 ? c : (c + coord(front[order[k - 1]])) / 2.0;
      double right = k + 1 == order.size() ? c : (c + coord(front[order[k + 1]])) / 2.0;
      len = (right - left) / span;
    }
    const auto& own = owners[order[k]];
    for (size_t m : own) share[m] += len / static_cast<double>(own.size());
  }
  return share;
}

}  // namespace

std::vector<DominanceShare> dominance(const std::vector<std::vector<QDPoint>>& per_method) {
  const size_t m = per_method.size();
  std::vector<DominanceShare> out(m);
  std::vector<QDPoint> all;
  for (const auto& pts : per_method) all.insert(all.end(), pts.begin(), pts.end());
  auto front = pareto_front(all);
  if (front.empty()) return out;
  // Who reached each frontier point (several methods may reach the same one: they share it).
  std::vector<std::vector<size_t>> owners(front.size());
  for (size_t f = 0; f < front.size(); ++f)
    for (size_t k = 0; k < m; ++k)
      for (const auto& p : per_method[k])
        if (p.x == front[f].x && p.y == front[f].y) {
          owners[f].push_back(k);
          break;
        }
  auto q = axis_shares(front, owners, m, [](const QDPoint& p) { return p.x; });
  auto d = axis_shares(front, owners, m, [](const QDPoint& p) { return p.y; });
  for (size_t k = 0; k < m; ++k) {
    out[k].dom_q = q[k];
    out[k].dom_d = d[k];
    out[k].dom = q[k] + d[k] > 0 ? 2 * q[k] * d[k] / (q[k] + d[k]) : 0.0;
  }
  return out;
}

SpaceResult evaluate_space(const QDSpace& space) {
  SpaceResult r;
  r.name = space.name;
  std::vector<std::vector<QDPoint>> norm;
  for (const auto& m : space.methods) norm.push_back(normalize_points(m.points, space.anchors));
  auto dom = dominance(norm);
  for (size_t k = 0; k < space.methods.size(); ++k) {
    MethodControllability mc;
    mc.name = space.methods[k].name;
    mc.coverage = coverage(norm[k]);
    mc.dominance = dom[k];
    mc.kept_points = static_cast<int>(norm[k].size());
    r.methods.push_back(mc);
  }
  return r;
}

ControllabilitySummary evaluate_spaces(const std::vector<QDSpace>& spaces) {
  ControllabilitySummary s;
  std::vector<std::string> names;
  std::map<std::string, MethodControllability> sums;
  for (const auto& sp : spaces) {
    s.spaces.push_back(evaluate_space(sp));
    for (const auto& mc : s.spaces.back().methods) {
      if (!sums.count(mc.name)) {
        names.push_back(mc.name);
        sums[mc.name].name = mc.name;
      }
      auto& acc = sums[mc.name];
      acc.coverage += mc.coverage;
      acc.dominance.dom_q += mc.dominance.dom_q;
      acc.dominance.dom_d += mc.dominance.dom_d;
      acc.dominance.dom += mc.dominance.dom;
      acc.kept_points += mc.kept_points;
    }
  }
  const double n = spaces.empty() ? 1.0 : static_cast<double>(spaces.size());
  for (const auto& name : names) {
    auto acc = sums[name];
    acc.coverage /= n;
    acc.dominance.dom_q /= n;
    acc.dominance.dom_d /= n;
    acc.dominance.dom /= n;
    s.mean.push_back(acc);
  }
  return s;
}

}  // namespace breadth
