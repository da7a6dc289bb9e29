// baco_generate: BACO decoding with the C++ API. A base and an aligned model write n samples of one
// prompt together; the program prints each sample with the base model's tokens in [brackets], then
// how much of the text each model wrote and where they switched.
//
//   baco_generate BASE ALIGNED [--prompt TEXT] [--rule p-punc:0.3] [--n 4] [--max-tokens 64] [--seed 0]
//
// BASE and ALIGNED are Hugging Face checkpoint directories or .gguf files (the same file twice works:
// then the only difference is the chat template the aligned side gets).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "breadth/baco.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BASE ALIGNED [--prompt TEXT] [--rule SPEC] [--n N] [--max-tokens N] [--seed S]\n",
                 argv[0]);
    return 2;
  }
  std::string prompt = "Write one sentence about the sea.", rule = "p-punc:0.3";
  breadth::BacoOptions options;  // BACO's defaults: T = 1, top-p = 0.9 for both models
  options.num_samples = 4;
  options.max_new_tokens = 64;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--prompt") prompt = v;
    else if (k == "--rule") rule = v;
    else if (k == "--n") options.num_samples = std::atoll(v.c_str());
    else if (k == "--max-tokens") options.max_new_tokens = std::atoll(v.c_str());
    else if (k == "--seed") options.seed = std::strtoull(v.c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    auto base = breadth::CausalLM::load(argv[1]);
    auto aligned = std::string(argv[2]) == argv[1] ? base : breadth::CausalLM::load(argv[2]);
    breadth::BacoDecoder decoder(base, aligned);
    auto result = decoder.generate({prompt}, rule, options);

    for (const auto& s : result.samples) {
      std::printf("--- sample %lld (%s): %lld tokens, %lld from base, %lld switches\n",
                  static_cast<long long>(s.sample_index), breadth::finish_reason_name(s.finish),
                  static_cast<long long>(s.length()), static_cast<long long>(s.base_tokens()),
                  static_cast<long long>(s.switches()));
      for (const auto& t : s.tokens) {
        if (t.source == breadth::TokenSource::kBase) std::printf("[%s]", t.text.c_str());
        else std::printf("%s", t.text.c_str());
      }
      std::printf("\n");
    }
    const auto& m = result.summary;
    std::printf("--- %s: base share %.3f (%lld of %lld tokens), %lld switches, mean length %.1f\n",
                result.rule.c_str(), m.base_share, static_cast<long long>(m.base_tokens),
                static_cast<long long>(m.tokens), static_cast<long long>(m.switches), m.mean_length);
    std::printf("base share by position:");
    for (size_t i = 0; i < m.base_share_by_position.size() && i < 16; ++i)
      std::printf(" %.2f", m.base_share_by_position[i]);
    std::printf("\n");
    return 0;
  } catch (const breadth::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
