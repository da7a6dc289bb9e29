// Collects one answer set (generate-all, open-ended) and prints timings as JSON for run_bench.py.
//
// usage: bench_sample MODEL [--budget 50] [--batch 10] [--max-new-tokens 256] [--seed 0]
//                           [--threads 2] [--prompt TEXT] [--print-prompt]
//                           [--kind open|fixed] [--temperature T] [--top-p P] [--show]
// --show prints every generation to stderr (to see what a model makes of the prompt).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <string>

#include "breadth/answer_set.hpp"
#include "breadth/model.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_sample MODEL [--budget B] [--batch N] [--max-new-tokens T] [--seed S] "
                         "[--threads K] [--prompt TEXT] [--print-prompt]\n");
    return 2;
  }
  std::string path = argv[1];
  std::string text = "Name a Spanish speaking country.";
  int64_t budget = 50, batch = 10, max_new = 256, threads = 2;
  uint64_t seed = 0;
  bool print_prompt = false, show = false, fixed = false;
  double temperature = 1.0, top_p = 1.0;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--budget") budget = std::stoll(next());
    else if (a == "--batch") batch = std::stoll(next());
    else if (a == "--max-new-tokens") max_new = std::stoll(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--threads") threads = std::stoll(next());
    else if (a == "--prompt") text = next();
    else if (a == "--print-prompt") print_prompt = true;
    else if (a == "--show") show = true;
    else if (a == "--kind") fixed = next() == "fixed";
    else if (a == "--temperature") temperature = std::stod(next());
    else if (a == "--top-p") top_p = std::stod(next());
  }
  breadth::Question q;
  q.text = text;
  if (fixed) {
    q.kind = breadth::QuestionKind::kFixed;
    q.item = "answer";
    q.items = "answers";
  }
  if (print_prompt) {
    std::printf("%s", nlohmann::json(breadth::answer_prompt(q, breadth::AnswerStrategy::kAll)).dump().c_str());
    return 0;
  }
  torch::set_num_threads(static_cast<int>(threads));
  auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const breadth::CausalLM> model = breadth::CausalLM::load(path);
  auto t1 = std::chrono::steady_clock::now();
  breadth::AnswerSetOptions opt;
  opt.budget = budget;
  opt.batch = batch;
  opt.generation.max_new_tokens = max_new;
  opt.generation.seed = seed;
  opt.generation.sampling.temperature = temperature;
  opt.generation.sampling.top_p = top_p;
  if (show) {
    // Print each finished generation as it completes (streamed pieces, per row).
    auto texts = std::make_shared<std::map<int64_t, std::string>>();
    opt.generation.on_token = [texts](int64_t row, int32_t, const std::string& piece) {
      (*texts)[row] += piece;
      return true;
    };
    opt.generation.on_progress = [texts](int64_t done, int64_t total, const std::string&) {
      if (done == total) {
        for (auto& [row, t] : *texts) std::fprintf(stderr, "--- %lld\n%s\n", static_cast<long long>(row), t.c_str());
        texts->clear();
      }
      return true;
    };
  }
  auto set = breadth::collect_answers({model}, q, opt);
  auto t2 = std::chrono::steady_clock::now();
  const auto& r = set.models.at(0);
  nlohmann::json j = {{"load_seconds", std::chrono::duration<double>(t1 - t0).count()},
                      {"seconds", std::chrono::duration<double>(t2 - t1).count()},
                      {"answers", static_cast<int64_t>(set.answers.size())},
                      {"generations", r.generations},
                      {"failed_generations", r.failed_generations},
                      {"tokens", r.generated_tokens}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
