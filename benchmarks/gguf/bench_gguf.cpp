// Times opening a GGUF file and dequantizing its tensors to float32, per ggml type (best of N).
// usage: bench_gguf FILE.gguf [--repeats N] [--threads T]   -> one JSON object on stdout
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "io/dequant.hpp"
#include "io/gguf.hpp"

using namespace breadth::io;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_gguf FILE.gguf [--repeats N] [--threads T]\n");
    return 2;
  }
  const std::string path = argv[1];
  int repeats = 5, threads = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--repeats") repeats = std::atoi(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
  }
  double open_best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    GgufFile g(path);
    open_best = std::min(open_best, since(t0));
  }
  GgufFile g(path);
  std::map<std::string, std::vector<const GgufTensorInfo*>> by_type;
  for (const auto& t : g.tensors()) by_type[ggml_type_name(t.type)].push_back(&t);
  nlohmann::json types = nlohmann::json::object();
  int64_t largest = 0;
  for (const auto& t : g.tensors()) largest = std::max(largest, t.numel());
  std::vector<float> out(static_cast<size_t>(largest), 0.f);  // allocated and touched once
  for (const auto& [name, ts] : by_type) {
    int64_t numel = 0;
    for (auto* t : ts) numel += t->numel();
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
      auto t0 = Clock::now();
      for (auto* t : ts) {
        dequantize(t->type, t->data, out.data(), t->numel(), threads);
      }
      best = std::min(best, since(t0));
    }
    types[name] = {{"numel", numel}, {"tensors", ts.size()}, {"seconds", best}};
  }
  nlohmann::json j = {{"open_seconds", open_best}, {"threads", threads}, {"types", types}};
  std::cout << j.dump() << "\n";
  return 0;
}
