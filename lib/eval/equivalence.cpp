// Greedy partitioning and the equivalence functions of SPEC §4.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "breadth/divcov.hpp"
#include "breadth/metrics.hpp"
#include "core/check.hpp"
#include "eval/text.hpp"

namespace breadth {

std::vector<int> partition(const std::vector<std::string>& answers, const Equivalence& equivalence) {
  std::vector<int> cls(answers.size(), -1);
  if (answers.empty()) return cls;
  auto judge = equivalence.prepare(answers);
  std::vector<int> reps;  // answer index of each class's first member
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < static_cast<int>(answers.size()); ++i) {
    if (!reps.empty()) {
      pairs.clear();
      for (int r : reps) pairs.emplace_back(r, i);
      auto eq = judge->equivalent(pairs);
      BREADTH_CHECK_ARG(eq.size() == pairs.size(), "equivalence '{}' answered {} of {} pairs",
                        equivalence.name(), eq.size(), pairs.size());
      for (size_t k = 0; k < reps.size(); ++k) {
        if (eq[k]) {
          cls[i] = static_cast<int>(k);
          break;
        }
      }
    }
    if (cls[i] < 0) {
      cls[i] = static_cast<int>(reps.size());
      reps.push_back(i);
    }
  }
  return cls;
}

std::string normalize_answer(std::string_view answer) {
  std::string lower = eval::python_lower(answer);
  std::string out;
  out.reserve(lower.size());
  bool pending_space = false;
  for (size_t pos = 0; pos < lower.size();) {
    size_t here = pos;
    char32_t cp = eval::next_code_point(lower, pos);
    if (eval::is_python_space(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.append(lower, here, pos - here);
  }
  auto strip = [](char c) { return std::string_view(".,;:!?\"'` ").find(c) != std::string_view::npos; };
  size_t b = 0, e = out.size();
  while (b < e && strip(out[b])) ++b;
  while (e > b && strip(out[e - 1])) --e;
  return out.substr(b, e - b);
}

namespace {

// ------------------------------------------------------------------------------ exact match

class ExactJudge : public PairJudge {
 public:
  explicit ExactJudge(const std::vector<std::string>& answers) {
    for (const auto& a : answers) norm_.push_back(normalize_answer(a));
  }
  std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
    std::vector<uint8_t> out;
    for (auto [a, b] : pairs) out.push_back(norm_.at(a) == norm_.at(b));
    return out;
  }

 private:
  std::vector<std::string> norm_;
};

class ExactEquivalence : public Equivalence {
 public:
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<ExactJudge>(answers);
  }
  std::string name() const override { return "exact"; }
};

// ---------------------------------------------------------------------------------- ROUGE-1

class Rouge1Judge : public PairJudge {
 public:
  Rouge1Judge(const std::vector<std::string>& answers, double threshold) : threshold_(threshold) {
    for (const auto& a : answers) tokens_.push_back(rouge_tokenize(a));
  }
  std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
    std::vector<uint8_t> out;
    // NoveltyBench calls scorer.score(representative, candidate): target = representative.
    for (auto [a, b] : pairs) out.push_back(rouge1(tokens_.at(a), tokens_.at(b)).fmeasure > threshold_);
    return out;
  }

 private:
  double threshold_;
  std::vector<std::vector<std::string>> tokens_;
};

class Rouge1Equivalence : public Equivalence {
 public:
  explicit Rouge1Equivalence(double t) : threshold_(t) {}
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<Rouge1Judge>(answers, threshold_);
  }
  std::string name() const override { return fmt::format("rouge1>{}", threshold_); }

 private:
  double threshold_;
};

// ------------------------------------------------------------------- NoveltyBench shortcut

class ShortcutJudge : public PairJudge {
 public:
  ShortcutJudge(const std::vector<std::string>& answers, const Equivalence* fallback, int max_words)
      : answers_(answers), fallback_(fallback), max_words_(max_words) {
    for (const auto& a : answers) words_.push_back(eval::python_split(eval::python_lower(a)));
  }
  std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
    std::vector<uint8_t> out(pairs.size(), 0);
    std::vector<std::pair<int, int>> rest;
    std::vector<size_t> where;
    for (size_t k = 0; k < pairs.size(); ++k) {
      auto [a, b] = pairs[k];
      const auto& wa = words_.at(a);
      const auto& wb = words_.at(b);
      const size_t longer = std::max(wa.size(), wb.size());
      if (longer <= static_cast<size_t>(max_words_)) {
        std::unordered_set<std::string_view> sa(wa.begin(), wa.end()), shared;
        for (const auto& w : wb)
          if (sa.count(w)) shared.insert(w);
        out[k] = 2 * shared.size() >= longer;
      } else {
        rest.push_back(pairs[k]);
        where.push_back(k);
      }
    }
    if (!rest.empty()) {
      if (!fallback_judge_) fallback_judge_ = fallback_->prepare(answers_);
      auto d = fallback_judge_->equivalent(rest);
      BREADTH_CHECK_ARG(d.size() == rest.size(), "equivalence '{}' answered {} of {} pairs",
                        fallback_->name(), d.size(), rest.size());
      for (size_t k = 0; k < rest.size(); ++k) out[where[k]] = d[k];
    }
    return out;
  }

 private:
  const std::vector<std::string>& answers_;
  const Equivalence* fallback_;
  int max_words_;
  std::vector<std::vector<std::string>> words_;
  std::unique_ptr<PairJudge> fallback_judge_;  // prepared only when a long pair needs it
};

