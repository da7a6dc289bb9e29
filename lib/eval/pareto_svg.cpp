// A small hand-written SVG of diversity–quality spaces: one panel per space, normalized axes,
// each method's kept points and Pareto curve (flat start, drop after the last point).
#include <fmt/format.h>

#include "breadth/pareto.hpp"
#include "core/html.hpp"

namespace breadth {
namespace {


const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

}  // namespace

std::string controllability_svg(const std::vector<QDSpace>& spaces) {
  const int panel = 320, margin = 50, legend = 160;
  const int cols = spaces.size() < 3 ? static_cast<int>(std::max<size_t>(spaces.size(), 1)) : 3;
  const int rows = static_cast<int>((spaces.size() + cols - 1) / cols);
  const int width = cols * (panel + margin) + margin + legend;
  const int height = std::max(rows, 1) * (panel + margin) + margin;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height, width, height);
  std::vector<std::string> names;
  auto color_of = [&](const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return kColors[i % 10];
    names.push_back(name);
    return kColors[(names.size() - 1) % 10];
  };
  for (size_t s = 0; s < spaces.size(); ++s) {
    const int ox = margin + static_cast<int>(s % cols) * (panel + margin);
    const int oy = margin / 2 + static_cast<int>(s / cols) * (panel + margin);
    auto X = [&](double x) { return ox + x * panel; };
    auto Y = [&](double y) { return oy + (1.0 - y) * panel; };
    out += fmt::format("<g><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
                       ox, oy, panel, panel);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", ox + panel / 2,
                       oy + panel + 30, html_escape(spaces[s].name + " (x: quality, y: diversity, normalized)"));
    for (int t = 0; t <= 4; ++t) {
      double v = t / 4.0;
      out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{:.2f}</text>\n",
                         X(v), oy + panel + 14, v);
      out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"10\">{:.2f}</text>\n",
                         ox - 4, Y(v) + 3, v);
    }
    for (const auto& m : spaces[s].methods) {
      const char* col = color_of(m.name);
      auto pts = normalize_points(m.points, spaces[s].anchors);
      auto front = pareto_front(pts);
      if (!front.empty()) {
        std::string path = fmt::format("M {:.2f} {:.2f}", X(0), Y(front.front().y));
        for (const auto& p : front) path += fmt::format(" L {:.2f} {:.2f}", X(p.x), Y(p.y));
        path += fmt::format(" L {:.2f} {:.2f}", X(front.back().x), Y(0));
        out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", path, col);
      }
      for (const auto& p : pts)
        out += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\"/>\n", X(p.x), Y(p.y), col);
    }
    out += "</g>\n";
  }
  const int lx = margin + cols * (panel + margin);
  for (size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", lx,
                       margin / 2 + 18 * static_cast<int>(i), kColors[i % 10]);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", lx + 18, margin / 2 + 18 * static_cast<int>(i) + 10,
                       html_escape(names[i]));
  }
  out += "</svg>\n";
  return out;
}

}  // namespace breadth
