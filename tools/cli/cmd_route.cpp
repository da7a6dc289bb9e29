// `breadth route ...`: train, evaluate, report and use query routers (router paper, SPEC §6).
//
// Option parsing and printing only: the logic is the library's. `build-data` samples each candidate
// model's answer set for each prompt (collect-until-B) and scores it with DivCov, resumably
// (build_routing_data in breadth/router_pipeline.hpp). Features come from a precomputed features
// file (--features-file: see save_features_file in breadth/router.hpp), from a sentence encoder
// (--encoder PATH, agnostic), or from the candidate models themselves (--model PATH per pool model,
// specific: last-layer hidden state at the query's last token): FeatureSources / table_features in
// breadth/router_pipeline.hpp. Computed features are cached on disk (--feature-cache, default
// FeatureCache::default_dir()). A pool model's name is its checkpoint's base name (pool_model_name).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>

#include "breadth/divcov.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"
#include "breadth/spec.hpp"
#include "cli_options.hpp"
#include "command.hpp"
#include "breadth/progress.hpp"

namespace {

using breadth::cli::split_commas;

using namespace breadth;

struct RouteArgs {
  std::string data, features = "agnostic", features_file, encoder, out, router, prompt, query_id;
  std::string kind = "binary_mlp", labels = "soft,one_hot";
  // build-data and model-specific features
  std::vector<std::string> models;
  std::string prompts, strategy = "all", equivalence = "noveltybench-shortcut", quality = "const:1";
  std::string question_kind = question_kind_name(Question{}.kind), features_out, feature_cache, device = "cpu";
  int64_t limit = 0, gen_batch = 10, max_new_tokens = 512, max_generations = 0;
  std::vector<int64_t> hidden = {64, 256};
  std::vector<double> weight_decay = {0.0, 1e-4, 1e-2}, ratios;
  int64_t knn_k = 5, epochs = 200, patience = 20, batch = 64, seeds = 5, budget = 50, top_k = 1;
  uint64_t seed = 0, split_seed = 0;
  bool json = false, all = false;
  // The fine-tuned BERT router (--kind bert; report: --bert-encoder): the library's defaults.
  std::string bert_encoder;
  BertRouterOptions bert;
};

/// --kind bert's options: the encoder, the seed, the label types and the --bert-* values.
BertRouterOptions bert_options(const RouteArgs& a, const std::string& encoder) {
  BertRouterOptions o = a.bert;
  o.encoder = encoder;
  o.device = parse_device(a.device, "--device");
  o.seed = a.seed;
  o.labels.clear();
  for (const auto& l : split_commas(a.labels)) o.labels.push_back(parse_label_type(l));
  return o;
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

ModelOptions model_options(const RouteArgs& a) {
  ModelOptions o;
  o.device = parse_device(a.device, "--device");
  return o;
}

/// The FEATURES options as the library's feature sources, with a terminal bar per computed stage.
FeatureSources feature_sources(const RouteArgs& a) {
  FeatureSources s;
  s.features_file = a.features_file;
  s.encoder = a.encoder;
  s.models = a.models;
  s.model_options = model_options(a);
  s.encoder_options.device = s.model_options.device;
  s.cache_dir = a.feature_cache;
  s.stage_progress = [](const std::string& stage) -> ProgressCallback {
    auto bar = std::make_shared<TerminalProgress>(stage);
    return [bar](int64_t done, int64_t total, const std::string&) {
      bar->update(done, total);
      return true;
    };
  };
  return s;
}

int run_build_data(const RouteArgs& a) {
  breadth::cli::require(!a.models.empty(), "build-data needs at least one --model PATH");
  auto queries = load_prompts(a.prompts, a.limit);
  auto pool = make_model_pool(a.models);

  ModelSamplerOptions so;
  so.answers.strategy = parse_strategy(a.strategy);
  so.answers.budget = a.budget;
  so.answers.batch = a.gen_batch;
  so.answers.max_generations = a.max_generations;
  so.answers.generation.max_new_tokens = a.max_new_tokens;
  so.answers.generation.seed = a.seed;
  so.kind = parse_question_kind(a.question_kind, "--question-kind");
  auto sampler = model_answer_sampler(pool_loader(pool, model_options(a)), so);
  SpecOptions judges;
  judges.device = parse_device(a.device, "--device");
  auto scorer = divcov_scorer(make_equivalence(a.equivalence, judges), make_quality(a.quality, judges), a.budget);

  BuildDataOptions bo;
  TerminalProgress bar("route build-data");
  bo.on_progress = bar.callback();
  int64_t computed = build_routing_data(queries, pool.names, sampler, scorer, a.out, bo);
  fmt::print("{} cells computed ({} queries x {} models in {})\n", computed, queries.size(), pool.names.size(),
             a.out);

  if (!a.features_out.empty()) {
    TableOptions to;
    to.pool = pool.names;
    auto table = load_routing_table(a.out, to);
    auto kind = parse_feature_kind(a.features);
    auto f = table_features(feature_sources(a), kind, table);
    save_features_file(a.features_out, f, table.query_ids, table.models);
    fmt::print("{} features of {} queries saved to {}\n", feature_kind_name(kind), table.num_queries(),
               a.features_out);
  }
  return 0;
}

void print_report(const RoutingReport& r, bool json) {
  if (json) fmt::print("{}\n", r.to_json());
  else fmt::print("{}", r.to_markdown());
}

int run_train_bert(const RouteArgs& a) {
  breadth::cli::require(!a.encoder.empty(), "--kind bert needs --encoder PATH (the BERT-family checkpoint to fine-tune)");
  auto table = load_routing_table(a.data);
  auto split = split_queries(table.num_queries(), a.split_seed);
  auto o = bert_options(a, a.encoder);
  TerminalProgress bar("train bert");
  o.on_progress = bar.callback();
  auto router = train_bert_router(table, split, o);
  router->save(a.out);
  const auto& c = router->config();
  fmt::print("bert router (fine-tuned {}) for {} models saved to {}\n", a.encoder, c.pool.size(), a.out);
  fmt::print("selected: labels={} epochs={}\n", label_type_name(c.labels), c.epochs);
  fmt::print("validation div-cov of top-1 picks: {:.2f}% ({} train / {} val / {} test queries, split seed {})\n",
             100 * c.val_div_cov, split.train.size(), split.val.size(), split.test.size(), a.split_seed);
  return 0;
}

int run_train(const RouteArgs& a) {
  if (parse_router_kind(a.kind) == RouterKind::kBert) return run_train_bert(a);
  auto table = load_routing_table(a.data);
  auto kind = parse_feature_kind(a.features);
  auto feats = table_features(feature_sources(a), kind, table);
  auto split = split_queries(table.num_queries(), a.split_seed);
  TrainOptions o;
  o.kind = parse_router_kind(a.kind);
  o.knn_k = a.knn_k;
  o.grid = grid_of(a);
  o.seed = a.seed;
  TerminalProgress bar("train " + a.kind);
  o.on_progress = bar.callback();
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
  auto router = load_router(a.router, {}, parse_device(a.device, "--device"));
  auto table = load_routing_table(a.data, {router->pool(), false});
  // A text router (bert) reads the table's query texts.
  Features feats;
  if (!router->reads_texts()) feats = table_features(feature_sources(a), router->config().feature_kind, table);
  if (!a.all) {
    // The test split of the same seeded split that `train` used.
    auto split = split_queries(table.num_queries(), a.split_seed);
    table = table.select(split.test);
    if (!router->reads_texts()) feats = feats.select(split.test);
  }
  print_report(evaluate_router(*router, table, feats, a.budget, a.seed), a.json);
  return 0;
}

int run_report(const RouteArgs& a) {
  auto table = load_routing_table(a.data);
  std::vector<std::pair<std::string, Features>> sets;
  for (const auto& k : split_commas(a.features)) {
    auto kind = parse_feature_kind(k);
    sets.emplace_back(kind == FeatureKind::kAgnostic ? "agn" : "spec", table_features(feature_sources(a), kind, table));
  }
  ReportOptions o;
  o.seeds = a.seeds;
  o.first_seed = a.seed;
  o.budget = a.budget;
  o.grid = grid_of(a);
  if (!a.bert_encoder.empty()) o.text_routers.push_back(bert_report_router(bert_options(a, a.bert_encoder)));
  TerminalProgress bar("route report");
  o.on_progress = bar.callback();
  print_report(routing_report(table, sets, split_queries(table.num_queries(), a.split_seed), o), a.json);
  return 0;
}

int run_pick(const RouteArgs& a) {
  auto router = load_router(a.router, {}, parse_device(a.device, "--device"));
  const auto& c = router->config();
  Features f;
  std::string label;
  RouteDecision d;
  if (router->reads_texts()) {
    breadth::cli::require(!a.prompt.empty(), "a bert router routes query texts: give --prompt TEXT");
    label = a.prompt;
    d = route_text(*router, a.prompt, a.top_k, a.budget, a.ratios);
  } else if (!a.query_id.empty()) {
    breadth::cli::require(!a.features_file.empty(), "--query-id needs --features-file");
    f = load_features_file(a.features_file, c.feature_kind, {a.query_id}, router->pool());
    label = a.query_id;
  } else {
    breadth::cli::require(!a.prompt.empty(),
                      "give --prompt TEXT (with --encoder, or --model per pool model for a model-specific router) "
                      "or --query-id ID (with --features-file)");
    auto sources = feature_sources(a);
    sources.features_file.clear();  // the prompt is in no features file: compute its features
    f = query_features(sources, c.feature_kind, {"prompt"}, {a.prompt}, router->pool());
    label = a.prompt;
  }
  if (!router->reads_texts()) d = route(*router, f, 0, a.top_k, a.budget, a.ratios);
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
  auto bert_opts = [&](CLI::App* s) {
    s->add_option("--bert-epochs", a->bert.max_epochs, "bert: max epochs per label type");
    s->add_option("--bert-patience", a->bert.patience, "bert: early-stopping patience (epochs)");
    s->add_option("--bert-batch", a->bert.batch_size, "bert: minibatch size");
    s->add_option("--bert-lr", a->bert.learning_rate, "bert: AdamW learning rate");
    s->add_option("--bert-weight-decay", a->bert.weight_decay, "bert: AdamW weight decay");
    s->add_option("--max-length", a->bert.max_length, "bert: longest tokenized query");
  };
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
    s->add_option("--model", a->models, "a pool model's checkpoint, for specific features (repeat per model)");
    s->add_option("--feature-cache", a->feature_cache,
                  "cache folder for computed features (default $BREADTH_CACHE/route-features)");
    s->add_option("--device", a->device, "device for --model checkpoints and --encoder (cpu, cuda, cuda:1)");
  };
  auto* build = route->add_subcommand("build-data", "Sample and score each model's answer sets (resumable)");
  build->add_option("--prompts", a->prompts, "prompts JSONL ({\"id\", \"prompt\"} per line)")->required();
  build->add_option("--limit", a->limit, "first N prompts only");
  build->add_option("--out", a->out, "routing table to write or complete (JSONL)")->required();
  build->add_option("--budget", a->budget, "answers per (query, model) (B)");
  build->add_option("--strategy", a->strategy, "answer-set prompt: one, two or all");
  build->add_option("--question-kind", a->question_kind, "open (free-form answers) or fixed ({a, b} lists)");
  build->add_option("--equivalence", a->equivalence,
                    "exact | rouge1[:T] | noveltybench-shortcut | embedding:PATH[:T] | classifier:PATH[:T]");
  build->add_option("--quality", a->quality, "const:VALUE | reward:PATH");
  build->add_option("--batch", a->gen_batch, "generations per model and round");
  build->add_option("--max-generations", a->max_generations, "retry budget per cell (0: automatic)");
  build->add_option("--max-new-tokens", a->max_new_tokens, "tokens per generation");
  build->add_option("--seed", a->seed, "sampling seed");
  build->add_option("--features-out", a->features_out, "also write a features file (safetensors)");
  build->add_option("--features", a->features, "agnostic (with --encoder) or specific (from the models)");
  build->add_option("--encoder", a->encoder, "text encoder for agnostic features");
  build->add_option("--model", a->models, "a candidate model's checkpoint (repeat; order = pool order)")->required();
  build->add_option("--feature-cache", a->feature_cache, "cache folder for computed features");
  build->add_option("--device", a->device, "device for the models (cpu, cuda, cuda:1)");
  auto* train = route->add_subcommand("train", "Train one router on a routing table");
  train->add_option("--data", a->data, "routing table (JSONL)")->required();
  train->add_option("--features", a->features, "agnostic or specific");
  train->add_option("--out", a->out, "output folder")->required();
  train->add_option("--kind", a->kind, "binary_mlp, mway_mlp, knn or bert (fine-tunes --encoder on the query texts)");
  bert_opts(train);
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
  report->add_option("--bert-encoder", a->bert_encoder,
                     "also fine-tune a BERT router from this checkpoint per seed (Table 3's BERT row)");
  bert_opts(report);
  feat_opts(report);
  grid_opts(report);
  auto* pick = route->add_subcommand("pick", "Route one query");
  pick->add_option("--router", a->router, "router folder")->required();
  pick->add_option("--prompt", a->prompt, "query text (with --encoder, or --model per pool model)");
  pick->add_option("--query-id", a->query_id, "a query of --features-file");
  pick->add_option("--top-k", a->top_k, "models to route to");
  pick->add_option("--budget", a->budget, "answers to split among them");
  pick->add_option("--ratios", a->ratios, "budget ratios (default even)")->delimiter(',');
  pick->add_flag("--json", a->json, "JSON output");
  feat_opts(pick);
  return [a, build, train, eval, report, pick] {
    if (build->parsed()) return run_build_data(*a);
    if (train->parsed()) return run_train(*a);
    if (eval->parsed()) return run_eval(*a);
    if (report->parsed()) return run_report(*a);
    return run_pick(*a);
  };
}

}  // namespace
breadth::cli::Runner breadth::cli::add_route(CLI::App& app) { return setup(app); }
