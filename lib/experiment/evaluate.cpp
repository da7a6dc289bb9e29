// Evaluating a run folder: NoveltyBench's scores.jsonl and summary.json per point, breadth's figures,
// Coverage/Dominance per diversity–quality space, DIR/summary.json and the report; and merging shards.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "breadth/eval_io.hpp"
#include "breadth/experiment.hpp"
#include "breadth/model.hpp"
#include "breadth/pareto.hpp"
#include "breadth/spec.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kSamplePrompts = 2;  // prompts whose answers the report shows side by side

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

/// Default direction and best value of a diversity figure (BACO Appendix C; the bound anchors the
/// unit square's far edge).
std::pair<bool, std::optional<double>> figure_direction(const std::string& figure, int64_t n) {
  if (figure == "self_bleu" || figure == "self_bleu_nosmooth" || figure == "self_rouge_l") return {false, 0.0};
  if (figure.rfind("distinct_", 0) == 0 || figure.rfind("ead_", 0) == 0 || figure == "div_cov" ||
      figure == "embedding_dissimilarity" || figure == "nli_diversity" || figure == "base_share")
    return {true, 1.0};
  if (figure == "unq" || figure.rfind("vendi", 0) == 0) return {true, static_cast<double>(n)};
  if (figure == "semantic_entropy") return {true, std::log(static_cast<double>(n))};
  return {true, std::nullopt};
}

int64_t words(const std::string& s) {
  std::istringstream in(s);
  std::string w;
  int64_t k = 0;
  while (in >> w) ++k;
  return k;
}

}  // namespace

int64_t RunLayout::shard_prompts() const {
  int64_t total = 0;
  const int64_t blocks = (num_prompts + spec.batch_size - 1) / spec.batch_size;
  for (int64_t b = 0; b < blocks; ++b)
    if (shard.owns_block(b)) total += std::min(num_prompts, (b + 1) * spec.batch_size) - b * spec.batch_size;
  return total;
}

RunLayout read_run_layout(const std::string& dir) {
  const std::string path = files::join(dir, "experiment.json");
  auto text = files::try_read_file(path);
  if (!text) fail<IoError>("'{}' is not a run folder: it has no experiment.json", dir);
  RunLayout layout;
  layout.spec = parse_experiment_json(*text, "/", path, false);
  const Json j = Json::parse(*text);
  BREADTH_CHECK_FORMAT(j.contains(kResolvedKey), "{}: no \"{}\" section; it was not written by a run", path, kResolvedKey);
  const Json& r = j[kResolvedKey];
  try {
    layout.num_prompts = r.at("num_prompts").get<int64_t>();
    layout.shard = Shard::parse(r.at("shard").get<std::string>(), path + ": resolved.shard");
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: {}", path, e.what());
  }
  layout.points = experiment_points(layout.spec);
  return layout;
}

