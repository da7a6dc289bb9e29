// Controllability over diversity–quality spaces: Coverage and Dominance (BACO Appendix C.2; SPEC §5).
//
// A space pairs a quality metric x (higher is better) with a diversity metric y. Each method is a set
// of operating points (one per control setting: temperature, routing threshold, ...). The space is
// normalized to the unit square anchored by the base and the aligned model at T = 1; points outside
// are dropped. Coverage is the area under a method's Pareto curve; Dominance is its share of the
// global Pareto frontier along each axis, combined by harmonic mean.
#pragma once

#include <string>
#include <vector>

namespace breadth {

struct QDPoint {
  double x = 0;  ///< quality
  double y = 0;  ///< diversity
};

/// The feasible region F = [x_min, x_max] x [y_min, y_max] in raw metric units.
struct SpaceAnchors {
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool higher_is_better = true;  ///< of the diversity metric; false flips y

  /// From the base and aligned models at T = 1 and the diversity metric's theoretical bound (its
  /// maximum when higher is better, its minimum otherwise), as in BACO's footnote 12.
  static SpaceAnchors from_models(QDPoint base, QDPoint aligned, double diversity_bound,
                                  bool higher_is_better);
};

struct MethodPoints {
  std::string name;
  std::vector<QDPoint> points;
};

struct QDSpace {
  std::string name;
  SpaceAnchors anchors;
  std::vector<MethodPoints> methods;
};

/// Normalized points (x̂, ŷ) inside the closed unit square; the others are dropped. Throws
/// InvalidArgument when an axis has zero or negative extent or a value is not finite.
std::vector<QDPoint> normalize_points(const std::vector<QDPoint>& points, const SpaceAnchors& anchors);

/// The Pareto-optimal points (maximizing both), sorted by x ascending (so y strictly descending);
/// duplicates kept once.
std::vector<QDPoint> pareto_front(const std::vector<QDPoint>& points);

/// Area under the curve through the Pareto-optimal points of `normalized`: flat from x = 0 to the
/// first point, linear between points, dropping to 0 after the last (trapezoid rule). 0 if empty.
double coverage(const std::vector<QDPoint>& normalized);

struct DominanceShare {
  double dom_q = 0;  ///< share of the frontier's span along the quality axis
  double dom_d = 0;  ///< share along the diversity axis
  double dom = 0;    ///< harmonic mean of the two (0 when both are 0)
};
/// Shares of the global Pareto frontier of all methods' normalized points. Each frontier point owns
/// the interval between the midpoints to its neighbours along an axis (the end points own up to
/// their own coordinate); shares are lengths over the frontier's span on that axis. A point reached
/// by several methods is shared equally; a frontier of zero span on an axis (one point) gives that
/// point's owners the whole axis.
std::vector<DominanceShare> dominance(const std::vector<std::vector<QDPoint>>& normalized_per_method);

struct MethodControllability {
  std::string name;
  double coverage = 0;
  DominanceShare dominance;
  int kept_points = 0;  ///< points inside the unit square (in `mean`: the total over spaces)
};
struct SpaceResult {
  std::string name;
  std::vector<MethodControllability> methods;
};

SpaceResult evaluate_space(const QDSpace& space);

struct ControllabilitySummary {
  std::vector<SpaceResult> spaces;
  /// Per method (by name, first-seen order across spaces): Cov and Dom (and Dom-Q, Dom-D) averaged
  /// over all spaces; a space where the method is absent counts 0.
  std::vector<MethodControllability> mean;
};
ControllabilitySummary evaluate_spaces(const std::vector<QDSpace>& spaces);

/// A hand-written SVG: one panel per space with each method's normalized points and Pareto curve.
std::string controllability_svg(const std::vector<QDSpace>& spaces);

}  // namespace breadth
