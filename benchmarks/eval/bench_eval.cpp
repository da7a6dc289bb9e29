// Times breadth's lexical evaluation pipeline on answer sets (JSONL): ROUGE-1 partition + div-cov,
// Distinct-1..4, Self-BLEU, Self-ROUGE-L and n-gram Vendi. Prints one JSON object: per stage the
// best time over the repetitions, and the mean of each figure (compared with the Python peer).
//
// Usage: bench_eval FILE.jsonl [REPEATS]
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <iostream>

#include "breadth/divcov.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"

using namespace breadth;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_eval FILE.jsonl [REPEATS]\n";
    return 2;
  }
  try {
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    auto records = read_eval_jsonl(argv[1]);
    auto eq = rouge1_equivalence(0.458);
    auto quality = constant_quality(1.0);
    nlohmann::ordered_json out, times, values;
    auto stage = [&](const std::string& name, const std::function<double(const EvalRecord&)>& fn) {
      double best = 1e300, sum = 0;
      for (int r = 0; r < repeats; ++r) {
        sum = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (const auto& rec : records) sum += fn(rec);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      times[name] = best;
      values[name] = sum / static_cast<double>(records.size());
    };
    stage("divcov_rouge1", [&](const EvalRecord& r) { return evaluate_divcov(r.prompt, r.generations, *eq, *quality).div_cov; });
    for (int n = 1; n <= 4; ++n)
      stage("distinct_" + std::to_string(n), [&](const EvalRecord& r) { return distinct_n(r.generations, n); });
    stage("self_bleu", [&](const EvalRecord& r) { return self_bleu(r.generations); });
    stage("self_rouge_l", [&](const EvalRecord& r) { return self_rouge_l(r.generations); });
    stage("vendi_ngram", [&](const EvalRecord& r) { return vendi_score_ngram(r.generations); });
    double total = 0;
    for (const auto& [k, v] : times.items()) total += v.get<double>();
    times["total"] = total;
    out["queries"] = records.size();
    out["answers"] = records.empty() ? 0 : records[0].generations.size();
    out["seconds"] = times;
    out["values"] = values;
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_eval: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
