// `breadth route ...`: train, evaluate, report and use query routers (router paper, SPEC §6).
//
// Features come from a precomputed features file (--features-file: see save_features_file in
// breadth/router.hpp) or, for agnostic features of new text, from a text encoder registered with
// text_model_loaders() (--encoder PATH). Model-specific features of new text need the candidate
// models themselves; until that pipeline is wired in, `pick` takes them from a features file.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "breadth/error.hpp"
#include "breadth/router.hpp"
#include "breadth/text_models.hpp"
#include "command.hpp"
#include "core/check.hpp"
#include "core/progress.hpp"

namespace {

using namespace breadth;

struct RouteArgs {
  std::string data, features = "agnostic", features_file, encoder, out, router, prompt, query_id;
  std::string kind = "binary_mlp", labels = "soft,one_hot";
  std::vector<int64_t> hidden = {64, 256};
  std::vector<double> weight_decay = {0.0, 1e-4, 1e-2}, ratios;
  int64_t knn_k = 5, epochs = 200, patience = 20, batch = 64, seeds = 5, budget = 50, top_k = 1;
  uint64_t seed = 0, split_seed = 0;
  bool json = false, all = false;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

MlpGrid grid_of(const RouteArgs& a) {
  MlpGrid g;
  g.hidden = a.hidden;
  g.weight_decay = a.weight_decay;
  g.labels.clear();
  for (const auto& l : split_commas(a.labels)) g.labels.push_back(parse_label_type(l));
  g.max_epochs = a.epochs;
  g.patience = a.patience;
  g.batch_size = a.batch;
  return g;
}

/// Features for every query of `table`: from --features-file, else from --encoder (agnostic).
Features features_for(const RouteArgs& a, FeatureKind kind, const RoutingTable& table) {
  if (!a.features_file.empty()) return load_features_file(a.features_file, kind, table.query_ids, table.models);
  BREADTH_CHECK_ARG(kind == FeatureKind::kAgnostic && !a.encoder.empty(),
                    "give --features-file (precomputed features), or --encoder PATH for agnostic features; "
                    "model-specific features of new queries are not wired into the CLI yet");
  auto& loader = text_model_loaders().embedder;
  if (!loader) fail<Unsupported>("no text encoder implementation is linked into this build; use --features-file");
  auto enc = loader(a.encoder);
  Features f;
  f.kind = kind;
  f.mats = {enc->embed(table.queries).to(torch::kCPU).to(torch::kFloat32)};
  return f;
}

void print_report(const RoutingReport& r, bool json) {
  if (json) fmt::print("{}\n", r.to_json());
  else fmt::print("{}", r.to_markdown());
}

int run_train(const RouteArgs& a) {
  auto table = load_routing_table(a.data);
  auto kind = parse_feature_kind(a.features);
  auto feats = features_for(a, kind, table);
  auto split = split_queries(table.num_queries(), a.split_seed);
  TrainOptions o;
  o.kind = parse_router_kind(a.kind);
  o.knn_k = a.knn_k;
  o.grid = grid_of(a);
  o.seed = a.seed;
  TerminalProgress bar("train " + a.kind);
  o.progress = bar.callback();
  auto router = train_router(table, feats, split, o);
  router->save(a.out);
  const auto& c = router->config();
  fmt::print("{} router ({} features) for {} models saved to {}\n", router_kind_name(c.kind),
             feature_kind_name(c.feature_kind), c.pool.size(), a.out);
  if (c.kind != RouterKind::kKnn)
    fmt::print("selected: labels={} hidden={} weight_decay={} epochs={}\n", label_type_name(c.labels), c.hidden,
               c.weight_decay, c.epochs);
  fmt::print("validation div-cov of top-1 picks: {:.2f}% ({} train / {} val / {} test queries, split seed {})\n",
             100 * c.val_div_cov, split.train.size(), split.val.size(), split.test.size(), a.split_seed);
  return 0;
}

int run_eval(const RouteArgs& a) {
  auto router = Router::load(a.router);
  auto table = load_routing_table(a.data, {router->pool(), false});
  auto feats = features_for(a, router->config().feature_kind, table);
  if (!a.all) {
    // The test split of the same seeded split that `train` used.
    auto split = split_queries(table.num_queries(), a.split_seed);
    table = table.select(split.test);
    feats = feats.select(split.test);
  }
  print_report(evaluate_router(*router, table, feats, a.budget, a.seed), a.json);
  return 0;
}

int run_report(const RouteArgs& a) {
  auto table = load_routing_table(a.data);
  std::vector<std::pair<std::string, Features>> sets;
  for (const auto& k : split_commas(a.features)) {
    auto kind = parse_feature_kind(k);
    sets.emplace_back(kind == FeatureKind::kAgnostic ? "agn" : "spec", features_for(a, kind, table));
  }
  ReportOptions o;
  o.seeds = a.seeds;
  o.first_seed = a.seed;
  o.budget = a.budget;
  o.grid = grid_of(a);
  TerminalProgress bar("route report");
  o.progress = bar.callback();
  print_report(routing_report(table, sets, split_queries(table.num_queries(), a.split_seed), o), a.json);
  return 0;
}

int run_pick(const RouteArgs& a) {
  auto router = Router::load(a.router);
  const auto& c = router->config();
  Features f;
  std::string label;
  if (!a.query_id.empty()) {
    BREADTH_CHECK_ARG(!a.features_file.empty(), "--query-id needs --features-file");
    f = load_features_file(a.features_file, c.feature_kind, {a.query_id}, router->pool());
    label = a.query_id;
  } else {
    BREADTH_CHECK_ARG(!a.prompt.empty(), "give --prompt TEXT (with --encoder) or --query-id ID (with --features-file)");
    BREADTH_CHECK_ARG(c.feature_kind == FeatureKind::kAgnostic,
                      "this router uses model-specific features; computing them for a new prompt needs the "
                      "candidate models, which `pick` does not load yet: use --query-id with --features-file");
    RoutingTable one;
    one.query_ids = {"prompt"};
    one.queries = {a.prompt};
    one.models = router->pool();
    RouteArgs b = a;
    b.features_file.clear();
    f = features_for(b, c.feature_kind, one);
    label = a.prompt;
  }
  auto d = route(*router, f, 0, a.top_k, a.budget, a.ratios);
  if (a.json) {
    nlohmann::json j = {{"query", label}, {"models", d.models}, {"budgets", d.budgets}, {"scores", d.scores}};
    fmt::print("{}\n", j.dump(2));
  } else {
    for (size_t i = 0; i < d.models.size(); ++i)
      fmt::print("{}\t{} answers\tscore {:.4f}\n", d.models[i], d.budgets[i], d.scores[i]);
  }
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<RouteArgs>();
  auto* route = app.add_subcommand("route", "Train, evaluate and use query routers (router paper)");
  route->require_subcommand(1);
  auto grid_opts = [&](CLI::App* s) {
    s->add_option("--hidden", a->hidden, "hidden sizes to search")->delimiter(',');
    s->add_option("--weight-decay", a->weight_decay, "weight decays to search")->delimiter(',');
    s->add_option("--labels", a->labels, "label types to search: soft,one_hot");
    s->add_option("--epochs", a->epochs, "max epochs per grid point");
    s->add_option("--patience", a->patience, "early-stopping patience (epochs)");
    s->add_option("--batch", a->batch, "minibatch size");
    s->add_option("--split-seed", a->split_seed, "seed of the 70/10/20 split");
  };
  auto feat_opts = [&](CLI::App* s) {
    s->add_option("--features-file", a->features_file, "precomputed features (safetensors; see docs/routing.md)");
    s->add_option("--encoder", a->encoder, "text encoder for agnostic features (needs an encoder implementation)");
  };
  auto* train = route->add_subcommand("train", "Train one router on a routing table");
  train->add_option("--data", a->data, "routing table (JSONL)")->required();
  train->add_option("--features", a->features, "agnostic or specific");
  train->add_option("--out", a->out, "output folder")->required();
  train->add_option("--kind", a->kind, "binary_mlp, mway_mlp or knn");
  train->add_option("--k", a->knn_k, "neighbours for knn");
  train->add_option("--seed", a->seed, "training seed");
  feat_opts(train);
  grid_opts(train);
  auto* eval = route->add_subcommand("eval", "Evaluate a saved router beside the baselines");
  eval->add_option("--router", a->router, "router folder")->required();
  eval->add_option("--data", a->data, "routing table (JSONL)")->required();
  eval->add_flag("--all", a->all, "use every query (default: the test split of --split-seed)");
  eval->add_option("--split-seed", a->split_seed, "seed of the 70/10/20 split used for training");
  eval->add_option("--budget", a->budget, "answers per query (two-model picks split it)");
  eval->add_option("--seed", a->seed, "seed of the random and frequency baselines");
  eval->add_flag("--json", a->json, "JSON instead of a Markdown table");
  feat_opts(eval);
  auto* report = route->add_subcommand("report", "The paper's Table 3: all routers and baselines over seeds");
  report->add_option("--data", a->data, "routing table (JSONL)")->required();
  report->add_option("--features", a->features, "agnostic, specific or agnostic,specific");
  report->add_option("--seeds", a->seeds, "training seeds");
  report->add_option("--seed", a->seed, "first seed");
  report->add_option("--budget", a->budget, "answers per query");
  report->add_flag("--json", a->json, "JSON instead of a Markdown table");
  feat_opts(report);
  grid_opts(report);
  auto* pick = route->add_subcommand("pick", "Route one query");
  pick->add_option("--router", a->router, "router folder")->required();
  pick->add_option("--prompt", a->prompt, "query text (agnostic routers, with --encoder)");
  pick->add_option("--query-id", a->query_id, "a query of --features-file");
  pick->add_option("--top-k", a->top_k, "models to route to");
  pick->add_option("--budget", a->budget, "answers to split among them");
  pick->add_option("--ratios", a->ratios, "budget ratios (default even)")->delimiter(',');
  pick->add_flag("--json", a->json, "JSON output");
  feat_opts(pick);
  return [a, train, eval, report, pick] {
    if (train->parsed()) return run_train(*a);
    if (eval->parsed()) return run_eval(*a);
    if (report->parsed()) return run_report(*a);
    return run_pick(*a);
  };
}

}  // namespace
BREADTH_CLI_COMMAND(route, setup)
