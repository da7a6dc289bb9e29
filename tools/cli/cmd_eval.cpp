// `breadth eval`: div-cov, NoveltyBench's figures and diversity metrics of answer sets in JSONL.
//
// One line per query: {"prompt", "generations", optional "id", "partition", "scores", "rewards",
// "partition_scores", "gold", "token_ids", "log_likelihoods"} (breadth/eval_io.hpp); NoveltyBench's
// scores.jsonl is valid input. Model-backed options (embedding:/classifier: equivalences,
// --quality reward:PATH, --embedder, --nli) need an encoder implementation registered with
// text_model_loaders(); without one they fail with a clear Unsupported error.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"
#include "breadth/text_models.hpp"
#include "breadth/tokenizer.hpp"
#include "cli_options.hpp"
#include "command.hpp"
#include "core/check.hpp"

namespace {

using breadth::cli::split_commas;

using namespace breadth;

struct EvalArgs {
  std::string input, equivalence = "noveltybench-shortcut", metrics, quality = "const:1", tokenizer, embedder,
              nli;
  int64_t budget = 0;
  double patience = 0.8, score_max = 10.0;
  bool json = false;
};

std::shared_ptr<QualityScorer> make_quality(const std::string& spec) {
  if (spec.rfind("const:", 0) == 0) {
    char* end = nullptr;
    double v = std::strtod(spec.c_str() + 6, &end);
    BREADTH_CHECK_ARG(end && *end == '\0', "--quality '{}': expected const:VALUE", spec);
    return constant_quality(v);
  }
  if (spec.rfind("reward:", 0) == 0) {
    if (!text_model_loaders().reward)
      fail<Unsupported>("--quality '{}': no reward-model implementation is linked into this build; give "
                        "per-answer \"scores\" or \"rewards\" in the input, or use const:VALUE",
                        spec);
    return reward_quality(text_model_loaders().reward(spec.substr(7)));
  }
  fail("--quality '{}': use const:VALUE or reward:PATH (per-query scores, rewards, partition_scores or gold "
       "in the input take precedence)",
       spec);
}

// A metric name parsed once: kind plus its order n where it has one.
struct Metric {
  std::string name, kind;
  int n = 0;
};

Metric parse_metric(const std::string& name) {
  for (const char* k : {"distinct_", "ead_"}) {
    std::string p(k);
    if (name.rfind(p, 0) == 0) {
      char* end = nullptr;
      long n = std::strtol(name.c_str() + p.size(), &end, 10);
      BREADTH_CHECK_ARG(end && *end == '\0' && n >= 1 && n <= 16, "--metrics: '{}' needs an order 1..16, e.g. {}2",
                        name, p);
      return {name, p.substr(0, p.size() - 1), static_cast<int>(n)};
    }
  }
  static const std::vector<std::string> plain = {"self_bleu",      "self_bleu_nosmooth", "self_rouge_l",
                                                 "vendi_ngram",    "vendi_ngram_cosine", "semantic_entropy",
                                                 "embedding_dissimilarity", "vendi_embedding", "nli_diversity"};
  for (const auto& p : plain)
    if (name == p) return {name, name, 0};
  fail("--metrics: unknown metric '{}'; known: distinct_N, ead_N, self_bleu, self_bleu_nosmooth, self_rouge_l, "
       "vendi_ngram, vendi_ngram_cosine, semantic_entropy, embedding_dissimilarity, vendi_embedding, "
       "nli_diversity",
       name);
}

int run_eval(const EvalArgs& a) {
  auto records = read_eval_jsonl(a.input);
  auto equivalence = make_equivalence(a.equivalence);
  auto quality = make_quality(a.quality);
  std::vector<Metric> metrics;
  for (const auto& m : split_commas(a.metrics)) metrics.push_back(parse_metric(m));

  std::shared_ptr<const Tokenizer> tokenizer;
  std::shared_ptr<TextEmbedder> embedder;
  std::shared_ptr<PairClassifier> nli;
  for (const auto& m : metrics) {
    if (m.kind == "ead" && !a.tokenizer.empty() && !tokenizer) tokenizer = Tokenizer::load(a.tokenizer);
    if ((m.kind == "embedding_dissimilarity" || m.kind == "vendi_embedding") && !embedder) {
      BREADTH_CHECK_ARG(!a.embedder.empty(), "--metrics {}: give the sentence encoder with --embedder PATH", m.name);
      if (!text_model_loaders().embedder)
        fail<Unsupported>("--embedder: no text embedder implementation is linked into this build");
      embedder = text_model_loaders().embedder(a.embedder);
    }
    if (m.kind == "nli_diversity" && !nli) {
      BREADTH_CHECK_ARG(!a.nli.empty(), "--metrics nli_diversity: give the NLI model with --nli PATH");
      if (!text_model_loaders().nli) fail<Unsupported>("--nli: no NLI model implementation is linked into this build");
      nli = text_model_loaders().nli(a.nli);
    }
  }

  RecordEvalOptions opt;
  opt.divcov.budget = a.budget;
  opt.divcov.patience = a.patience;
  opt.score_max = a.score_max;

  nlohmann::ordered_json out;
  out["queries"] = nlohmann::json::array();
  std::vector<std::string> columns = {"div_cov", "unq", "qual", "unq_qual", "utility", "distinct", "distinct_legacy"};
  for (const auto& m : metrics) columns.push_back(m.name);
  std::map<std::string, double> sums;
  std::vector<std::vector<double>> rows;
  std::vector<std::string> ids;
  for (size_t q = 0; q < records.size(); ++q) {
    const auto& rec = records[q];
    const std::string where = rec.id ? *rec.id : fmt::format("line {}", q + 1);
    auto r = evaluate_record(rec, *equivalence, *quality, opt);
    std::vector<double> row = {r.div_cov,
                               static_cast<double>(r.num_unique),
                               r.qual,
                               r.unq_qual,
                               r.utility,
                               static_cast<double>(r.num_unique),  // NoveltyBench's "distinct"
                               static_cast<double>(r.distinct_legacy)};
    const auto& g = rec.generations;
    for (const auto& m : metrics) {
      double v = 0;
      if (m.kind == "distinct") v = distinct_n(g, m.n);
      else if (m.kind == "ead") {
        std::vector<std::vector<int32_t>> ids_;
        int64_t vocab = 0;
        if (rec.token_ids) {
          ids_ = *rec.token_ids;
          BREADTH_CHECK_ARG(tokenizer != nullptr, "{}: {} needs the vocabulary size: give --tokenizer PATH", where,
                            m.name);
        } else {
          BREADTH_CHECK_ARG(tokenizer != nullptr,
                            "{}: {} needs token ids: give --tokenizer PATH (the aligned model's) or \"token_ids\"",
                            where, m.name);
          for (const auto& t : g) ids_.push_back(tokenizer->encode(t));
        }
        vocab = tokenizer->vocab_size();
        v = ead_n(ids_, m.n, vocab);
      } else if (m.kind == "self_bleu") v = self_bleu(g);
      else if (m.kind == "self_bleu_nosmooth") {
        SelfBleuOptions o;
        o.smoothing = BleuSmoothing::kNone;
        v = self_bleu(g, o);
      } else if (m.kind == "self_rouge_l") v = self_rouge_l(g);
      else if (m.kind == "vendi_ngram") v = g.empty() ? 0.0 : vendi_score_ngram(g);
      else if (m.kind == "vendi_ngram_cosine") v = g.empty() ? 0.0 : vendi_score_ngram(g, {1, 2, 3, 4}, NgramKernel::kCosine);
      else if (m.kind == "semantic_entropy") v = semantic_entropy(r.partition, rec.log_likelihoods.value_or(std::vector<double>{}));
      else if (m.kind == "embedding_dissimilarity") v = g.size() < 2 ? 0.0 : embedding_dissimilarity(embedder->embed(g));
      else if (m.kind == "vendi_embedding") v = g.empty() ? 0.0 : vendi_score_embeddings(embedder->embed(g));
      else if (m.kind == "nli_diversity")
        v = nli_diversity(g, [&](const std::vector<std::pair<std::string, std::string>>& p) { return nli->probabilities(p); });
      row.push_back(v);
    }
    nlohmann::ordered_json jq;
    if (rec.id) jq["id"] = *rec.id;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (columns[c] == "unq" || columns[c] == "distinct" || columns[c] == "distinct_legacy")
        jq[columns[c]] = static_cast<int64_t>(row[c]);
      else
        jq[columns[c]] = row[c];
      sums[columns[c]] += row[c];
    }
    out["queries"].push_back(jq);
    rows.push_back(row);
    ids.push_back(rec.id.value_or(std::to_string(q + 1)));
  }
  nlohmann::ordered_json mean;
  for (const auto& c : columns) mean[c] = records.empty() ? 0.0 : sums[c] / static_cast<double>(records.size());
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
      const bool count = columns[c] == "unq" || columns[c] == "distinct" || columns[c] == "distinct_legacy";
      const int digits = count ? (id == "mean" ? 2 : 0) : 4;
      line += fmt::format(" {:>{}.{}f}", v[c], std::max<size_t>(columns[c].size(), 8), digits);
    }
    fmt::print("{}\n", line);
  };
  for (size_t q = 0; q < rows.size(); ++q) print_row(ids[q], rows[q]);
  std::vector<double> m;
  for (const auto& c : columns) m.push_back(mean[c].get<double>());
  print_row("mean", m);
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
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_eval(*a); };
}

}  // namespace
BREADTH_CLI_COMMAND(eval, setup)
