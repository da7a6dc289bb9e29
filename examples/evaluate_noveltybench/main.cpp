// evaluate_noveltybench: NoveltyBench's figures and div-cov from an answer-set file, with the C++ API.
//
// Reads NoveltyBench's scores.jsonl (one line per prompt: generations, partition, partition_scores;
// by default the gemini-1.5-pro file shipped in ../shared/data/noveltybench), computes every prompt's
// utility, distinct count and div-cov from the shipped partitions, and compares the means with the
// summary.json beside it. With --equivalence it also re-partitions the generations itself and reports
// how often its classes agree with NoveltyBench's.
//
//   evaluate_noveltybench [SCORES.jsonl | --shared DIR] [--equivalence noveltybench-shortcut] [--top 5]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/spec.hpp"

int main(int argc, char** argv) {
  const char* env = std::getenv("BREADTH_SHARED_DIR");
  std::string shared = env && *env ? env : "../shared";
  std::string path, equivalence;
  int top = 5;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--shared" && i + 1 < argc) shared = argv[++i];
    else if (k == "--equivalence" && i + 1 < argc) equivalence = argv[++i];
    else if (k == "--top" && i + 1 < argc) top = std::atoi(argv[++i]);
    else if (k.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: %s [SCORES.jsonl | --shared DIR] [--equivalence SPEC] [--top N]\n", argv[0]);
      return 2;
    } else path = k;
  }
  if (path.empty()) path = shared + "/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl";
  try {
    auto records = breadth::read_eval_jsonl(path);
    auto exact = breadth::exact_match_equivalence();  // unused: the records carry their partitions
    auto fallback = breadth::constant_quality(10.0);
    std::shared_ptr<breadth::Equivalence> mine;
    if (!equivalence.empty()) mine = breadth::make_equivalence(equivalence);

    // NoveltyBench's own per-prompt figures (utility, distinct, generation_scores), where the file has
    // them, to compare prompt by prompt (not only the means).
    std::vector<nlohmann::json> theirs;
    {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(" \t\r") != std::string::npos) theirs.push_back(nlohmann::json::parse(line));
    }
    double utility = 0, distinct = 0, legacy = 0, div_cov = 0;
    int agree = 0, figures_equal = 0, figures_known = 0;
    struct Row { std::string id, prompt; double div_cov; int64_t distinct; };
    std::vector<Row> rows;
    for (const auto& r : records) {
      breadth::RecordEvalOptions o;
      o.divcov.budget = static_cast<int64_t>(r.generations.size());  // B = the n = 10 generations
      auto f = breadth::evaluate_record(r, *exact, *fallback, o);
      utility += f.utility;
      distinct += static_cast<double>(f.num_unique);
      legacy += static_cast<double>(f.distinct_legacy);
      div_cov += f.div_cov;
      rows.push_back({r.id.value_or("?"), r.prompt, f.div_cov, f.num_unique});
      if (mine && r.partition) agree += breadth::partition(r.generations, *mine) == *r.partition;
      const nlohmann::json& t = theirs.at(rows.size() - 1);
      if (t.contains("utility") && t.contains("distinct") && t.contains("generation_scores")) {
        ++figures_known;
        figures_equal += std::fabs(f.utility - t["utility"].get<double>()) < 1e-9 &&
                         f.distinct_legacy == t["distinct"].get<int64_t>() &&
                         f.generation_scores == t["generation_scores"].get<std::vector<double>>();
      }
    }
    const double n = static_cast<double>(records.size());
    std::printf("%s: %zu prompts\n", path.c_str(), records.size());
    std::printf("mean utility         %.6f\n", utility / n);
    std::printf("mean distinct        %.4f  (classes per prompt)\n", distinct / n);
    std::printf("mean distinct legacy %.4f  (NoveltyBench's older max(partition))\n", legacy / n);
    std::printf("mean div-cov         %.4f  (B = 10, q_max = 10)\n", div_cov / n);

    // NoveltyBench's own summary of the same run, when it sits beside the scores.
    // (String operations, not std::filesystem: libtorch exports its own copy of those symbols.)
    const std::string scores_name = "gemini-1.5-pro-curated-scores.jsonl";
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    const std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
    std::ifstream summary(dir + "/gemini-1.5-pro-curated-summary.json");
    if (file == scores_name && summary.good()) {
      auto j = nlohmann::json::parse(summary);
      double du = std::fabs(utility / n - j["mean_utility"].get<double>());
      double dd = std::fabs(legacy / n - j["mean_distinct"].get<double>());
      std::printf("NoveltyBench summary: mean_utility %.6f, mean_distinct %.2f -> %s\n",
                  j["mean_utility"].get<double>(), j["mean_distinct"].get<double>(),
                  du < 1e-9 && dd < 1e-9 ? "match" : "MISMATCH");
      if (du >= 1e-9 || dd >= 1e-9) return 1;
    }
    if (figures_known > 0)
      std::printf("utility, distinct and generation scores equal NoveltyBench's on %d of %d prompts\n",
                  figures_equal, figures_known);
    if (mine)
      std::printf("'%s' partitions equal NoveltyBench's on %d of %zu prompts\n", equivalence.c_str(), agree,
                  records.size());
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.div_cov > b.div_cov; });
    std::printf("most diverse prompts:\n");
    for (int i = 0; i < top && i < static_cast<int>(rows.size()); ++i)
      std::printf("  %-12s div-cov %.2f, %lld classes: %.70s\n", rows[i].id.c_str(), rows[i].div_cov,
                  static_cast<long long>(rows[i].distinct), rows[i].prompt.c_str());
    return 0;
  } catch (const breadth::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
