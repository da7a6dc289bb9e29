// BACO decoding time per sample beside aligned-only decoding of the same prompts, samples, lengths
// and batch, in one process. EOS is ignored on every side so all samples run the same length.
//
// usage: bench_baco MODEL [--base MODEL] --prompts FILE.jsonl [--num-prompts K] [--n N]
//                   [--new T] [--repeats R] [--threads H] [--rules p:0.3,p-punc:0.3]
// Prints one JSON object per configuration (best of R repeats, after one warm-up).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "breadth/baco.hpp"
#include "breadth/model.hpp"

using namespace breadth;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, c);)
    if (!x.empty()) out.push_back(x);
  return out;
}

template <typename F>
double best_of(int repeats, F&& f) {
  f();  // warm-up
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, base_path, prompts_path, rules = "p:0.3,p-punc:0.3";
  int64_t K = 2, n = 10, T = 48;
  int repeats = 2, threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--base") base_path = next();
    else if (a == "--prompts") prompts_path = next();
    else if (a == "--num-prompts") K = std::stoll(next());
    else if (a == "--n") n = std::stoll(next());
    else if (a == "--new") T = std::stoll(next());
    else if (a == "--repeats") repeats = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--rules") rules = next();
    else if (model_path.empty()) model_path = a;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  if (model_path.empty() || prompts_path.empty()) {
    std::cerr << "usage: bench_baco MODEL [--base MODEL] --prompts FILE.jsonl [--num-prompts K] [--n N] "
                 "[--new T] [--repeats R] [--threads H] [--rules p:0.3,p-punc:0.3]\n";
    return 2;
  }
  torch::set_num_threads(threads);
  std::vector<std::string> prompts;
  std::ifstream in(prompts_path);
  for (std::string line; static_cast<int64_t>(prompts.size()) < K && std::getline(in, line);)
    prompts.push_back(nlohmann::json::parse(line).at("prompt").get<std::string>());

  auto aligned = CausalLM::load(model_path);
  auto base = base_path.empty() ? aligned : CausalLM::load(base_path);
  BacoDecoder dec(base, aligned);

  auto report = [&](const std::string& config, double secs, const nlohmann::json& extra) {
    nlohmann::json j = {{"impl", "breadth"}, {"config", config}, {"prompts", prompts.size()},
                        {"n", n}, {"new", T}, {"threads", threads},
                        {"s_per_sample", secs / static_cast<double>(prompts.size() * static_cast<size_t>(n))}};
    j.update(extra);
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  };

  GenerateOptions g;
  g.sampling.top_p = 0.9;
  g.num_samples = n;
  g.max_new_tokens = T;
  g.seed = 1;
  g.stop_at_eos = false;
  g.apply_chat_template = true;
  int64_t generated = 0;
  double t = best_of(repeats, [&] { generated = generate(*aligned, prompts, g).generated_tokens; });
  report("aligned-only", t, {{"tokens", generated}});

  for (const auto& spec : split(rules, ',')) {
    for (bool lazy : {true, false}) {
      BacoOptions o;
      o.num_samples = n;
      o.max_new_tokens = T;
      o.seed = 1;
      o.ignore_eos = true;
      o.lazy = lazy;
      BacoResult res;
      double s = best_of(repeats, [&] { res = dec.generate(prompts, spec, o); });
      report(std::string("baco ") + spec + (lazy ? " lazy" : " eager"), s,
             {{"tokens", res.summary.tokens}, {"base_share", res.summary.base_share},
              {"base_forwards", res.base_forwards}, {"aligned_forwards", res.aligned_forwards},
              {"base_tokens_fed", res.base_tokens_fed}, {"aligned_tokens_fed", res.aligned_tokens_fed},
              {"steps", res.steps}});
    }
  }
  return 0;
}
