// The experiment report: one self-contained HTML page with inline CSS and SVG (no script, no network),
// so that it opens anywhere and can be mailed or archived as one file.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/html.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {


const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  if (!std::isfinite(v)) return "–";
  return fmt::format("{:.4f}", v);
}

/// Axis range with 8% padding; a zero-extent range is widened so that points sit in the middle.
std::pair<double, double> axis_range(std::vector<double> v) {
  if (v.empty()) return {0, 1};
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.1, 0.05);
    return {lo - pad, hi + pad};
  }
  const double pad = (hi - lo) * 0.08;
  return {lo - pad, hi + pad};
}

std::string space_svg(const SpaceReport& s) {
  const int W = 560, H = 400, L = 70, R = 170, T = 20, B = 50;
  const int pw = W - L - R, ph = H - T - B;
  std::vector<double> xs, ys;
  for (const auto& [name, curve] : s.curves)
    for (const auto& [x, y] : curve) {
      xs.push_back(x);
      ys.push_back(y);
    }
  // Plain variables, not structured bindings: lambdas may capture those only from C++20 (clang).
  const auto xr = axis_range(xs), yr = axis_range(ys);
  const double x0 = xr.first, x1 = xr.second, y0 = yr.first, y1 = yr.second;
  auto X = [&](double x) { return L + (x - x0) / (x1 - x0) * pw; };
  auto Y = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * ph; };
  std::string o = fmt::format(
      "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\">\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" "
      "stroke=\"#888\"/>\n",
      W, H, W, H, html_escape(s.space.name), L, T, pw, ph);
  for (int t = 0; t <= 4; ++t) {
    const double fx = x0 + (x1 - x0) * t / 4, fy = y0 + (y1 - y0) * t / 4;
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e4e4e4\"/>"
                     "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" class=\"tick\">{4:.3g}</text>\n",
                     X(fx), T, T + ph, T + ph + 16, fx);
    o += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e4e4e4\"/>"
                     "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\" class=\"tick\">{5:.3g}</text>\n",
                     L, Y(fy), L + pw, L - 6, Y(fy) + 4, fy);
  }
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">quality: {}</text>\n", L + pw / 2,
                   H - 12, html_escape(s.space.quality));
  o += fmt::format("<text x=\"16\" y=\"{}\" text-anchor=\"middle\" class=\"axis\" transform=\"rotate(-90 16 {})\">"
                   "diversity: {}{}</text>\n",
                   T + ph / 2, T + ph / 2, html_escape(s.space.diversity), s.higher_is_better ? "" : " (lower is more diverse)");
  int legend_y = T + 10;
  for (size_t m = 0; m < s.curves.size(); ++m) {
    const auto& [name, curve] = s.curves[m];
    const char* c = kColors[m % 10];
    if (curve.size() > 1) {
      std::string pts;
      for (const auto& [x, y] : curve) pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
      o += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", pts, c);
    }
    for (size_t i = 0; i < curve.size(); ++i) {
      const auto [x, y] = curve[i];
      const std::string label = m < s.labels.size() && i < s.labels[m].size() ? s.labels[m][i] : "";
      o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" fill=\"{}\"><title>{}{}: ({:.4f}, {:.4f})</title>"
                       "</circle>\n",
                       X(x), Y(y), c, html_escape(name), label.empty() ? "" : "@" + html_escape(label), x, y);
      if (!label.empty())
        o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" fill=\"{}\">{}</text>\n", X(x) + 7, Y(y) + 4,
                         c, html_escape(label));
    }
    o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" "
                     "class=\"legend\">{}</text>\n",
                     L + pw + 14, legend_y - 10, c, L + pw + 32, legend_y, html_escape(name));
    legend_y += 20;
  }
  for (const auto& [label, point] : {std::pair{"base", s.base}, std::pair{"aligned", s.aligned}}) {
    if (!point) continue;
    o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"9\" fill=\"none\" stroke=\"#000\" stroke-dasharray=\"3 2\"/>"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"anchor\">{} anchor</text>\n",
                     X(point->first), Y(point->second), X(point->first) + 11, Y(point->second) - 9, label);
  }
  return o + "</svg>\n";
}

std::string position_svg(const PointReport& p) {
  const int W = 560, H = 220, L = 50, R = 130, T = 14, B = 40;
  const int pw = W - L - R, ph = H - T - B;
  const size_t n = p.base_share_by_position.size();
  const double xmax = std::max<double>(static_cast<double>(n) - 1, 1);
  auto X = [&](double i) { return L + i / xmax * pw; };
  auto Y = [&](double v) { return T + (1 - v) * ph; };
  std::string o = fmt::format(
      "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"base share by position\">\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
      "fill=\"#fafafa\" stroke=\"#888\"/>\n",
      W, H, W, H, L, T, pw, ph);
  for (int t = 0; t <= 4; ++t)
    o += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e4e4e4\"/><text x=\"{3}\" "
                     "y=\"{4:.1f}\" text-anchor=\"end\" class=\"tick\">{5:.2f}</text>\n",
                     L, Y(t / 4.0), L + pw, L - 6, Y(t / 4.0) + 4, t / 4.0);
  for (int t = 0; t <= 4; ++t)
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">{:.0f}</text>\n", X(xmax * t / 4),
                     T + ph + 16, xmax * t / 4);
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">token position</text>\n", L + pw / 2,
                   H - 6);
  const std::pair<const std::vector<double>*, const char*> series[] = {{&p.base_share_by_position, "#ff7f0e"},
                                                                      {&p.switch_rate_by_position, "#1f77b4"}};
  for (const auto& [v, c] : series) {
    std::string pts;
    for (size_t i = 0; i < v->size(); ++i) pts += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(i)), Y((*v)[i]));
    o += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>\n", pts, c);
  }
  o += fmt::format("<rect x=\"{0}\" y=\"{1}\" width=\"12\" height=\"12\" fill=\"#ff7f0e\"/><text x=\"{2}\" y=\"{3}\" "
                   "class=\"legend\">base share</text><rect x=\"{0}\" y=\"{4}\" width=\"12\" height=\"12\" "
                   "fill=\"#1f77b4\"/><text x=\"{2}\" y=\"{5}\" class=\"legend\">switch rate</text>\n",
                   L + pw + 12, T + 4, L + pw + 30, T + 14, T + 24, T + 34);
  return o + "</svg>\n";
}

