// route_queries: query routing with the C++ API. Embeds queries with a sentence encoder (model-agnostic
// features) and asks a saved router which models should answer each one, and with what share of the
// answer budget. With --train it first trains a router from a routing table (JSONL rows of query,
// model and measured div-cov) and saves it.
//
//   route_queries --router DIR --encoder PATH [--k 2] [--budget 50] QUERY...
//   route_queries --train TABLE.jsonl --router DIR --encoder PATH [--kind knn|mway_mlp|binary_mlp] QUERY...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "breadth/encoder.hpp"
#include "breadth/error.hpp"
#include "breadth/router.hpp"

int main(int argc, char** argv) {
  std::string router_dir, encoder_path, table_path, kind = "knn";
  int64_t k = 1, budget = 50, neighbours = 1;
  std::vector<std::string> queries;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      queries.push_back(a);
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--router") router_dir = v;
    else if (a == "--encoder") encoder_path = v;
    else if (a == "--train") table_path = v;
    else if (a == "--kind") kind = v;
    else if (a == "--k") k = std::atoll(v.c_str());
    else if (a == "--budget") budget = std::atoll(v.c_str());
    else if (a == "--neighbours") neighbours = std::atoll(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (router_dir.empty() || encoder_path.empty()) {
    std::fprintf(stderr, "usage: %s [--train TABLE.jsonl [--kind K] [--neighbours N]] --router DIR --encoder PATH "
                 "[--k K] [--budget B] QUERY...\n", argv[0]);
    return 2;
  }
  try {
    auto encoder = breadth::Encoder::load(encoder_path);
    auto features_of = [&](const std::vector<std::string>& texts) {
      breadth::Features f;
      f.kind = breadth::FeatureKind::kAgnostic;
      f.mats = {encoder->embed(texts)};
      return f;
    };
    if (!table_path.empty()) {
      auto table = breadth::load_routing_table(table_path);
      auto split = breadth::split_queries(table.num_queries(), /*seed=*/0);
      breadth::TrainOptions o;
      o.kind = breadth::parse_router_kind(kind);
      o.knn_k = neighbours;
      auto trained = breadth::train_router(table, features_of(table.queries), split, o);
      trained->save(router_dir);
      std::printf("trained a %s router on %zu of %lld queries (validation div-cov of its picks %.3f), saved to %s\n",
                  kind.c_str(), split.train.size(), static_cast<long long>(table.num_queries()),
                  trained->config().val_div_cov, router_dir.c_str());
    }
    auto router = breadth::Router::load(router_dir);
    if (queries.empty()) return 0;
    auto features = features_of(queries);
    for (size_t q = 0; q < queries.size(); ++q) {
      auto d = breadth::route(*router, features, static_cast<int64_t>(q), k, budget);
      std::printf("%s ->", queries[q].c_str());
      for (size_t i = 0; i < d.models.size(); ++i)
        std::printf("%s %s (%lld answers, score %.3f)", i ? "," : "", d.models[i].c_str(),
                    static_cast<long long>(d.budgets[i]), d.scores[i]);
      std::printf("\n");
    }
    return 0;
  } catch (const breadth::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