class ShortcutEquivalence : public Equivalence {
 public:
  ShortcutEquivalence(std::shared_ptr<Equivalence> fallback, int max_words)
      : fallback_(std::move(fallback)), max_words_(max_words) {}
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<ShortcutJudge>(answers, fallback_.get(), max_words_);
  }
  std::string name() const override { return "noveltybench-shortcut(" + fallback_->name() + ")"; }

 private:
  std::shared_ptr<Equivalence> fallback_;
  int max_words_;
};

// ---------------------------------------------------------------------------- embeddings

using EmbedFn = std::function<torch::Tensor(const std::vector<std::string>&)>;

class EmbeddingJudge : public PairJudge {
 public:
  EmbeddingJudge(const std::vector<std::string>& answers, const EmbedFn& embed, double threshold)
      : threshold_(threshold) {
    torch::Tensor e = embed(answers);
    BREADTH_CHECK_ARG(e.defined() && e.dim() == 2 && e.size(0) == static_cast<int64_t>(answers.size()),
                      "embedding equivalence: the embedder must return [{}, d] for {} answers",
                      answers.size(), answers.size());
    e = e.detach().to(torch::kCPU, torch::kFloat64);
    auto norms = e.norm(2, 1, true).clamp_min(1e-12);
    // Cosine similarity of every pair, computed once per answer set.
    sim_ = torch::mm(e / norms, (e / norms).t()).contiguous();
    n_ = sim_.size(0);
  }
  std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
    const double* s = sim_.data_ptr<double>();
    std::vector<uint8_t> out;
    for (auto [a, b] : pairs) out.push_back(s[static_cast<int64_t>(a) * n_ + b] > threshold_);
    return out;
  }

 private:
  double threshold_;
  torch::Tensor sim_;
  int64_t n_ = 0;
};

class EmbeddingEquivalence : public Equivalence {
 public:
  EmbeddingEquivalence(EmbedFn embed, double threshold) : embed_(std::move(embed)), threshold_(threshold) {
    BREADTH_CHECK_ARG(static_cast<bool>(embed_), "embedding equivalence: no embedder given");
    BREADTH_CHECK_ARG(threshold >= -1 && threshold <= 1,
                      "embedding equivalence: the cosine threshold must be in [-1, 1] (got {})", threshold);
  }
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<EmbeddingJudge>(answers, embed_, threshold_);
  }
  std::string name() const override { return fmt::format("embedding-cosine>{}", threshold_); }

 private:
  EmbedFn embed_;
  double threshold_;
};

// ---------------------------------------------------------------------------- classifier

class ClassifierJudge : public PairJudge {
 public:
  ClassifierJudge(const std::vector<std::string>& answers, const PairClassifier& c, double t)
      : answers_(answers), classifier_(c), threshold_(t) {}
  std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
    std::vector<std::pair<std::string, std::string>> texts;
    texts.reserve(pairs.size());
    for (auto [a, b] : pairs) texts.emplace_back(answers_.at(a), answers_.at(b));
    auto p = classifier_.probabilities(texts);
    BREADTH_CHECK_ARG(p.size() == pairs.size(), "classifier equivalence: {} probabilities for {} pairs",
                      p.size(), pairs.size());
    std::vector<uint8_t> out;
    for (double v : p) out.push_back(v > threshold_);
    return out;
  }

 private:
  const std::vector<std::string>& answers_;
  const PairClassifier& classifier_;
  double threshold_;
};

class ClassifierEquivalence : public Equivalence {
 public:
  ClassifierEquivalence(std::shared_ptr<const PairClassifier> c, double t)
      : classifier_(std::move(c)), threshold_(t) {
    BREADTH_CHECK_ARG(classifier_ != nullptr, "classifier equivalence: no classifier given");
  }
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<ClassifierJudge>(answers, *classifier_, threshold_);
  }
  std::string name() const override { return fmt::format("classifier>{}", threshold_); }

 private:
  std::shared_ptr<const PairClassifier> classifier_;
  double threshold_;
};

