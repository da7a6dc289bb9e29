// Collecting an answer set: sample each model until its share of the budget B is parsed out of its
// generations, or its retry budget is spent.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "breadth/answer_set.hpp"
#include "breadth/model.hpp"
#include "core/check.hpp"

namespace breadth {

std::vector<int64_t> split_budget(int64_t budget, int64_t n_models, const std::vector<double>& ratios) {
  BREADTH_CHECK_ARG(n_models >= 1, "split_budget: at least one model is needed, got {}", n_models);
  BREADTH_CHECK_ARG(budget >= 0, "AnswerSetOptions.budget must be >= 0, got {}", budget);
  std::vector<double> r = ratios;
  if (r.empty()) r.assign(static_cast<size_t>(n_models), 1.0);
  BREADTH_CHECK_ARG(static_cast<int64_t>(r.size()) == n_models,
                    "AnswerSetOptions.ratios must give one ratio per model ({} ratios for {} models)", r.size(),
                    n_models);
  double sum = 0;
  for (double x : r) {
    BREADTH_CHECK_ARG(std::isfinite(x) && x >= 0, "AnswerSetOptions.ratios must be finite and >= 0, got {}", x);
    sum += x;
  }
  BREADTH_CHECK_ARG(sum > 0, "AnswerSetOptions.ratios must not all be 0");
  // Largest remainders: floors first, then one more to the largest fractional parts (lower index wins
  // ties), so the shares always add up to the budget.
  std::vector<int64_t> shares(r.size());
  std::vector<std::pair<double, size_t>> frac;
  int64_t given = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    double exact = static_cast<double>(budget) * r[i] / sum;
    shares[i] = static_cast<int64_t>(std::floor(exact));
    given += shares[i];
    frac.push_back({exact - std::floor(exact), i});
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < budget && k < frac.size(); ++k, ++given) shares[frac[k].second]++;
  return shares;
}

AnswerSet collect_answers(const std::vector<std::shared_ptr<const CausalLM>>& models, const Question& question,
                          const AnswerSetOptions& options) {
  BREADTH_CHECK_ARG(!models.empty(), "collect_answers: no models given");
  for (size_t m = 0; m < models.size(); ++m)
    BREADTH_CHECK_ARG(models[m] != nullptr, "collect_answers: model {} is null", m);
  BREADTH_CHECK_ARG(options.budget >= 1, "AnswerSetOptions.budget must be >= 1, got {}", options.budget);
  BREADTH_CHECK_ARG(options.batch >= 1, "AnswerSetOptions.batch must be >= 1, got {}", options.batch);
  BREADTH_CHECK_ARG(options.max_generations >= 0, "AnswerSetOptions.max_generations must be >= 0, got {}",
                    options.max_generations);
  const std::string prompt = answer_prompt(question, options.strategy);
  const auto shares = split_budget(options.budget, static_cast<int64_t>(models.size()), options.ratios);
  const int64_t per_generation = std::max<int64_t>(1, answers_requested(options.strategy));

  AnswerSet out;
  out.complete = true;
  for (size_t m = 0; m < models.size(); ++m) {
    ModelAnswers report;
    report.target = shares[m];
    const int64_t max_gens =
        options.max_generations > 0
            ? options.max_generations
            : std::max(2 * options.batch, 4 * ((report.target + per_generation - 1) / per_generation));
    GenerateOptions gen = options.generation;
    while (report.collected < report.target && report.generations < max_gens) {
      gen.num_samples = std::min(options.batch, max_gens - report.generations);
      // Each round continues the same seeded stream with new sample indices.
      gen.first_sample_index = options.generation.first_sample_index + report.generations;
      auto res = generate(*models[m], {prompt}, gen);
      report.generated_tokens += res.generated_tokens;
      for (const auto& s : res.samples) {
        const int64_t g = report.generations++;
        auto parsed = parse_answers(s.text, question.kind);
        ++report.parsed_by[static_cast<size_t>(parsed.parser)];
        if (!parsed.ok()) {
          ++report.failed_generations;
          if (report.failures.size() < 20) report.failures.push_back(parsed.failure);
          continue;
        }
        for (auto& a : parsed.answers) {
          if (report.collected >= report.target) break;
          out.answers.push_back({std::move(a), static_cast<int64_t>(m), g});
          ++report.collected;
        }
      }
    }
    if (report.collected < report.target) out.complete = false;
    out.models.push_back(std::move(report));
  }
  return out;
}

}  // namespace breadth
