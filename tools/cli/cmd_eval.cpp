// `breadth eval`: div-cov, NoveltyBench's figures and diversity metrics of answer sets in JSONL.
//
// One line per query: {"prompt", "generations", optional "id", "partition", "scores", "rewards",
// "partition_scores", "gold", "token_ids", "log_likelihoods"} (breadth/eval_io.hpp); NoveltyBench's
// scores.jsonl is valid input. Equivalence, quality and metric names are the specs of
// breadth/spec.hpp; model-backed ones load on --device.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"
#include "breadth/model.hpp"
#include "breadth/spec.hpp"
#include "cli_options.hpp"
#include "command.hpp"

namespace {

using breadth::cli::split_commas;

using namespace breadth;

struct EvalArgs {
  std::string input, equivalence = "noveltybench-shortcut", metrics, quality = "const:1", tokenizer, embedder,
              nli, device = "cpu";
  int64_t budget = 0;
  double patience = 0.8, score_max = 10.0;
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  auto records = read_eval_jsonl(a.input);
  SpecOptions so;
  so.device = parse_device(a.device, "--device");
  so.tokenizer = a.tokenizer;
  so.embedder = a.embedder;
  so.nli = a.nli;
  auto equivalence = make_equivalence(a.equivalence, so);
  auto quality = make_quality(a.quality, so);
  auto metrics = make_metrics(split_commas(a.metrics), so);

  RecordEvalOptions opt;
  opt.divcov.budget = a.budget;
  opt.divcov.patience = a.patience;
  opt.score_max = a.score_max;

  const AnswerSetTable table = evaluate_answer_sets(records, *equivalence, *quality, metrics, opt);
  const auto& columns = table.columns;
  auto is_count = [](const std::string& c) { return c == "unq" || c == "distinct" || c == "distinct_legacy"; };
  nlohmann::ordered_json out;
  out["queries"] = nlohmann::json::array();
  std::vector<std::string> ids;
  for (size_t q = 0; q < records.size(); ++q) {
    nlohmann::ordered_json jq;
    if (records[q].id) jq["id"] = *records[q].id;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (is_count(columns[c]))
        jq[columns[c]] = static_cast<int64_t>(table.rows[q][c]);
      else
        jq[columns[c]] = table.rows[q][c];
    }
    out["queries"].push_back(jq);
    ids.push_back(records[q].id.value_or(std::to_string(q + 1)));
  }
  const auto& rows = table.rows;
  nlohmann::ordered_json mean;
  for (size_t c = 0; c < columns.size(); ++c) mean[columns[c]] = table.mean[c];
  out["mean"] = mean;
  out["equivalence"] = equivalence->name();

  if (a.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  size_t idw = 4;
  for (const auto& id : ids) idw = std::max(idw, id.size());
  std::string header = fmt::format("{:<{}}", "id", idw);
  for (const auto& c : columns) header += fmt::format(" {:>{}}", c, std::max<size_t>(c.size(), 8));
  fmt::print("equivalence: {}\n{}\n", equivalence->name(), header);
  auto print_row = [&](const std::string& id, const std::vector<double>& v) {
    std::string line = fmt::format("{:<{}}", id, idw);
    for (size_t c = 0; c < columns.size(); ++c) {
      const bool count = is_count(columns[c]);
      const int digits = count ? (id == "mean" ? 2 : 0) : 4;
      line += fmt::format(" {:>{}.{}f}", v[c], std::max<size_t>(columns[c].size(), 8), digits);
    }
    fmt::print("{}\n", line);
  };
  for (size_t q = 0; q < rows.size(); ++q) print_row(ids[q], rows[q]);
  print_row("mean", table.mean);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* sub = app.add_subcommand("eval", "div-cov, NoveltyBench figures and diversity metrics of answer sets (JSONL)");
  sub->add_option("--input", a->input, "JSONL: one {prompt, generations, ...} per line")->required();
  sub->add_option("--equivalence", a->equivalence,
                  "exact | rouge1[:T] | noveltybench-shortcut[:FALLBACK] | embedding:MODEL:T | classifier:MODEL[:T]")
      ->capture_default_str();
  sub->add_option("--budget", a->budget, "B for div-cov (default: the number of answers of each query)");
  sub->add_option("--metrics", a->metrics,
                  "comma list: distinct_N, ead_N, self_bleu, self_bleu_nosmooth, self_rouge_l, vendi_ngram, "
                  "vendi_ngram_cosine, semantic_entropy, embedding_dissimilarity, vendi_embedding, nli_diversity");
  sub->add_option("--quality", a->quality, "when a query has no scores/rewards/gold: const:VALUE | reward:MODEL")
      ->capture_default_str();
  sub->add_option("--score-max", a->score_max, "q_max of per-answer \"scores\" in the input")->capture_default_str();
  sub->add_option("--patience", a->patience, "NoveltyBench's utility patience")->capture_default_str();
  sub->add_option("--tokenizer", a->tokenizer, "aligned model's tokenizer, for ead_N");
  sub->add_option("--embedder", a->embedder, "sentence encoder, for embedding metrics");
  sub->add_option("--nli", a->nli, "NLI model, for nli_diversity");
  sub->add_option("--device", a->device, "where model-backed judges run: cpu, cuda or cuda:N")->capture_default_str();
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_eval(*a); };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_eval(CLI::App& app) { return setup(app); }
