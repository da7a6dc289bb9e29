// Encoding throughput of one tokenizer over a text file, one encode() per line (single thread).
//
// usage: bench_tokenize TOKENIZER_PATH TEXT_FILE [REPEATS] [LINES_PER_CALL]
// LINES_PER_CALL > 1 joins that many lines (with "\n") into one encode() call.
// prints: {"mb_per_s": ..., "tokens": ..., "bytes": ..., "seconds": ..., "load_seconds": ...}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "breadth/tokenizer.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_PATH TEXT_FILE [REPEATS]\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const int per_call = argc > 4 ? std::max(1, std::atoi(argv[4])) : 1;
  std::ifstream f(argv[2], std::ios::binary);
  std::vector<std::string> lines;
  size_t bytes = 0, k = 0;
  for (std::string l; std::getline(f, l); ++k) {
    if (k % per_call == 0) lines.emplace_back();
    else lines.back() += '\n';
    lines.back() += l;
  }
  for (const auto& l : lines) bytes += l.size();
  using clk = std::chrono::steady_clock;
  const auto t0 = clk::now();
  const auto tok = breadth::Tokenizer::load(argv[1]);
  const double load_s = std::chrono::duration<double>(clk::now() - t0).count();
  size_t tokens = 0;
  for (const auto& l : lines) tokens += tok->encode(l).size();  // warm-up (fills the word cache, as HF's)
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto s = clk::now();
    size_t n = 0;
    for (const auto& l : lines) n += tok->encode(l).size();
    best = std::min(best, std::chrono::duration<double>(clk::now() - s).count());
    tokens = n;
  }
  std::printf("{\"mb_per_s\": %.3f, \"tokens\": %zu, \"bytes\": %zu, \"seconds\": %.4f, \"load_seconds\": %.3f}\n",
              bytes / 1e6 / best, tokens, bytes, best, load_s);
  return 0;
}