// Splits "kind:path[:threshold]"; the threshold is the last field when it parses as a number.
void split_spec(const std::string& rest, std::string& path, std::optional<double>& threshold) {
  path = rest;
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return;
  std::string tail = rest.substr(colon + 1);
  char* end = nullptr;
  double v = std::strtod(tail.c_str(), &end);
  if (!tail.empty() && end && *end == '\0' && std::isfinite(v)) {
    path = rest.substr(0, colon);
    threshold = v;
  }
}

}  // namespace

std::shared_ptr<Equivalence> exact_match_equivalence() { return std::make_shared<ExactEquivalence>(); }

std::shared_ptr<Equivalence> rouge1_equivalence(double threshold) {
  BREADTH_CHECK_ARG(std::isfinite(threshold), "rouge1 equivalence: threshold must be finite");
  return std::make_shared<Rouge1Equivalence>(threshold);
}

std::shared_ptr<Equivalence> unigram_shortcut_equivalence(std::shared_ptr<Equivalence> fallback,
                                                          int max_words) {
  BREADTH_CHECK_ARG(fallback != nullptr,
                    "noveltybench shortcut: a fallback equivalence for long answers is required");
  BREADTH_CHECK_ARG(max_words >= 0, "noveltybench shortcut: max_words must be >= 0 (got {})", max_words);
  return std::make_shared<ShortcutEquivalence>(std::move(fallback), max_words);
}

std::shared_ptr<Equivalence> embedding_equivalence(std::shared_ptr<const TextEmbedder> embedder,
                                                   double threshold) {
  BREADTH_CHECK_ARG(embedder != nullptr, "embedding equivalence: no embedder given");
  return std::make_shared<EmbeddingEquivalence>(
      [embedder](const std::vector<std::string>& t) { return embedder->embed(t); }, threshold);
}

std::shared_ptr<Equivalence> embedding_equivalence(EmbedFn embed, double threshold) {
  return std::make_shared<EmbeddingEquivalence>(std::move(embed), threshold);
}

std::shared_ptr<Equivalence> classifier_equivalence(std::shared_ptr<const PairClassifier> classifier,
                                                    double threshold) {
  return std::make_shared<ClassifierEquivalence>(std::move(classifier), threshold);
}

std::shared_ptr<Equivalence> make_equivalence(const std::string& spec) {
  auto colon = spec.find(':');
  std::string kind = spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "exact" && rest.empty()) return exact_match_equivalence();
  if (kind == "rouge1") {
    if (rest.empty()) return rouge1_equivalence();
    char* end = nullptr;
    double t = std::strtod(rest.c_str(), &end);
    BREADTH_CHECK_ARG(end && *end == '\0', "equivalence '{}': expected rouge1 or rouge1:THRESHOLD", spec);
    return rouge1_equivalence(t);
  }
  if (kind == "noveltybench-shortcut") {
    // NoveltyBench defers long pairs to its DeBERTa classifier; without one given (…:classifier:PATH)
    // they go to ROUGE-1 > 0.458, the lexical stand-in of SPEC §4.
    if (rest.empty()) return unigram_shortcut_equivalence(rouge1_equivalence());
    return unigram_shortcut_equivalence(make_equivalence(rest));
  }
  if (kind == "embedding" || kind == "classifier") {
    std::string path;
    std::optional<double> threshold;
    split_spec(rest, path, threshold);
    BREADTH_CHECK_ARG(!path.empty(), "equivalence '{}': give the model path, e.g. {}:/path/to/model", spec,
                      kind);
    const auto& loaders = text_model_loaders();
    if (kind == "embedding") {
      if (!loaders.embedder)
        fail<Unsupported>("equivalence '{}': no text embedder implementation is linked into this build "
                          "(link breadth_encoder, which registers one); use exact, rouge1 or "
                          "noveltybench-shortcut",
                          spec);
      BREADTH_CHECK_ARG(threshold.has_value(),
                        "equivalence '{}': embedding equivalence needs a cosine threshold: "
                        "embedding:PATH:THRESHOLD",
                        spec);
      return embedding_equivalence(loaders.embedder(path), *threshold);
    }
    if (!loaders.classifier)
      fail<Unsupported>("equivalence '{}': no pair-classifier implementation is linked into this build "
                        "(link breadth_encoder, which registers one); use exact, rouge1 or "
                        "noveltybench-shortcut",
                        spec);
    return classifier_equivalence(loaders.classifier(path), threshold.value_or(0.102));
  }
  fail("unknown equivalence '{}': use exact, rouge1[:T], noveltybench-shortcut[:FALLBACK], "
       "embedding:PATH:T or classifier:PATH[:T]",
       spec);
}

}  // namespace breadth
