// Times train_router on a routing table + precomputed features; prints one JSON line per run.
//   bench_route TABLE.jsonl FEATURES.safetensors KIND EPOCHS GRID(single|full) REPEATS
// EPOCHS > 0: exactly that many epochs (no early stop, as the PyTorch peer); 0: the library defaults
// (at most 200 epochs, early stopping with patience 20).
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include "breadth/router.hpp"

using namespace breadth;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: bench_route TABLE FEATURES KIND EPOCHS single|full REPEATS\n");
    return 2;
  }
  auto table = load_routing_table(argv[1]);
  auto feats = load_features_file(argv[2], FeatureKind::kAgnostic, table.query_ids, table.models);
  auto split = split_queries(table.num_queries(), 0);
  TrainOptions o;
  o.kind = parse_router_kind(argv[3]);
  if (std::stoll(argv[4]) > 0) {
    o.grid.max_epochs = std::stoll(argv[4]);
    o.grid.patience = o.grid.max_epochs;  // no early stop: both sides run every epoch
  }
  if (std::string(argv[5]) == "single") {
    o.grid.hidden = {256};
    o.grid.weight_decay = {0.0};
    o.grid.labels = {o.kind == RouterKind::kMwayMlp ? LabelType::kSoft : LabelType::kOneHot};
  }
  const int repeats = std::stoi(argv[6]);
  for (int r = 0; r < repeats; ++r) {
    o.seed = static_cast<uint64_t>(r);
    auto t0 = std::chrono::steady_clock::now();
    auto router = train_router(table, feats, split, o);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto test = table.select(split.test);
    auto ranks = router->rank(feats.select(split.test));
    double cov = 0;
    for (size_t q = 0; q < ranks.size(); ++q) cov += test.div_cov[static_cast<int64_t>(q)][ranks[q][0]].item<double>();
    cov /= static_cast<double>(ranks.size());
    nlohmann::json j = {{"seconds", s}, {"test_cov", cov}, {"val_cov", router->config().val_div_cov},
                        {"threads", torch::get_num_threads()}, {"epochs", router->config().epochs}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}