const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.name,th.name{text-align:left;white-space:nowrap}td.err{color:#b00020;text-align:left}
.note{color:#666;font-size:13px}.plot{display:block;margin:8px 0}.tick{font-size:10px;fill:#555}.axis{font-size:12px}
.legend{font-size:12px}.anchor{font-size:11px;font-style:italic}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.col{border:1px solid #ddd;border-radius:6px;padding:8px;background:#fff}.col h4{margin:0 0 6px;font-size:13px}
.col ol{margin:0;padding-left:20px}.col li{font-size:12px;white-space:pre-wrap;margin-bottom:6px;line-height:1.35}
.base{background:#ffd9a8}.key{display:inline-block;padding:0 4px}
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}
)";

}  // namespace

std::string experiment_report_html(const ReportData& d) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>breadth experiment report</title>\n<style>";
  o += kStyle;
  o += "</style>\n</head>\n<body>\n<h1>breadth experiment report</h1>\n";
  int failed = 0;
  for (const auto& p : d.points) failed += !p.summary.error.empty();
  o += fmt::format("<p class=\"note\">{} points{}; figures are means over the prompts of each point.</p>\n",
                   d.points.size(), failed ? fmt::format(", {} failed", failed) : "");

  o += "<h2>Points</h2>\n<table>\n<tr><th class=\"name\">point</th><th class=\"name\">kind</th><th>prompts</th>";
  for (const auto& c : d.columns) o += "<th>" + html_escape(c) + "</th>";
  o += "</tr>\n";
  for (const auto& p : d.points) {
    o += fmt::format("<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>", html_escape(p.summary.name), html_escape(p.summary.kind));
    if (!p.summary.error.empty()) {
      o += fmt::format("<td class=\"err\" colspan=\"{}\">failed: {}</td></tr>\n", d.columns.size() + 1, html_escape(p.summary.error));
      continue;
    }
    o += fmt::format("<td>{}</td>", p.prompts);
    for (const auto& c : d.columns) {
      auto v = p.summary.figure(c);
      o += "<td>" + (v ? num(*v) : std::string("")) + "</td>";
    }
    o += "</tr>\n";
  }
  o += "</table>\n";

  o += "<h2>Diversity–quality spaces</h2>\n";
  for (const auto& s : d.spaces) {
    o += "<h3>" + html_escape(s.space.name) + "</h3>\n" + space_svg(s);
    if (!s.not_computed.empty()) {
      o += "<p class=\"note\">Coverage/Dominance not computed: " + html_escape(s.not_computed) + "</p>\n";
      continue;
    }
    o += fmt::format("<p class=\"note\">Unit square anchored by {} and {} (BACO Appendix C.2).</p>\n", html_escape(s.base_point),
                     html_escape(s.aligned_point));
    o += "<table><tr><th class=\"name\">method</th><th>Coverage</th><th>Dominance</th><th>Dom-Q</th><th>Dom-D</th></tr>\n";
    for (const auto& [name, cov, dom, dq, dd] : s.controllability)
      o += fmt::format("<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(name),
                       num(cov), num(dom), num(dq), num(dd));
    o += "</table>\n";
  }

  bool any_baco = false;
  for (const auto& p : d.points) any_baco = any_baco || !p.base_share_by_position.empty();
  if (any_baco) {
    o += "<h2>BACO: base share and switch rate by position</h2>\n";
    for (const auto& p : d.points) {
      if (p.base_share_by_position.empty()) continue;
      o += "<h3>" + html_escape(p.summary.name) + "</h3>\n" + position_svg(p);
    }
  }

  o += "<h2>Sample answer sets</h2>\n<p class=\"note\">Text from the base model is <span class=\"base key\">highlighted</span>; "
       "the rest is the aligned (or only) model's.</p>\n";
  for (size_t q = 0; q < d.sample_prompts.size(); ++q) {
    o += "<h3>" + html_escape(d.sample_prompts[q]) + "</h3>\n<div class=\"samples\">\n";
    for (const auto& p : d.points) {
      if (q >= p.answers.size()) continue;
      o += "<div class=\"col\"><h4>" + html_escape(p.summary.name) + "</h4><ol>\n";
      for (const auto& answer : p.answers[q]) {
        o += "<li>";
        for (const auto& [text, base] : answer)
          o += base ? "<span class=\"base\">" + html_escape(text) + "</span>" : html_escape(text);
        o += "</li>\n";
      }
      o += "</ol></div>\n";
    }
    o += "</div>\n";
  }
  o += "<h2>Experiment</h2>\n<details><summary>experiment.json</summary><pre>" + html_escape(d.experiment_json) +
       "</pre></details>\n</body>\n</html>\n";
  return o;
}

}  // namespace breadth
