// C API: DivCov of an answer set (by an equivalence name, or from a known partition).
#include "breadth/spec.hpp"
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

using namespace breadth::capi;

namespace {
breadth_divcov* wrap(breadth::DivCovResult&& r) {
  auto out = std::make_unique<breadth_divcov>();
  out->partition.assign(r.partition.begin(), r.partition.end());
  out->result = std::move(r);
  return out.release();
}
}  // namespace

extern "C" {

breadth_status breadth_divcov_evaluate(const char* prompt, const char* const* answers, size_t num_answers,
                                       const breadth_divcov_options* options, breadth_divcov** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_divcov_evaluate: out must not be NULL");
    *out = nullptr;
    auto texts = strings_of(answers, num_answers, "answers");
    const breadth_divcov_options o = read_options(options, "options");
    auto equivalence = breadth::make_equivalence(o.equivalence ? o.equivalence : "exact");
    std::shared_ptr<breadth::QualityScorer> quality;
    if (o.scores) {
      std::vector<double> scores(o.scores, o.scores + num_answers);
      quality = breadth::function_quality(
          [scores](const std::string&, const std::vector<std::string>&) { return scores; }, o.max_score);
    } else if (o.gold) {
      quality = breadth::gold_quality(strings_of(o.gold, o.num_gold, "options->gold"));
    } else {
      quality = breadth::constant_quality(1.0);
    }
    breadth::DivCovOptions d;
    d.budget = o.budget;
    d.patience = o.patience;
    *out = wrap(breadth::evaluate_divcov(prompt ? prompt : "", texts, *equivalence, *quality, d));
  })
}

breadth_status breadth_divcov_from_partition(const int32_t* partition, const double* quality, size_t count,
                                             double max_unique_sum, double patience, breadth_divcov** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_divcov_from_partition: out must not be NULL");
    *out = nullptr;
    BREADTH_C_REQUIRE((partition && quality) || count == 0,
                      "breadth_divcov_from_partition: partition and quality must not be NULL");
    std::vector<int> p(partition, partition + count);
    std::vector<double> q(quality, quality + count);
    *out = wrap(breadth::divcov_from(std::move(p), std::move(q), max_unique_sum, patience));
  })
}

breadth_status breadth_divcov_get(const breadth_divcov* divcov, breadth_divcov_figures* out) {
  BREADTH_C_TRY({
    check_view(out, "breadth_divcov_get");
    BREADTH_C_REQUIRE(divcov, "breadth_divcov_get: divcov is NULL");
    const auto& r = divcov->result;
    breadth_divcov_figures v{};
    v.num_unique = r.num_unique;
    v.qual = r.qual;
    v.unq_qual = r.unq_qual;
    v.div_cov = r.div_cov;
    v.utility = r.utility;
    v.distinct = r.num_unique;
    v.count = divcov->partition.size();
    v.partition = divcov->partition.data();
    v.quality = r.quality.data();
    write_view(out, v);
  })
}

void breadth_divcov_free(breadth_divcov* divcov) { delete divcov; }

}  // extern "C"
