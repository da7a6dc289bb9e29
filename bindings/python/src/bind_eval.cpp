// breadth.DivCov, equivalences, diversity metrics and Coverage/Dominance.
#include <fmt/format.h>

#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "breadth/metrics.hpp"
#include "breadth/pareto.hpp"
#include "breadth/spec.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

/// A Python function(a, b) -> bool as an equivalence (called with the GIL, pair by pair).
class PyEquivalence : public Equivalence {
 public:
  PyEquivalence(py::object fn, std::shared_ptr<ErrorSlot> slot) : fn_(hold(std::move(fn))), slot_(std::move(slot)) {}
  std::string name() const override { return "python"; }
  std::unique_ptr<PairJudge> prepare(const std::vector<std::string>& answers) const override {
    return std::make_unique<Judge>(fn_, slot_, answers);
  }

 private:
  struct Judge : PairJudge {
    Judge(PyRef fn, std::shared_ptr<ErrorSlot> slot, const std::vector<std::string>& a)
        : fn(std::move(fn)), slot(std::move(slot)), answers(a) {}
    std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& pairs) override {
      return slot->call([&] {
        std::vector<uint8_t> out;
        for (const auto& [r, c] : pairs) out.push_back((*fn)(answers[r], answers[c]).cast<bool>() ? 1 : 0);
        return out;
      });
    }
    PyRef fn;
    std::shared_ptr<ErrorSlot> slot;
    const std::vector<std::string>& answers;
  };
  PyRef fn_;
  std::shared_ptr<ErrorSlot> slot_;
};

/// An equivalence from a spec ("exact", "rouge1:0.5", ...), an Encoder plus threshold, or a callable.
std::shared_ptr<Equivalence> equivalence_of(const py::object& e, double threshold, const SpecOptions& judges,
                                            const std::shared_ptr<ErrorSlot>& slot) {
  if (py::isinstance<py::str>(e)) return make_equivalence(e.cast<std::string>(), judges);
  if (py::isinstance<Encoder>(e)) {
    auto enc = e.cast<std::shared_ptr<Encoder>>();
    if (enc->config().num_labels > 0) return classifier_equivalence(make_pair_classifier(enc), threshold);
    return embedding_equivalence(make_text_embedder(enc), threshold);
  }
  if (PyCallable_Check(e.ptr())) return std::make_shared<PyEquivalence>(e, slot);
  throw InvalidArgument("equivalence must be a spec ('exact', 'rouge1[:T]', 'noveltybench-shortcut', "
                        "'embedding:PATH:T', 'classifier:PATH[:T]'), a breadth.Encoder, or a callable(a, b) -> bool");
}

// The library's defaults, which the keyword arguments show (never restated here).
const DivCovOptions kDivCov;

/// The Python-facing DivCov: an equivalence and a quality, reused over many answer sets.
struct PyDivCov {
  std::shared_ptr<Equivalence> equivalence;
  std::shared_ptr<QualityScorer> quality;
  std::shared_ptr<ErrorSlot> slot;
  std::string equivalence_name, quality_name;
  DivCovOptions options;
};

std::vector<QDPoint> points_of(const std::vector<std::pair<double, double>>& p) {
  std::vector<QDPoint> out;
  for (const auto& [x, y] : p) out.push_back({x, y});
  return out;
}
std::vector<std::pair<double, double>> pairs_of(const std::vector<QDPoint>& p) {
  std::vector<std::pair<double, double>> out;
  for (const auto& q : p) out.push_back({q.x, q.y});
  return out;
}

WordTokenizer word_tokenizer_of(const std::string& s) { return parse_word_tokenizer(s, "tokenizer"); }
BleuSmoothing smoothing_of(const std::string& s) { return parse_bleu_smoothing(s, "smoothing"); }

// The library's defaults, by their names (a face restates none).
const std::string kTokenizer(word_tokenizer_name(kDefaultWordTokenizer));
const std::string kSmoothing(bleu_smoothing_name(kDefaultBleuSmoothing));
const std::string kAggregate(pair_aggregate_name(kDefaultPairAggregate));
const std::string kKernel(ngram_kernel_name(kDefaultNgramKernel));

}  // namespace

