// Metric specs (breadth/spec.hpp): each metric of breadth/metrics.hpp as a SetMetric over an answer
// set and its DivCov figures.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "breadth/encoder.hpp"
#include "breadth/metrics.hpp"
#include "breadth/spec.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "spec/internal.hpp"

namespace breadth {

namespace {

// Models shared by the metrics of one make_metrics call (each path loaded once).
struct ModelCache {
  SpecOptions options;
  std::map<std::string, std::shared_ptr<const Tokenizer>> tokenizers;
  std::map<std::string, std::shared_ptr<const TextEmbedder>> embedders;
  std::map<std::string, std::shared_ptr<const PairClassifier>> nlis;

  std::shared_ptr<const Tokenizer> tokenizer(const std::string& path) {
    auto& t = tokenizers[path];
    if (!t) t = Tokenizer::load(path);
    return t;
  }
  std::shared_ptr<const TextEmbedder> embedder(const std::string& path) {
    auto& e = embedders[path];
    if (!e) e = make_text_embedder(Encoder::load(path, spec::encoder_options(options)));
    return e;
  }
  std::shared_ptr<const PairClassifier> nli(const std::string& path) {
    auto& n = nlis[path];
    if (!n) n = make_nli_classifier(Encoder::load(path, spec::encoder_options(options)));
    return n;
  }
};

using Compute = std::function<double(const EvalRecord&, const DivCovResult&, const std::string& where)>;

class FunctionMetric final : public SetMetric {
 public:
  FunctionMetric(std::string name, Compute fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  double compute(const EvalRecord& r, const DivCovResult& d, const std::string& where) const override {
    return fn_(r, d, where);
  }

 private:
  std::string name_;
  Compute fn_;
};

std::shared_ptr<SetMetric> metric(std::string name, Compute fn) {
  return std::make_shared<FunctionMetric>(std::move(name), std::move(fn));
}

// "distinct_2" -> 2 for the family `prefix` ("distinct_"); 0 when `name` is not of the family.
int family_order(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return 0;
  char* end = nullptr;
  const long n = std::strtol(name.c_str() + prefix.size(), &end, 10);
  BREADTH_CHECK_ARG(name.size() > prefix.size() && end && *end == '\0' && n >= 1 && n <= 16,
                    "metric '{}' needs an order 1..16, e.g. {}2", name, prefix);
  return static_cast<int>(n);
}

std::string model_path(const std::string& spec, const std::string& name, const std::string& given,
                       const std::string& fallback, const char* what, const char* option) {
  const std::string path = given.empty() ? fallback : given;
  BREADTH_CHECK_ARG(!path.empty(), "metric '{}' needs {}: write {}:PATH or give {}", spec, what, name, option);
  return path;
}

std::shared_ptr<SetMetric> build(const std::string& spec, ModelCache& cache) {
  std::string name, path;
  spec::split_kind(spec, name, path);
  const SpecOptions& o = cache.options;
  const auto no_path = [&] {
    BREADTH_CHECK_ARG(path.empty(), "metric '{}' takes no argument after ':'", spec);
  };

  if (int n = family_order(name, "distinct_")) {
    no_path();
    return metric(name, [n](const EvalRecord& r, const DivCovResult&, const std::string&) {
      return distinct_n(r.generations, n);
    });
  }
  if (int n = family_order(name, "ead_")) {
    // EAD needs the vocabulary size, and token ids when the record has none: the aligned tokenizer.
    const std::string tok_path = path.empty() ? o.tokenizer : path;
    std::shared_ptr<const Tokenizer> tok = tok_path.empty() ? nullptr : cache.tokenizer(tok_path);
    return metric(name, [n, tok, name](const EvalRecord& r, const DivCovResult&, const std::string& where) {
      std::vector<std::vector<int32_t>> ids;
      if (r.token_ids) {
        BREADTH_CHECK_ARG(tok != nullptr, "{}: {} needs the vocabulary size: give the tokenizer ({}:PATH, --tokenizer)",
                          where, name, name);
        ids = *r.token_ids;
      } else {
        BREADTH_CHECK_ARG(tok != nullptr,
                          "{}: {} needs token ids: give the aligned model's tokenizer ({}:PATH, --tokenizer) or "
                          "\"token_ids\" in the record",
                          where, name, name);
        for (const auto& t : r.generations) ids.push_back(tok->encode(t));
      }
      return ead_n(ids, n, tok->vocab_size());
    });
  }
  if (name == "self_bleu") {
    no_path();
    return metric(name, [](const EvalRecord& r, const DivCovResult&, const std::string&) { return self_bleu(r.generations); });
  }
  if (name == "self_bleu_nosmooth") {
    no_path();
    return metric(name, [](const EvalRecord& r, const DivCovResult&, const std::string&) {
      SelfBleuOptions so;
      so.smoothing = BleuSmoothing::kNone;
      return self_bleu(r.generations, so);
    });
  }
  if (name == "self_rouge_l") {
    no_path();
    return metric(name, [](const EvalRecord& r, const DivCovResult&, const std::string&) { return self_rouge_l(r.generations); });
  }
  if (name == "vendi_ngram" || name == "vendi_ngram_cosine") {
    no_path();
    const bool cosine = name == "vendi_ngram_cosine";
    return metric(name, [cosine](const EvalRecord& r, const DivCovResult&, const std::string&) {
      const auto& g = r.generations;
      if (g.empty()) return 0.0;
      return cosine ? vendi_score_ngram(g, {1, 2, 3, 4}, NgramKernel::kCosine) : vendi_score_ngram(g);
    });
  }
  if (name == "semantic_entropy") {
    no_path();
    return metric(name, [](const EvalRecord& r, const DivCovResult& d, const std::string&) {
      return semantic_entropy(d.partition, r.log_likelihoods.value_or(std::vector<double>{}));
    });
  }
  if (name == "embedding_dissimilarity" || name == "vendi_embedding") {
    auto emb = cache.embedder(model_path(spec, name, path, o.embedder, "a sentence encoder", "--embedder PATH"));
    const bool vendi = name == "vendi_embedding";
    return metric(name, [emb, vendi](const EvalRecord& r, const DivCovResult&, const std::string&) {
      const auto& g = r.generations;
      if (vendi) return g.empty() ? 0.0 : vendi_score_embeddings(emb->embed(g));
      return g.size() < 2 ? 0.0 : embedding_dissimilarity(emb->embed(g));
    });
  }
  if (name == "nli_diversity") {
    auto nli = cache.nli(model_path(spec, name, path, o.nli, "an NLI model", "--nli PATH"));
    return metric(name, [nli](const EvalRecord& r, const DivCovResult&, const std::string&) {
      return nli_diversity(r.generations, [&](const std::vector<std::pair<std::string, std::string>>& p) {
        return nli->probabilities(p);
      });
    });
  }
  fail("unknown metric '{}'; known: {}", spec, fmt::join(metric_names(), ", "));
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {
      "distinct_N",       "ead_N",        "self_bleu",          "self_bleu_nosmooth",
      "self_rouge_l",     "vendi_ngram",  "vendi_ngram_cosine", "semantic_entropy",
      "embedding_dissimilarity", "vendi_embedding", "nli_diversity"};
  return names;
}

std::shared_ptr<SetMetric> make_metric(const std::string& spec, const SpecOptions& options) {
  ModelCache cache{options, {}, {}, {}};
  return build(spec, cache);
}

std::vector<std::shared_ptr<SetMetric>> make_metrics(const std::vector<std::string>& specs,
                                                     const SpecOptions& options) {
  ModelCache cache{options, {}, {}, {}};
  std::vector<std::shared_ptr<SetMetric>> out;
  for (const auto& s : specs) out.push_back(build(s, cache));
  return out;
}

int AnswerSetTable::column(const std::string& name) const {
  for (size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name) return static_cast<int>(c);
  return -1;
}

AnswerSetTable evaluate_answer_sets(const std::vector<EvalRecord>& records, const Equivalence& equivalence,
                                    const QualityScorer& quality, const std::vector<std::shared_ptr<SetMetric>>& metrics,
                                    const RecordEvalOptions& options) {
  AnswerSetTable t;
  t.columns = {"div_cov", "unq", "qual", "unq_qual", "utility", "distinct", "distinct_legacy"};
  for (const auto& m : metrics) t.columns.push_back(m->name());
  t.mean.assign(t.columns.size(), 0.0);
  for (size_t q = 0; q < records.size(); ++q) {
    const auto& rec = records[q];
    const std::string where = rec.id ? *rec.id : fmt::format("line {}", q + 1);
    auto r = evaluate_record(rec, equivalence, quality, options);
    std::vector<double> row = {r.div_cov, static_cast<double>(r.num_unique), r.qual, r.unq_qual, r.utility,
                               static_cast<double>(r.num_unique), static_cast<double>(r.distinct_legacy)};
    for (const auto& m : metrics) row.push_back(m->compute(rec, r, where));
    for (size_t c = 0; c < row.size(); ++c) t.mean[c] += row[c];
    t.rows.push_back(std::move(row));
    t.divcov.push_back(std::move(r));
  }
  if (!records.empty())
    for (auto& v : t.mean) v /= static_cast<double>(records.size());
  return t;
}

}  // namespace breadth