ExperimentSummary evaluate_run(const RunLayout& layout, const std::string& out) {
  const ExperimentSpec& spec = layout.spec;
  const ExperimentEvaluation& ev = spec.evaluate;
  SpecOptions so;
  so.device = parse_device(ev.device, "evaluate.device");
  so.tokenizer = ev.tokenizer;
  so.embedder = ev.embedder;
  so.nli = ev.nli;
  auto equivalence = make_equivalence(ev.equivalence, so);
  auto quality = make_quality(ev.quality, so);
  auto metrics = make_metrics(ev.metrics, so);
  RecordEvalOptions eo;
  eo.divcov.budget = ev.budget;
  eo.divcov.patience = ev.patience;
  const int64_t expected = layout.shard_prompts();

  ReportData report;
  report.title = files::join(out, "report.html");
  report.columns = experiment_figure_names(spec);
  report.experiment_json = files::read_file(files::join(out, "experiment.json"));
  ExperimentSummary summary;
  Json points_json = Json::object();
  for (const auto& point : layout.points) {
    const auto& method = spec.methods[point.method];
    PointReport pr;
    pr.summary.name = point.name;
    pr.summary.method = method.name;
    pr.summary.kind = method.kind;
    pr.value = point.value;
    const std::string dir = files::join(out, point.name);
    const std::string gen = files::join(dir, "generations.jsonl");
    Json pj;
    pj["method"] = method.name;
    pj["kind"] = method.kind;
    if (point.value) pj[method.sweep_key] = *point.value;
    try {
      if (auto err = files::try_read_file(files::join(dir, "error.txt"))) {
        std::string e = *err;
        while (!e.empty() && e.back() == '\n') e.pop_back();
        fail<Error>("{}", e);
      }
      BREADTH_CHECK_ARG(files::exists(gen), "not generated yet (no {})", gen);
      // One read: the records to evaluate, and the lines scores.jsonl extends.
      const std::vector<std::string> raw = jsonl::repair_and_read(gen);
      std::vector<EvalRecord> records;
      for (size_t k = 0; k < raw.size(); ++k) records.push_back(parse_eval_record(raw[k], fmt::format("{}:{}", gen, k + 1)));
      BREADTH_CHECK_ARG(static_cast<int64_t>(records.size()) == expected,
                        "incomplete: {} of {} prompts generated; rerun `breadth run` to finish it", records.size(),
                        expected);
      const AnswerSetTable table = evaluate_answer_sets(records, *equivalence, *quality, metrics, eo);
      // NoveltyBench's scores.jsonl: its fields (distinct is its max(partition)), then breadth's.
      std::string scores;
      for (size_t q = 0; q < records.size(); ++q) {
        Json line = Json::parse(raw[q]);
        const auto& r = table.divcov[q];
        line["partition"] = r.partition;
        line["distinct"] = r.distinct_legacy;
        line["generation_scores"] = r.generation_scores;
        // A class's score is its representative's (first member's) quality, as NoveltyBench scores it.
        std::vector<double> partition_scores(static_cast<size_t>(r.num_unique), 0.0);
        std::vector<bool> seen(partition_scores.size(), false);
        for (size_t i = 0; i < r.partition.size(); ++i)
          if (!seen[r.partition[i]]) {
            seen[r.partition[i]] = true;
            partition_scores[r.partition[i]] = r.quality[i];
          }
        line["partition_scores"] = partition_scores;
        line["utility"] = r.utility;
        for (size_t c = 0; c < table.columns.size(); ++c)
          if (table.columns[c] != "distinct" && table.columns[c] != "distinct_legacy" && table.columns[c] != "utility")
            line[table.columns[c]] = table.rows[q][c];
        scores += dump(line) + "\n";
      }
      files::write_file_atomic(files::join(dir, "scores.jsonl"), scores);

      double mean_distinct = 0;
      int64_t total_words = 0, answers = 0;
      for (size_t q = 0; q < records.size(); ++q) {
        mean_distinct += static_cast<double>(table.divcov[q].distinct_legacy);
        for (const auto& g : records[q].generations) {
          total_words += words(g);
          ++answers;
        }
      }
      mean_distinct /= static_cast<double>(std::max<size_t>(records.size(), 1));
      for (const auto& c : experiment_figure_names(spec)) {
        const int col = table.column(c);
        if (col >= 0) pr.summary.figures.emplace_back(c, table.mean[col]);
      }
      pr.summary.figures.emplace_back("mean_words", answers ? static_cast<double>(total_words) / answers : 0.0);

      // BACO: base share and switches, overall and by position, from the provenance.
      const std::string prov = files::join(dir, "provenance.jsonl");
      std::vector<std::vector<std::vector<std::pair<std::string, bool>>>> spans;
      if (method.kind == "baco") {
        const auto lines = jsonl::repair_and_read(prov);
        BREADTH_CHECK_ARG(static_cast<int64_t>(lines.size()) == expected, "{} holds {} lines for {} prompts", prov,
                          lines.size(), expected);
        int64_t tokens = 0, base = 0, switches = 0, transitions = 0;
        std::vector<double> base_at, switch_at, count_at;
        for (size_t q = 0; q < lines.size(); ++q) {
          const Json pl = Json::parse(lines[q]);
          std::vector<std::vector<std::pair<std::string, bool>>> prompt_spans;
          for (const auto& s : pl.at("samples")) {
            std::vector<std::pair<std::string, bool>> sample_spans;
            int64_t pos = 0;
            bool prev = false;
            for (const auto& t : s.at("tokens")) {
              if (t.value("eos", false)) continue;
              const bool from_base = t.at("source").get<std::string>() == "base";
              if (static_cast<int64_t>(count_at.size()) <= pos) {
                count_at.push_back(0);
                base_at.push_back(0);
                switch_at.push_back(0);
              }
              count_at[pos] += 1;
              base_at[pos] += from_base;
              if (pos > 0) {
                switch_at[pos] += from_base != prev;
                switches += from_base != prev;
                ++transitions;
              }
              ++tokens;
              base += from_base;
              if (!sample_spans.empty() && sample_spans.back().second == from_base)
                sample_spans.back().first += t.at("text").get<std::string>();
              else
                sample_spans.emplace_back(t.at("text").get<std::string>(), from_base);
              prev = from_base;
              ++pos;
            }
            prompt_spans.push_back(std::move(sample_spans));
          }
          if (q < kSamplePrompts) spans.push_back(std::move(prompt_spans));
        }
        for (size_t i = 0; i < count_at.size(); ++i) {
          pr.base_share_by_position.push_back(base_at[i] / count_at[i]);
          pr.switch_rate_by_position.push_back(i == 0 ? 0.0 : switch_at[i] / count_at[i]);
        }
        pr.summary.figures.emplace_back("base_share", tokens ? static_cast<double>(base) / tokens : 0.0);
        pr.summary.figures.emplace_back("switch_rate", transitions ? static_cast<double>(switches) / transitions : 0.0);
      }
      for (size_t q = 0; q < std::min(kSamplePrompts, records.size()); ++q) {
        if (report.sample_prompts.size() <= q) report.sample_prompts.push_back(records[q].prompt);
        if (q < spans.size()) {
          pr.answers.push_back(spans[q]);
        } else {
          std::vector<std::vector<std::pair<std::string, bool>>> plain;
          for (const auto& g : records[q].generations) plain.push_back({{g, false}});
          pr.answers.push_back(plain);
        }
      }
      pr.prompts = static_cast<int64_t>(records.size());

      Json ps;
      ps["mean_distinct"] = mean_distinct;
      ps["mean_utility"] = table.mean[table.column("utility")];
      for (const auto& [k, v] : pr.summary.figures) ps[k] = v;
      ps["prompts"] = pr.prompts;
      files::write_file_atomic(files::join(dir, "summary.json"), ps.dump(2) + "\n");
      for (const auto& [k, v] : pr.summary.figures) pj[k] = v;
      pj["prompts"] = pr.prompts;
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      pr.summary.error = e.what();
      pj["error"] = e.what();
    }
    points_json[point.name] = pj;
    summary.points.push_back(pr.summary);
    report.points.push_back(std::move(pr));
  }

  // Diversity–quality spaces: each method's curve; Coverage/Dominance when both anchors are there.
  std::vector<ExperimentSpace> spaces = ev.spaces;
  if (spaces.empty()) {
    for (const auto& m : ev.metrics) {
      const std::string name = m.substr(0, m.find(':'));
      spaces.push_back({"qual vs " + name, "qual", name, std::nullopt, std::nullopt});
    }
    if (spaces.empty()) spaces.push_back({"qual vs unq", "qual", "unq", std::nullopt, std::nullopt});
  }
  Json spaces_json = Json::array();
  for (const auto& space : spaces) {
    SpaceReport sr;
    sr.space = space;
    auto [hib, bound] = figure_direction(space.diversity, ev.budget > 0 ? ev.budget : spec.n);
    sr.higher_is_better = space.higher_is_better.value_or(hib);
    sr.bound = space.bound ? space.bound : bound;
    sr.base_point = ev.base_point;
    sr.aligned_point = ev.aligned_point;
    QDSpace qd;
    qd.name = space.name;
    for (const auto& method : spec.methods) {
      std::vector<std::pair<double, double>> curve;
      std::vector<std::string> labels;
      MethodPoints mp{method.name, {}};
      for (const auto& pr : report.points) {
        if (pr.summary.method != method.name || !pr.summary.error.empty()) continue;
        auto x = pr.summary.figure(space.quality), y = pr.summary.figure(space.diversity);
        if (!x || !y) continue;
        curve.emplace_back(*x, *y);
        const auto at = pr.summary.name.find('@');
        labels.push_back(at == std::string::npos ? "" : pr.summary.name.substr(at + 1));
        mp.points.push_back({*x, *y});
        if (pr.summary.name == ev.base_point) sr.base = std::pair{*x, *y};
        if (pr.summary.name == ev.aligned_point) sr.aligned = std::pair{*x, *y};
      }
      sr.curves.emplace_back(method.name, curve);
      sr.labels.push_back(labels);
      qd.methods.push_back(mp);
    }
    Json sj{{"name", space.name}, {"quality", space.quality}, {"diversity", space.diversity},
            {"higher_is_better", sr.higher_is_better}};
    if (sr.bound) sj["bound"] = *sr.bound;
    if (ev.base_point.empty()) {
      sr.not_computed = "no anchors: name the base and aligned points in evaluate.anchors";
    } else if (!sr.base || !sr.aligned) {
      sr.not_computed = "an anchor point has no figures (failed or not generated)";
    } else if (!sr.bound) {
      sr.not_computed = fmt::format("'{}' has no known bound; give the space a \"bound\"", space.diversity);
    } else {
      try {
        qd.anchors = SpaceAnchors::from_models({sr.base->first, sr.base->second},
                                               {sr.aligned->first, sr.aligned->second}, *sr.bound, sr.higher_is_better);
        const SpaceResult res = evaluate_space(qd);
        Json cj = Json::object();
        for (const auto& m : res.methods) {
          sr.controllability.emplace_back(m.name, m.coverage, m.dominance.dom, m.dominance.dom_q, m.dominance.dom_d);
          cj[m.name] = Json{{"coverage", m.coverage}, {"dominance", m.dominance.dom}, {"dom_q", m.dominance.dom_q},
                            {"dom_d", m.dominance.dom_d}, {"kept_points", m.kept_points}};
        }
        sj["anchors"] = Json{{"x_min", qd.anchors.x_min}, {"x_max", qd.anchors.x_max}, {"y_min", qd.anchors.y_min},
                             {"y_max", qd.anchors.y_max}};
        sj["controllability"] = cj;
      } catch (const InvalidArgument& e) {
        sr.not_computed = e.what();
      }
    }
    if (!sr.not_computed.empty()) sj["controllability"] = Json{{"not_computed", sr.not_computed}};
    spaces_json.push_back(sj);
    report.spaces.push_back(std::move(sr));
  }

  Json all;
  all["equivalence"] = equivalence->name();
  all["quality"] = ev.quality;
  all["points"] = points_json;
  all["spaces"] = spaces_json;
  summary.json = all.dump(2) + "\n";
  files::write_file_atomic(files::join(out, "summary.json"), summary.json);
  files::write_file_atomic(files::join(out, "report.html"), experiment_report_html(report));
  return summary;
}

