// sample_answer_set: the router paper's answer-set collection with the C++ API. Asks one or more models
// for answers to a question until B answers are collected (generate-one/-two/-all prompts), then
// scores the set with DivCov (exact-match classes, every answer of quality 1: div-cov = #unique / B).
//
//   sample_answer_set MODEL [MODEL...] [--question TEXT] [--kind open|fixed] [--strategy one|two|all]
//                     [--budget 20] [--max-tokens 256] [--seed 0]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "breadth/answer_set.hpp"
#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> paths;
  breadth::Question q;
  q.text = "Name a day of the week.";
  q.kind = breadth::QuestionKind::kFixed;
  q.item = "day";
  q.items = "days";
  breadth::AnswerSetOptions o;
  o.budget = 20;
  o.generation.max_new_tokens = 256;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      paths.push_back(k);
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", k.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (k == "--question") q.text = v;
    else if (k == "--kind") q.kind = v == "open" ? breadth::QuestionKind::kOpen : breadth::QuestionKind::kFixed;
    else if (k == "--strategy") o.strategy = breadth::parse_strategy(v);
    else if (k == "--budget") o.budget = std::atoll(v.c_str());
    else if (k == "--max-tokens") o.generation.max_new_tokens = std::atoll(v.c_str());
    else if (k == "--seed") o.generation.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--max-generations") o.max_generations = std::atoll(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: %s MODEL [MODEL...] [--question TEXT] [--kind open|fixed] [--strategy one|two|all] "
                 "[--budget B] [--max-tokens N] [--seed S] [--max-generations G]\n", argv[0]);
    return 2;
  }
  try {
    std::vector<std::shared_ptr<const breadth::CausalLM>> models;
    for (const auto& p : paths) models.push_back(breadth::CausalLM::load(p));
    std::printf("prompt (%s):\n%s\n", breadth::strategy_name(o.strategy),
                breadth::answer_prompt(q, o.strategy).c_str());
    auto set = breadth::collect_answers(models, q, o);
    for (size_t m = 0; m < set.models.size(); ++m) {
      const auto& r = set.models[m];
      std::printf("model %zu (%s): %lld/%lld answers from %lld generations (%lld unparsable)\n", m, paths[m].c_str(),
                  static_cast<long long>(r.collected), static_cast<long long>(r.target),
                  static_cast<long long>(r.generations), static_cast<long long>(r.failed_generations));
    }
    std::vector<std::string> texts;
    for (const auto& a : set.answers) texts.push_back(a.text);
    breadth::DivCovOptions d;
    d.budget = o.budget;
    auto fig = breadth::evaluate_divcov(q.text, texts, *breadth::exact_match_equivalence(),
                                        *breadth::constant_quality(1.0), d);
    for (size_t i = 0; i < set.answers.size(); ++i)
      std::printf("%3zu [model %lld, class %d] %s\n", i, static_cast<long long>(set.answers[i].model),
                  fig.partition[i], set.answers[i].text.c_str());
    std::printf("answers %zu of B = %lld (%s), unique %lld, div-cov %.3f\n", set.answers.size(),
                static_cast<long long>(o.budget), set.complete ? "complete" : "retry budget spent",
                static_cast<long long>(fig.num_unique), fig.div_cov);
    return 0;
  } catch (const breadth::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
