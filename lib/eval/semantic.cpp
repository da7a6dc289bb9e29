// Semantic diversity: embedding dissimilarity, Vendi score (embedding and n-gram kernels), NLI
// diversity, entailment clusters and semantic entropy.
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "breadth/metrics.hpp"
#include "core/check.hpp"
#include "eval/ngrams.hpp"

namespace breadth {
namespace {

Eigen::MatrixXd to_eigen(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t r = c.size(0), k = c.size(1);
  Eigen::MatrixXd m(r, k);
  const double* p = c.data_ptr<double>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < k; ++j) m(i, j) = p[i * k + j];
  return m;
}

void check_matrix(const torch::Tensor& t, const char* what, bool square) {
  BREADTH_CHECK_ARG(t.defined() && t.dim() == 2, "{}: expected a 2-D tensor, got {} dims", what,
                    t.defined() ? t.dim() : 0);
  BREADTH_CHECK_ARG(t.is_floating_point(), "{}: expected a floating tensor", what);
  if (square)
    BREADTH_CHECK_ARG(t.size(0) == t.size(1), "{}: expected a square matrix, got [{}, {}]", what,
                      t.size(0), t.size(1));
  BREADTH_CHECK_ARG(torch::isfinite(t).all().item<bool>(), "{}: the tensor holds NaN or Inf", what);
}

Eigen::MatrixXd row_normalized(const torch::Tensor& embeddings) {
  Eigen::MatrixXd x = to_eigen(embeddings);
  for (int64_t i = 0; i < x.rows(); ++i) {
    double norm = x.row(i).norm();
    if (norm > 0) x.row(i) /= norm;  // as sklearn.preprocessing.normalize: zero rows stay zero
  }
  return x;
}

double vendi_of(const Eigen::MatrixXd& k) {
  const int64_t n = k.rows();
  if (n == 0) return 0.0;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(k / static_cast<double>(n),
                                                        Eigen::EigenvaluesOnly);
  BREADTH_CHECK_ARG(solver.info() == Eigen::Success, "vendi_score: eigen-decomposition failed");
  double h = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double l = solver.eigenvalues()(i);
    if (l > 0) h -= l * std::log(l);
  }
  return std::exp(h);
}

}  // namespace

double embedding_dissimilarity(const torch::Tensor& embeddings) {
  check_matrix(embeddings, "embedding_dissimilarity", false);
  const int64_t n = embeddings.size(0);
  if (n < 2) return 0.0;
  Eigen::MatrixXd x = row_normalized(embeddings);
  Eigen::MatrixXd sim = x * x.transpose();
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) sum += 1.0 - sim(i, j);
  return sum / (static_cast<double>(n) * static_cast<double>(n - 1) / 2.0);
}

double vendi_score(const torch::Tensor& kernel) {
  check_matrix(kernel, "vendi_score", true);
  Eigen::MatrixXd k = to_eigen(kernel);
  BREADTH_CHECK_ARG(k.isApprox(k.transpose(), 1e-9) || k.size() == 0,
                    "vendi_score: the kernel must be symmetric");
  return vendi_of(k);
}

double vendi_score_embeddings(const torch::Tensor& embeddings) {
  check_matrix(embeddings, "vendi_score_embeddings", false);
  Eigen::MatrixXd x = row_normalized(embeddings);
  return vendi_of(x * x.transpose());
}

torch::Tensor ngram_kernel(const std::vector<std::string>& texts, const std::vector<int>& orders,
                           NgramKernel kind, WordTokenizer tokenizer) {
  BREADTH_CHECK_ARG(!orders.empty(), "ngram_kernel: give at least one n-gram order");
  const size_t n = texts.size();
  std::vector<std::vector<std::string>> toks;
  toks.reserve(n);
  for (const auto& t : texts) toks.push_back(word_tokenize(t, tokenizer));
  auto ids = eval::intern_tokens(toks);
  Eigen::MatrixXd k = Eigen::MatrixXd::Zero(static_cast<int64_t>(n), static_cast<int64_t>(n));
  for (int order : orders) {
    BREADTH_CHECK_ARG(order >= 1, "ngram_kernel: orders must be >= 1 (got {})", order);
    // Each text's n-grams as sorted (feature id, count) lists over one shared feature index.
    std::unordered_map<std::string, int32_t> feature;
    std::vector<std::vector<std::pair<int32_t, int32_t>>> rows(n);
    for (size_t i = 0; i < n; ++i) {
      for (const auto& [g, c] : eval::count_ngrams(ids[i], order)) {
        int32_t f = feature.emplace(g, static_cast<int32_t>(feature.size())).first->second;
        rows[i].emplace_back(f, c);
      }
      std::sort(rows[i].begin(), rows[i].end());
    }
    std::vector<double> norms(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (const auto& [f, c] : rows[i]) norms[i] += static_cast<double>(c) * c;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i; j < n; ++j) {
        size_t a = 0, b = 0, common = 0;
        double dot = 0.0;
        while (a < rows[i].size() && b < rows[j].size()) {
          if (rows[i][a].first < rows[j][b].first) ++a;
          else if (rows[i][a].first > rows[j][b].first) ++b;
          else {
            ++common;
            dot += static_cast<double>(rows[i][a].second) * rows[j][b].second;
            ++a, ++b;
          }
        }
        double s = 0.0;
        if (kind == NgramKernel::kJaccard) {
          size_t uni = rows[i].size() + rows[j].size() - common;
          s = uni ? static_cast<double>(common) / static_cast<double>(uni) : 0.0;
        } else if (norms[i] > 0 && norms[j] > 0) {
          s = dot / (std::sqrt(norms[i]) * std::sqrt(norms[j]));
        }
        k(i, j) += s;
        if (j != i) k(j, i) += s;
      }
    }
  }
  k /= static_cast<double>(orders.size());
  auto out = torch::empty({static_cast<int64_t>(n), static_cast<int64_t>(n)}, torch::kFloat64);
  double* p = out.data_ptr<double>();
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) p[i * n + j] = k(i, j);
  return out;
}

