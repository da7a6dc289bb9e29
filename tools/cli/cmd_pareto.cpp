// `breadth pareto`: Coverage and Dominance of methods over diversity–quality spaces (BACO App. C.2).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/pareto.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

using namespace breadth;

struct ParetoArgs {
  std::string input, svg;
  bool json = false;
};

nlohmann::ordered_json method_json(const MethodControllability& m) {
  nlohmann::ordered_json j;
  j["coverage"] = m.coverage;
  j["dom_q"] = m.dominance.dom_q;
  j["dom_d"] = m.dominance.dom_d;
  j["dom"] = m.dominance.dom;
  j["kept_points"] = m.kept_points;
  return j;
}

int run_pareto(const ParetoArgs& a) {
  auto spaces = read_spaces_json(a.input);
  auto s = evaluate_spaces(spaces);
  if (!a.svg.empty()) {
    breadth::cli::write_output_file(a.svg, controllability_svg(spaces), "--svg");
  }
  if (a.json) {
    nlohmann::ordered_json j;
    for (const auto& sp : s.spaces)
      for (const auto& m : sp.methods) j["spaces"][sp.name][m.name] = method_json(m);
    for (const auto& m : s.mean) j["mean"][m.name] = method_json(m);
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  auto table = [](const std::string& title, const std::vector<MethodControllability>& ms) {
    size_t w = 6;
    for (const auto& m : ms) w = std::max(w, m.name.size());
    fmt::print("{}\n{:<{}} {:>8} {:>8} {:>8} {:>8} {:>6}\n", title, "method", w, "Cov", "Dom-Q", "Dom-D", "Dom", "kept");
    for (const auto& m : ms)
      fmt::print("{:<{}} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>6}\n", m.name, w, m.coverage, m.dominance.dom_q,
                 m.dominance.dom_d, m.dominance.dom, m.kept_points);
    fmt::print("\n");
  };
  for (const auto& sp : s.spaces) table("space: " + sp.name, sp.methods);
  table(fmt::format("mean over {} space(s)", s.spaces.size()), s.mean);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<ParetoArgs>();
  auto* sub = app.add_subcommand("pareto", "Coverage and Dominance over diversity-quality spaces");
  sub->add_option("--input", a->input,
                  "JSON: {\"spaces\": [{\"name\", \"anchors\" | \"base\"+\"aligned\"+\"bound\", "
                  "\"higher_is_better\", \"methods\": {name: [[quality, diversity], ...]}}]}")
      ->required();
  sub->add_option("--svg", a->svg, "also write the normalized diversity-quality plot as SVG");
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_pareto(*a); };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_pareto(CLI::App& app) { return setup(app); }