ExperimentSummary Experiment::evaluate(const std::string& out) const { return evaluate_run(read_run_layout(out), out); }

ExperimentSummary rebuild_report(const std::vector<std::string>& dirs, const std::string& out) {
  BREADTH_CHECK_ARG(!dirs.empty(), "breadth report: name at least one run folder");
  if (dirs.size() == 1 && (out.empty() || out == dirs.front())) return evaluate_run(read_run_layout(dirs.front()), dirs.front());

  // Merging shards: the same experiment, every shard once; blocks interleave back into file order.
  std::vector<RunLayout> layouts;
  std::vector<std::string> texts;
  for (const auto& d : dirs) {
    BREADTH_CHECK_ARG(d != out, "breadth report: --out '{}' is one of the folders being merged; choose another", out);
    layouts.push_back(read_run_layout(d));
    Json j = Json::parse(files::read_file(files::join(d, "experiment.json")));
    j[kResolvedKey]["shard"] = "0/1";
    texts.push_back(j.dump(2) + "\n");
  }
  const int64_t count = layouts.front().shard.count;
  std::vector<int> owner(static_cast<size_t>(count), -1);
  for (size_t i = 0; i < layouts.size(); ++i) {
    BREADTH_CHECK_ARG(texts[i] == texts.front(), "'{}' and '{}' hold different experiments", dirs[i], dirs.front());
    BREADTH_CHECK_ARG(layouts[i].shard.count == count, "'{}' is a shard of {} but '{}' of {}", dirs[i],
                      layouts[i].shard.count, dirs.front(), count);
    BREADTH_CHECK_ARG(owner[layouts[i].shard.index] < 0, "'{}' and '{}' are both shard {}/{}", dirs[i],
                      dirs[owner[layouts[i].shard.index]], layouts[i].shard.index, count);
    owner[layouts[i].shard.index] = static_cast<int>(i);
  }
  for (int64_t s = 0; s < count; ++s)
    BREADTH_CHECK_ARG(owner[s] >= 0, "shard {}/{} is missing; name every shard's folder", s, count);

  files::make_dirs(out);
  files::write_file_atomic(files::join(out, "experiment.json"), texts.front());
  const RunLayout& layout = layouts.front();
  const int64_t blocks = (layout.num_prompts + layout.spec.batch_size - 1) / layout.spec.batch_size;
  for (const auto& point : layout.points) {
    for (const char* file : {"generations.jsonl", "provenance.jsonl"}) {
      std::vector<std::vector<std::string>> shard_lines(static_cast<size_t>(count));
      bool any = false;
      for (int64_t s = 0; s < count; ++s) {
        const std::string path = files::join(files::join(dirs[owner[s]], point.name), file);
        shard_lines[s] = jsonl::repair_and_read(path);
        any = any || files::exists(path);
      }
      if (!any) continue;
      std::string merged;
      std::vector<size_t> next(static_cast<size_t>(count), 0);
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t s = b % count;
        const int64_t size = std::min(layout.num_prompts, (b + 1) * layout.spec.batch_size) - b * layout.spec.batch_size;
        for (int64_t k = 0; k < size; ++k) {
          BREADTH_CHECK_ARG(next[s] < shard_lines[s].size(),
                            "shard {}/{} ('{}') has not finished point {}: rerun it before merging", s, count,
                            dirs[owner[s]], point.name);
          merged += shard_lines[s][next[s]++] + "\n";
        }
      }
      const std::string dir = files::join(out, point.name);
      files::make_dirs(dir);
      files::write_file_atomic(files::join(dir, file), merged);
    }
  }
  return evaluate_run(read_run_layout(out), out);
}

std::string summary_table(const ExperimentSummary& summary) {
  std::vector<std::string> columns;
  for (const auto& p : summary.points)
    for (const auto& [k, v] : p.figures)
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
  size_t w = 5;
  for (const auto& p : summary.points) w = std::max(w, p.name.size());
  std::string out = fmt::format("{:<{}}", "point", w);
  for (const auto& c : columns) out += fmt::format(" {:>{}}", c, std::max<size_t>(c.size(), 8));
  out += "\n";
  for (const auto& p : summary.points) {
    out += fmt::format("{:<{}}", p.name, w);
    if (!p.error.empty()) {
      out += "  failed: " + p.error + "\n";
      continue;
    }
    for (const auto& c : columns) {
      auto v = p.figure(c);
      out += v ? fmt::format(" {:>{}.4f}", *v, std::max<size_t>(c.size(), 8))
               : fmt::format(" {:>{}}", "", std::max<size_t>(c.size(), 8));
    }
    out += "\n";
  }
  return out;
}

}  // namespace breadth
