// Times DivCov with embedding equivalence on answer sets (JSONL): each set embedded once with a
// sentence-transformers checkpoint (breadth's Encoder), cosine > threshold against the class
// representatives, greedy partition. Prints one JSON object: load and partition times (best over the
// repetitions), the mean number of classes, and every partition (compared with the Python peer).
//
// Usage: bench_embed_eq MODEL_DIR FILE.jsonl THRESHOLD [REPEATS] [THREADS]
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"

using namespace breadth;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: bench_embed_eq MODEL_DIR FILE.jsonl THRESHOLD [REPEATS] [THREADS]\n";
    return 2;
  }
  try {
    const double threshold = std::atof(argv[3]);
    const int repeats = argc > 4 ? std::max(1, std::atoi(argv[4])) : 1;
    if (argc > 5) at::set_num_threads(std::max(1, std::atoi(argv[5])));
    auto records = read_eval_jsonl(argv[2]);
    auto t0 = std::chrono::steady_clock::now();
    auto encoder = Encoder::load(argv[1]);
    const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto eq = embedding_equivalence(make_text_embedder(encoder), threshold);
    double best = 1e300;
    nlohmann::json partitions = nlohmann::json::array();
    double classes = 0;
    for (int r = 0; r < repeats; ++r) {
      partitions = nlohmann::json::array();
      classes = 0;
      auto s = std::chrono::steady_clock::now();
      for (const auto& rec : records) {
        auto p = partition(rec.generations, *eq);
        classes += static_cast<double>(distinct_classes(p));
        partitions.push_back(p);
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count());
    }
    nlohmann::ordered_json out;
    out["queries"] = records.size();
    out["answers"] = records.empty() ? 0 : records[0].generations.size();
    out["threads"] = at::get_num_threads();
    out["seconds"] = {{"load", load}, {"partition", best}};
    out["mean_classes"] = classes / static_cast<double>(std::max<size_t>(records.size(), 1));
    out["partitions"] = partitions;
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_embed_eq: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