void bind_eval(py::module_& m) {
  py::class_<DivCovResult>(m, "DivCovResult", "The figures of one answer set.")
      .def_readonly("partition", &DivCovResult::partition, "Class id per answer (first appearance order).")
      .def_readonly("quality", &DivCovResult::quality)
      .def_readonly("num_unique", &DivCovResult::num_unique, "#Unq")
      .def_readonly("qual", &DivCovResult::qual, "Qual: mean quality over all answers")
      .def_readonly("unq_qual", &DivCovResult::unq_qual, "UnqQual: mean quality over class representatives")
      .def_readonly("div_cov", &DivCovResult::div_cov, "Cov: quality of the unique answers over max-uniq-sum(B)")
      .def_readonly("generation_scores", &DivCovResult::generation_scores)
      .def_readonly("utility", &DivCovResult::utility, "NoveltyBench's utility")
      .def_readonly("distinct", &DivCovResult::num_unique, "Same as num_unique (NoveltyBench's name).")
      .def_readonly("distinct_legacy", &DivCovResult::distinct_legacy)
      .def("__repr__", [](const DivCovResult& r) {
        return fmt::format("DivCovResult(div_cov={:.4f}, num_unique={}, qual={:.3f}, unq_qual={:.3f}, utility={:.3f}, "
                           "answers={})",
                           r.div_cov, r.num_unique, r.qual, r.unq_qual, r.utility, r.partition.size());
      });

  py::class_<PyDivCov>(m, "DivCov", R"doc(
Diversity coverage (the router paper's div-cov): answers are partitioned greedily into equivalence
classes, each answer gets a quality, and div-cov is the summed quality of the class representatives
over the best sum the budget B allows.

equivalence: 'exact' (normalized match), 'rouge1[:T]', 'noveltybench-shortcut', 'embedding:PATH:T',
'classifier:PATH[:T]', a breadth.Encoder (with `threshold`), or a callable(a, b) -> bool.
quality: None (every answer scores 1), a spec ('const:VALUE', 'reward:PATH'), a list of gold answers
(1 if in the set), or a callable(prompt, answers) -> list of scores with its best score `max_score`.
Spec strings are those of breadth/spec.hpp (docs/specs.md); model-backed judges load on `device`.

>>> dc = breadth.DivCov("exact", quality=["monday", "tuesday", "wednesday"])
>>> dc.evaluate("Name a weekday.", ["Monday", "monday.", "Tuesday", "Sunday"]).div_cov
0.666...
)doc")
      .def(py::init([](const py::object& equivalence, const py::object& quality, double max_score, int64_t budget,
                       double patience, double threshold, const py::object& device) {
             PyDivCov d;
             d.slot = std::make_shared<ErrorSlot>();
             SpecOptions judges;
             judges.device = device_of(device);
             d.equivalence = equivalence_of(equivalence, threshold, judges, d.slot);
             d.equivalence_name = py::isinstance<py::str>(equivalence) ? equivalence.cast<std::string>()
                                                                       : d.equivalence->name();
             if (quality.is_none()) {
               d.quality = constant_quality(1.0);
               d.quality_name = "constant";
             } else if (py::isinstance<py::str>(quality)) {
               d.quality = make_quality(quality.cast<std::string>(), judges);
               d.quality_name = quality.cast<std::string>();
             } else if (PyCallable_Check(quality.ptr())) {
               PyRef fn = hold(quality);
               auto slot = d.slot;
               d.quality = function_quality(
                   [fn, slot](const std::string& prompt, const std::vector<std::string>& answers) {
                     return slot->call([&] { return (*fn)(prompt, answers).cast<std::vector<double>>(); });
                   },
                   max_score);
               d.quality_name = "function";
             } else {
               d.quality = gold_quality(quality.cast<std::vector<std::string>>());
               d.quality_name = "gold";
             }
             d.options.budget = budget;
             d.options.patience = patience;
             return d;
           }),
           py::arg("equivalence") = "exact", py::arg("quality") = py::none(), py::arg("max_score") = 10.0,
           py::arg("budget") = kDivCov.budget, py::arg("patience") = kDivCov.patience, py::arg("threshold") = 0.0,
           py::arg("device") = SpecOptions{}.device.str())
      .def(
          "evaluate",
          [](const PyDivCov& d, const std::string& prompt, const std::vector<std::string>& answers,
             const py::object& scores, const py::object& budget) {
            DivCovOptions o = d.options;
            if (!budget.is_none()) o.budget = budget.cast<int64_t>();
            if (!scores.is_none()) {
              auto s = scores.cast<std::vector<double>>();
              auto q = function_quality([s](const std::string&, const std::vector<std::string>&) { return s; },
                                        d.quality->max_score());
              return run_without_gil(d.slot, [&] { return evaluate_divcov(prompt, answers, *d.equivalence, *q, o); });
            }
            return run_without_gil(d.slot,
                                   [&] { return evaluate_divcov(prompt, answers, *d.equivalence, *d.quality, o); });
          },
          py::arg("prompt"), py::arg("answers"), py::arg("scores") = py::none(), py::arg("budget") = py::none(),
          "Figures of one answer set; `scores` (one per answer) overrides the quality for this call.")
      .def(
          "partition",
          [](const PyDivCov& d, const std::vector<std::string>& answers) {
            return run_without_gil(d.slot, [&] { return partition(answers, *d.equivalence); });
          },
          py::arg("answers"), "Class id of each answer under greedy partitioning.")
      .def_static("from_partition", &divcov_from, py::arg("partition"), py::arg("quality"), py::arg("max_unique_sum"),
                  py::arg("patience") = kDivCov.patience,
                  R"doc(Figures from a known partition and per-answer qualities; max_unique_sum is the
denominator (B * q_max for open questions, min(B, |gold|) for a gold set).

>>> breadth.DivCov.from_partition([0, 0, 1], [1.0, 1.0, 0.0], max_unique_sum=3).div_cov
0.333...)doc")
      .def("__repr__", [](const PyDivCov& d) {
        return fmt::format("DivCov(equivalence='{}', quality={}, budget={}, patience={})", d.equivalence_name,
                           d.quality_name, d.options.budget, d.options.patience);
      });

  m.def("normalize_answer", &normalize_answer, py::arg("answer"), "How exact matching and gold sets normalize answers.");
  m.def("noveltybench_utility", &noveltybench_utility, py::arg("generation_scores"), py::arg("patience") = kDivCov.patience);
  m.def(
      "reward_to_score", [](double r) { return reward_to_score(r); }, py::arg("reward"),
      "NoveltyBench's reward thresholds: bisect_left(thresholds, reward) + 1, in 1..10.");

  // -------------------------------------------------------------------------------------- metrics
  m.def(
      "word_tokenize", [](const std::string& t, const std::string& tok) { return word_tokenize(t, word_tokenizer_of(tok)); },
      py::arg("text"), py::arg("tokenizer") = kTokenizer, "nltk's wordpunct_tokenize (or str.split()).");
  m.def("rouge_tokenize", &rouge_tokenize, py::arg("text"), "rouge-score's tokenizer (no stemming).");
  m.def(
      "distinct_n",
      [](const std::vector<std::string>& texts, int n, const std::string& tok) {
        return distinct_n(texts, n, word_tokenizer_of(tok));
      },
      py::arg("texts"), py::arg("n"), py::arg("tokenizer") = kTokenizer,
      R"doc(Unique n-grams / all n-grams over the group.

>>> breadth.distinct_n(["a b a b"], 1)
0.5)doc");
  m.def("ead_n", &ead_n, py::arg("token_ids"), py::arg("n"), py::arg("vocab_size"),
        "Expectation-adjusted distinct-n over token ids (Liu et al. 2022).");
  m.def(
      "sentence_bleu",
      [](const std::vector<std::vector<std::string>>& refs, const std::vector<std::string>& hyp,
         const std::vector<double>& weights, const std::string& smoothing) {
        return sentence_bleu(refs, hyp, weights, smoothing_of(smoothing));
      },
      py::arg("references"), py::arg("hypothesis"), py::arg("weights") = kDefaultBleuWeights,
      py::arg("smoothing") = kSmoothing, "nltk's sentence_bleu on tokenized text.");
  m.def(
      "self_bleu",
      [](const std::vector<std::string>& texts, const std::vector<double>& weights, const std::string& smoothing,
         const std::string& tok) {
        SelfBleuOptions o;
        o.weights = weights;
        o.smoothing = smoothing_of(smoothing);
        o.tokenizer = word_tokenizer_of(tok);
        return self_bleu(texts, o);
      },
      py::arg("texts"), py::arg("weights") = kDefaultBleuWeights,
      py::arg("smoothing") = kSmoothing, py::arg("tokenizer") = kTokenizer,
      "Mean BLEU of each text against the others (lower is more diverse).");
  m.def(
      "self_rouge_l",
      [](const std::vector<std::string>& texts, const std::string& aggregate) {
        return self_rouge_l(texts, parse_pair_aggregate(aggregate, "aggregate"));
      },
      py::arg("texts"), py::arg("aggregate") = kAggregate, "rougeL F between outputs (lower is more diverse).");
  auto rouge_tuple = [](const RougeScore& s) { return py::make_tuple(s.precision, s.recall, s.fmeasure); };
  m.def(
      "rouge1",
      [rouge_tuple](const std::string& target, const std::string& prediction) {
        return rouge_tuple(rouge1(rouge_tokenize(target), rouge_tokenize(prediction)));
      },
      py::arg("target"), py::arg("prediction"), "rouge-score's rouge1 (precision, recall, fmeasure).");
  m.def(
      "rouge_l",
      [rouge_tuple](const std::string& target, const std::string& prediction) {
        return rouge_tuple(rouge_l(rouge_tokenize(target), rouge_tokenize(prediction)));
      },
      py::arg("target"), py::arg("prediction"), "rouge-score's rougeL (precision, recall, fmeasure).");
  m.def("embedding_dissimilarity", &embedding_dissimilarity, py::arg("embeddings"),
        "Mean pairwise 1 - cosine over rows of [n, d].");
  m.def("vendi_score", &vendi_score, py::arg("kernel"), "exp(entropy of eigenvalues of K/n), as vendi_score.score_K.");
  m.def("vendi_score_embeddings", &vendi_score_embeddings, py::arg("embeddings"), "vendi_score.score_X.");
  m.def(
      "vendi_score_ngram",
      [](const std::vector<std::string>& texts, const std::vector<int>& orders, const std::string& kernel,
         const std::string& tok) {
        return vendi_score_ngram(texts, orders, parse_ngram_kernel(kernel, "kernel"), word_tokenizer_of(tok));
      },
      py::arg("texts"), py::arg("orders") = kDefaultNgramOrders, py::arg("kernel") = kKernel,
      py::arg("tokenizer") = kTokenizer, "Vendi score with an n-gram kernel ('cosine' = vendi-score's ngram_vendi_score).");
  m.def("nli_diversity", py::overload_cast<const torch::Tensor&>(&nli_diversity), py::arg("entailment"),
        "Mean over i < j of an [n, n] entailment-probability matrix (lower is more diverse).");
  m.def("semantic_entropy", &semantic_entropy, py::arg("clusters"), py::arg("log_likelihoods") = std::vector<double>{},
        "-Σ p(C) log p(C) over clusters (likelihood-weighted when log_likelihoods are given).");
  m.def("distinct_classes", &distinct_classes, py::arg("partition"));

  // -------------------------------------------------------------------------------------- pareto
  m.def(
      "pareto_front", [](const std::vector<std::pair<double, double>>& p) { return pairs_of(pareto_front(points_of(p))); },
      py::arg("points"), "Pareto-optimal (quality, diversity) points, by quality ascending.");
  m.def(
      "normalize_points",
      [](const std::vector<std::pair<double, double>>& p, std::pair<double, double> base,
         std::pair<double, double> aligned, double bound, bool higher_is_better) {
        auto a = SpaceAnchors::from_models({base.first, base.second}, {aligned.first, aligned.second}, bound,
                                           higher_is_better);
        return pairs_of(normalize_points(points_of(p), a));
      },
      py::arg("points"), py::arg("base"), py::arg("aligned"), py::arg("bound"), py::arg("higher_is_better") = true,
      "Points in the unit square anchored by the base and aligned models at T=1 (BACO Appendix C.2).");
  m.def(
      "coverage", [](const std::vector<std::pair<double, double>>& p) { return coverage(points_of(p)); },
      py::arg("normalized_points"), "Area under a method's Pareto curve (normalized points).");
  m.def(
      "dominance",
      [](const std::vector<std::vector<std::pair<double, double>>>& methods) {
        std::vector<std::vector<QDPoint>> ps;
        for (const auto& p : methods) ps.push_back(points_of(p));
        std::vector<py::tuple> out;
        for (const auto& d : dominance(ps)) out.push_back(py::make_tuple(d.dom_q, d.dom_d, d.dom));
        return out;
      },
      py::arg("normalized_points_per_method"), "(Dom-Q, Dom-D, Dom) of each method on the global frontier.");
}

}  // namespace breadth::python

