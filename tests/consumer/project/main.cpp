// Loads a model through the installed C++ API, samples from it, and scores the samples' diversity.
#include <cstdio>

#include "breadth/metrics.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "breadth/version.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto model = breadth::CausalLM::load(argv[1]);
  breadth::GenerateOptions o;
  o.num_samples = 3;
  o.max_new_tokens = 8;
  auto r = breadth::generate(*model, {"Name a color, please!"}, o);
  std::vector<std::string> texts;
  for (const auto& s : r.samples) texts.push_back(s.text);
  std::printf("breadth %s: %zu samples, distinct-1 %.3f\n", breadth::version(), r.samples.size(),
              breadth::distinct_n(texts, 1));
  return r.samples.size() == 3 ? 0 : 1;
}