double vendi_score_ngram(const std::vector<std::string>& texts, const std::vector<int>& orders,
                         NgramKernel kind, WordTokenizer tokenizer) {
  if (texts.empty()) return 0.0;
  return vendi_of(to_eigen(ngram_kernel(texts, orders, kind, tokenizer)));
}

double nli_diversity(const torch::Tensor& entailment) {
  check_matrix(entailment, "nli_diversity", true);
  const int64_t n = entailment.size(0);
  if (n < 2) return 0.0;
  Eigen::MatrixXd p = to_eigen(entailment);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) sum += p(i, j);
  return sum / (static_cast<double>(n) * static_cast<double>(n - 1) / 2.0);
}

double nli_diversity(const std::vector<std::string>& texts,
                     const std::function<std::vector<double>(
                         const std::vector<std::pair<std::string, std::string>>&)>& entailment) {
  BREADTH_CHECK_ARG(static_cast<bool>(entailment), "nli_diversity: no entailment function given");
  const size_t n = texts.size();
  if (n < 2) return 0.0;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) pairs.emplace_back(texts[i], texts[j]);
  auto probs = entailment(pairs);
  BREADTH_CHECK_ARG(probs.size() == pairs.size(),
                    "nli_diversity: the entailment function returned {} values for {} pairs",
                    probs.size(), pairs.size());
  double sum = 0.0;
  for (double p : probs) sum += p;
  return sum / static_cast<double>(pairs.size());
}

std::vector<int> entailment_clusters(
    const std::vector<std::string>& texts,
    const std::function<std::vector<uint8_t>(const std::vector<std::pair<std::string, std::string>>&)>&
        entails) {
  BREADTH_CHECK_ARG(static_cast<bool>(entails), "entailment_clusters: no entailment function given");
  std::vector<int> cls(texts.size(), -1);
  std::vector<size_t> reps;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!reps.empty()) {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (size_t r : reps) {
        pairs.emplace_back(texts[r], texts[i]);
        pairs.emplace_back(texts[i], texts[r]);
      }
      auto d = entails(pairs);
      BREADTH_CHECK_ARG(d.size() == pairs.size(),
                        "entailment_clusters: the entailment function returned {} values for {} pairs",
                        d.size(), pairs.size());
      for (size_t k = 0; k < reps.size(); ++k) {
        if (d[2 * k] && d[2 * k + 1]) {
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

double semantic_entropy(const std::vector<int>& clusters, const std::vector<double>& log_likelihoods) {
  const size_t n = clusters.size();
  if (n == 0) return 0.0;
  BREADTH_CHECK_ARG(log_likelihoods.empty() || log_likelihoods.size() == n,
                    "semantic_entropy: {} log-likelihoods for {} outputs", log_likelihoods.size(), n);
  int k = 0;
  for (int c : clusters) {
    BREADTH_CHECK_ARG(c >= 0, "semantic_entropy: cluster ids must be >= 0 (got {})", c);
    k = std::max(k, c + 1);
  }
  std::vector<double> logp(k, -std::numeric_limits<double>::infinity());
  auto log_add = [](double a, double b) {
    if (a == -std::numeric_limits<double>::infinity()) return b;
    if (b == -std::numeric_limits<double>::infinity()) return a;
    double m = std::max(a, b);
    return m + std::log(std::exp(a - m) + std::exp(b - m));
  };
  for (size_t i = 0; i < n; ++i) {
    double ll = log_likelihoods.empty() ? 0.0 : log_likelihoods[i];
    BREADTH_CHECK_ARG(!std::isnan(ll) && ll != std::numeric_limits<double>::infinity(),
                      "semantic_entropy: log-likelihood {} of output {} is not a log-probability", ll, i);
    logp[clusters[i]] = log_add(logp[clusters[i]], ll);
  }
  double total = -std::numeric_limits<double>::infinity();
  for (double l : logp) total = log_add(total, l);
  BREADTH_CHECK_ARG(total != -std::numeric_limits<double>::infinity(),
                    "semantic_entropy: every output has probability 0");
  double h = 0.0;
  for (double l : logp) {
    if (l == -std::numeric_limits<double>::infinity()) continue;
    double lp = l - total;
    h -= std::exp(lp) * lp;
  }
  return h;
}

int64_t distinct_classes(const std::vector<int>& partition) {
  std::vector<int> seen(partition.begin(), partition.end());
  std::sort(seen.begin(), seen.end());
  return std::unique(seen.begin(), seen.end()) - seen.begin();
}

}  // namespace breadth
