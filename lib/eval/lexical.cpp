// Lexical diversity: Distinct-n, EAD-n, BLEU / Self-BLEU (as nltk), ROUGE-1 / ROUGE-L and
// Self-ROUGE-L (as rouge-score).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <unordered_set>

#include "breadth/metrics.hpp"
#include "core/check.hpp"
#include "eval/ngrams.hpp"

namespace breadth {
namespace {

double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

std::vector<std::vector<std::string>> tokenize_all(const std::vector<std::string>& texts,
                                                   WordTokenizer tokenizer) {
  std::vector<std::vector<std::string>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(word_tokenize(t, tokenizer));
  return out;
}

// LCS length of two id sequences with one rolling row.
size_t lcs_length(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  if (a.empty() || b.empty()) return 0;
  const std::vector<int32_t>& s = a.size() < b.size() ? a : b;  // the row is over the shorter one
  const std::vector<int32_t>& l = a.size() < b.size() ? b : a;
  std::vector<uint32_t> row(s.size() + 1, 0);
  for (int32_t x : l) {
    uint32_t diag = 0;  // row[j-1] of the previous line
    for (size_t j = 1; j <= s.size(); ++j) {
      uint32_t up = row[j];
      row[j] = x == s[j - 1] ? diag + 1 : std::max(row[j], row[j - 1]);
      diag = up;
    }
  }
  return row[s.size()];
}

RougeScore rouge_l_ids(const std::vector<int32_t>& target, const std::vector<int32_t>& prediction) {
  if (target.empty() || prediction.empty()) return {};
  double lcs = static_cast<double>(lcs_length(target, prediction));
  RougeScore s;
  s.precision = lcs / static_cast<double>(prediction.size());
  s.recall = lcs / static_cast<double>(target.size());
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

// BLEU from clipped counts already known: nltk's corpus_bleu for one hypothesis.
double bleu_from_counts(const std::vector<int64_t>& numerators, const std::vector<int64_t>& denominators,
                        size_t hyp_len, size_t closest_ref_len, const std::vector<double>& weights,
                        BleuSmoothing smoothing) {
  if (numerators.empty() || numerators[0] == 0) return 0.0;
  double bp;
  if (hyp_len > closest_ref_len) bp = 1.0;
  else if (hyp_len == 0) bp = 0.0;
  else bp = std::exp(1.0 - static_cast<double>(closest_ref_len) / static_cast<double>(hyp_len));
  double s = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    double p;
    if (numerators[i] != 0) p = static_cast<double>(numerators[i]) / static_cast<double>(denominators[i]);
    else if (smoothing == BleuSmoothing::kMethod1) p = 0.1 / static_cast<double>(denominators[i]);
    else p = DBL_MIN;
    if (p > 0) s += weights[i] * std::log(p);
  }
  return bp * std::exp(s);
}

size_t closest_ref_length(const std::vector<size_t>& ref_lens, size_t hyp_len) {
  // min over (|r - h|, r): the closest length, the shorter one on a tie.
  size_t best = ref_lens.front();
  auto dist = [&](size_t r) { return r > hyp_len ? r - hyp_len : hyp_len - r; };
  for (size_t r : ref_lens)
    if (dist(r) < dist(best) || (dist(r) == dist(best) && r < best)) best = r;
  return best;
}

void check_weights(const std::vector<double>& weights) {
  BREADTH_CHECK_ARG(!weights.empty() && weights.size() <= 16,
                    "BLEU weights: give 1 to 16 n-gram weights (got {})", weights.size());
}

}  // namespace

RougeScore rouge1(const std::vector<std::string>& target, const std::vector<std::string>& prediction) {
  std::unordered_map<std::string_view, int64_t> t, p;
  for (const auto& w : target) ++t[w];
  for (const auto& w : prediction) ++p[w];
  int64_t inter = 0;
  for (const auto& [w, c] : t) {
    auto it = p.find(w);
    if (it != p.end()) inter += std::min(c, it->second);
  }
  RougeScore s;
  s.precision = static_cast<double>(inter) / static_cast<double>(std::max<size_t>(prediction.size(), 1));
  s.recall = static_cast<double>(inter) / static_cast<double>(std::max<size_t>(target.size(), 1));
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

RougeScore rouge_l(const std::vector<std::string>& target, const std::vector<std::string>& prediction) {
  auto ids = eval::intern_tokens({target, prediction});
  return rouge_l_ids(ids[0], ids[1]);
}

double distinct_n_tokens(const std::vector<std::vector<std::string>>& tokens, int n) {
  BREADTH_CHECK_ARG(n >= 1, "distinct_n: n must be >= 1 (got {})", n);
  auto ids = eval::intern_tokens(tokens);
  std::unordered_set<std::string> unique;
  size_t total = 0;
  for (const auto& seq : ids) {
    for (size_t i = 0; i + n <= seq.size(); ++i) {
      unique.insert(eval::ngram_key(seq, i, n));
      ++total;
    }
  }
  return total ? static_cast<double>(unique.size()) / static_cast<double>(total) : 0.0;
}

double distinct_n(const std::vector<std::string>& texts, int n, WordTokenizer tokenizer) {
  return distinct_n_tokens(tokenize_all(texts, tokenizer), n);
}

double ead_n(const std::vector<std::vector<int32_t>>& token_ids, int n, int64_t vocab_size) {
  BREADTH_CHECK_ARG(n >= 1, "ead_n: n must be >= 1 (got {})", n);
  BREADTH_CHECK_ARG(vocab_size >= 1, "ead_n: vocab_size must be >= 1 (got {})", vocab_size);
  std::unordered_set<std::string> unique;
  double total = 0;
  for (const auto& seq : token_ids) {
    for (size_t i = 0; i + n <= seq.size(); ++i) {
      unique.insert(eval::ngram_key(seq, i, n));
      total += 1;
    }
  }
  if (total == 0) return 0.0;
  // V (1 - ((V-1)/V)^N) = -V expm1(N log1p(-1/V)): stays accurate when V = |vocab|^n is huge and
  // (V-1)/V rounds to 1 in double precision.
  const double V = std::pow(static_cast<double>(vocab_size), n);
  const double expected = V == 1.0 ? 1.0 : -V * std::expm1(total * std::log1p(-1.0 / V));
  return static_cast<double>(unique.size()) / expected;
}

double sentence_bleu(const std::vector<std::vector<std::string>>& references,
                     const std::vector<std::string>& hypothesis, const std::vector<double>& weights,
                     BleuSmoothing smoothing) {
  check_weights(weights);
  BREADTH_CHECK_ARG(!references.empty(), "sentence_bleu: at least one reference is needed");
  std::vector<std::vector<std::string>> all(references);
  all.push_back(hypothesis);
  auto ids = eval::intern_tokens(all);
  const auto& hyp = ids.back();
  std::vector<int64_t> num(weights.size()), den(weights.size());
  for (size_t k = 0; k < weights.size(); ++k) {
    int n = static_cast<int>(k) + 1;
    auto counts = eval::count_ngrams(hyp, n);
    eval::NgramCounts max_ref;
    for (size_t r = 0; r + 1 < ids.size(); ++r) {
      auto rc = eval::count_ngrams(ids[r], n);
      for (const auto& [g, c] : counts) {
        auto it = rc.find(g);
        if (it != rc.end()) max_ref[g] = std::max(max_ref[g], it->second);
      }
    }
    int64_t total = 0, clipped = 0;
    for (const auto& [g, c] : counts) {
      total += c;
      auto it = max_ref.find(g);
      if (it != max_ref.end()) clipped += std::min(c, it->second);
    }
    num[k] = clipped;
    den[k] = std::max<int64_t>(1, total);
  }
  std::vector<size_t> ref_lens;
  for (const auto& r : references) ref_lens.push_back(r.size());
  return bleu_from_counts(num, den, hyp.size(), closest_ref_length(ref_lens, hyp.size()), weights,
                          smoothing);
}

double self_bleu(const std::vector<std::string>& texts, const SelfBleuOptions& options) {
  check_weights(options.weights);
  const size_t n = texts.size();
  if (n < 2) return 0.0;
  auto ids = eval::intern_tokens(tokenize_all(texts, options.tokenizer));
  std::vector<size_t> lens(n);
  for (size_t i = 0; i < n; ++i) lens[i] = ids[i].size();

  // For every n-gram, the two largest counts over the group and who holds the largest: the clip
  // count against "all texts but i" is then the largest unless i holds it.
  struct Top2 {
    int32_t c1 = 0, c2 = 0;
    int64_t who = -1;
  };
  const size_t orders = options.weights.size();
  std::vector<std::vector<eval::NgramCounts>> counts(orders, std::vector<eval::NgramCounts>(n));
  std::vector<std::unordered_map<std::string, Top2>> top(orders);
  for (size_t k = 0; k < orders; ++k) {
    for (size_t i = 0; i < n; ++i) {
      counts[k][i] = eval::count_ngrams(ids[i], static_cast<int>(k) + 1);
      for (const auto& [g, c] : counts[k][i]) {
        Top2& t = top[k][g];
        if (c > t.c1) {
          t.c2 = t.c1;
          t.c1 = c;
          t.who = static_cast<int64_t>(i);
        } else if (c > t.c2) {
          t.c2 = c;
        }
      }
    }
  }
  double sum = 0.0;
  std::vector<int64_t> num(orders), den(orders);
  std::vector<size_t> ref_lens;
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < orders; ++k) {
      int64_t total = 0, clipped = 0;
      for (const auto& [g, c] : counts[k][i]) {
        const Top2& t = top[k].at(g);
        int32_t ref_max = t.who == static_cast<int64_t>(i) ? t.c2 : t.c1;
        total += c;
        clipped += std::min(c, ref_max);
      }
      num[k] = clipped;
      den[k] = std::max<int64_t>(1, total);
    }
    ref_lens.clear();
    for (size_t j = 0; j < n; ++j)
      if (j != i) ref_lens.push_back(lens[j]);
    sum += bleu_from_counts(num, den, lens[i], closest_ref_length(ref_lens, lens[i]), options.weights,
                            options.smoothing);
  }
  return sum / static_cast<double>(n);
}

double self_rouge_l(const std::vector<std::string>& texts, PairAggregate aggregate) {
  const size_t n = texts.size();
  if (n < 2) return 0.0;
  std::vector<std::vector<std::string>> toks;
  toks.reserve(n);
  for (const auto& t : texts) toks.push_back(rouge_tokenize(t));
  auto ids = eval::intern_tokens(toks);
  std::vector<double> f(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) f[i * n + j] = f[j * n + i] = rouge_l_ids(ids[j], ids[i]).fmeasure;
  double sum = 0.0;
  if (aggregate == PairAggregate::kMeanOverPairs) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) sum += f[i * n + j];
    return sum / (static_cast<double>(n) * static_cast<double>(n - 1) / 2.0);
  }
  for (size_t i = 0; i < n; ++i) {
    double best = 0.0;
    for (size_t j = 0; j < n; ++j)
      if (j != i) best = std::max(best, f[i * n + j]);
    sum += best;
  }
  return sum / static_cast<double>(n);
}

}  // namespace breadth
