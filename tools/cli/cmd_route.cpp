// `breadth route ...`: train, evaluate, report and use query routers (router paper, SPEC §6).
//
// Option parsing and printing only: the logic and the defaults are the library's. build-data, train
// and report fill the library's step options (RoutingDataOptions, RouterTrainingOptions,
// RoutingReportRunOptions in breadth/router_pipeline.hpp) straight from the flags and call
// build_routing_data / train_router_from_files / run_routing_report, as C and Python do. Features come from a precomputed features
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
#include "cli_options.hpp"
#include "command.hpp"
#include "breadth/progress.hpp"

namespace {

using namespace breadth;

struct RouteArgs {
  // build-data, train and report: the library's step options, filled by the flags.
  RoutingDataOptions build;
  RouterTrainingOptions train;
  RoutingReportRunOptions report;
  // eval and pick
  std::string data, features = "agnostic", features_file, encoder, router, prompt, query_id;
  std::vector<std::string> models;
  std::string feature_cache, device = "cpu";
  std::vector<double> ratios;
  int64_t budget = RouteDefaults::budget, top_k = RouteDefaults::k;
  uint64_t seed = RouteDefaults::seed, split_seed = 0;
  bool json = false, all = false;
};

/// A terminal bar per computed feature stage.
void terminal_stages(FeatureSources& s) {
  s.stage_progress = [](const std::string& stage) -> ProgressCallback {
    auto bar = std::make_shared<TerminalProgress>(stage);
    return [bar](int64_t done, int64_t total, const std::string&) {
      bar->update(done, total);
      return true;
    };
  };
}

ModelOptions model_options(const RouteArgs& a) {
  ModelOptions o;
  o.device = parse_device(a.device, "--device");
  return o;
}

/// eval's and pick's FEATURES options as the library's feature sources.
FeatureSources feature_sources(const RouteArgs& a) {
  FeatureSources s;
  s.features_file = a.features_file;
  s.encoder = a.encoder;
  s.models = a.models;
  s.model_options = model_options(a);
  s.encoder_options.device = s.model_options.device;
  s.cache_dir = a.feature_cache;
  terminal_stages(s);
  return s;
}

int run_build_data(RouteArgs& a) {
  auto& o = a.build;
  terminal_stages(o.features);
  TerminalProgress bar("route build-data");
  o.on_progress = bar.callback();
  auto r = build_routing_data(o);
  fmt::print("{} cells computed ({} queries x {} models in {})\n", r.computed, r.queries, r.models.size(), o.out);
  if (!o.features_out.empty())
    fmt::print("{} features of {} queries saved to {}\n", feature_kind_name(o.feature_kind), r.queries,
               o.features_out);
  return 0;
}

void print_report(const RoutingReport& r, bool json) {
  if (json) fmt::print("{}\n", r.to_json());
  else fmt::print("{}", r.to_markdown());
}

int run_train(RouteArgs& a) {
  auto& o = a.train;
  terminal_stages(o.features);
  const bool bert = o.train.kind == RouterKind::kBert;
  TerminalProgress bar(std::string("train ") + router_kind_name(o.train.kind));
  o.train.on_progress = bar.callback();
  auto t = train_router_from_files(o);
  const auto& c = t.router->config();
  if (bert)
    fmt::print("bert router (fine-tuned {}) for {} models saved to {}\n",
               o.bert.encoder.empty() ? o.features.encoder : o.bert.encoder, c.pool.size(), o.out);
  else
    fmt::print("{} router ({} features) for {} models saved to {}\n", router_kind_name(c.kind),
               feature_kind_name(c.feature_kind), c.pool.size(), o.out);
  if (bert)
    fmt::print("selected: labels={} epochs={}\n", label_type_name(c.labels), c.epochs);
  else if (c.kind != RouterKind::kKnn)
    fmt::print("selected: labels={} hidden={} weight_decay={} epochs={}\n", label_type_name(c.labels), c.hidden,
               c.weight_decay, c.epochs);
  fmt::print("validation div-cov of top-1 picks: {:.2f}% ({} train / {} val / {} test queries, split seed {})\n",
             100 * c.val_div_cov, t.split.train.size(), t.split.val.size(), t.split.test.size(), o.split_seed);
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

int run_report(RouteArgs& a) {
  auto& o = a.report;
  terminal_stages(o.features);
  TerminalProgress bar("route report");
  o.report.on_progress = bar.callback();
  print_report(run_routing_report(o), a.json);
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
  auto bert_opts = [](CLI::App* s, BertRouterOptions& b) {
    s->add_option("--bert-epochs", b.max_epochs, "bert: max epochs per label type");
    s->add_option("--bert-patience", b.patience, "bert: early-stopping patience (epochs)");
    s->add_option("--bert-batch", b.batch_size, "bert: minibatch size");
    s->add_option("--bert-lr", b.learning_rate, "bert: AdamW learning rate");
    s->add_option("--bert-weight-decay", b.weight_decay, "bert: AdamW weight decay");
    s->add_option("--max-length", b.max_length, "bert: longest tokenized query");
  };
  auto grid_opts = [](CLI::App* s, MlpGrid& g, uint64_t& split_seed) {
    s->add_option("--hidden", g.hidden, "hidden sizes to search")->delimiter(',');
    s->add_option("--weight-decay", g.weight_decay, "weight decays to search")->delimiter(',');
    s->add_option_function<std::string>(
        "--labels", [&g](const std::string& v) { g.labels = parse_label_types(v); }, "label types to search: soft,one_hot");
    s->add_option("--epochs", g.max_epochs, "max epochs per grid point");
    s->add_option("--patience", g.patience, "early-stopping patience (epochs)");
    s->add_option("--batch", g.batch_size, "minibatch size");
    s->add_option("--split-seed", split_seed, "seed of the 70/10/20 split");
  };
  // The FEATURES options of a step, into its FeatureSources.
  auto step_feat_opts = [](CLI::App* s, FeatureSources& f) {
    s->add_option("--features-file", f.features_file, "precomputed features (safetensors; see docs/routing.md)");
    s->add_option("--encoder", f.encoder, "text encoder for agnostic features (bert: the checkpoint to fine-tune)");
    s->add_option("--model", f.models, "a pool model's checkpoint, for specific features (repeat per model)");
    s->add_option("--feature-cache", f.cache_dir,
                  "cache folder for computed features (default $BREADTH_CACHE/route-features)");
    s->add_option_function<std::string>(
        "--device",
        [&f](const std::string& v) {
          f.model_options.device = f.encoder_options.device = parse_device(v, "--device");
        },
        "device for the models and encoders (cpu, cuda, cuda:1)");
  };
  auto feat_opts = [&](CLI::App* s) {
    s->add_option("--features-file", a->features_file, "precomputed features (safetensors; see docs/routing.md)");
    s->add_option("--encoder", a->encoder, "text encoder for agnostic features (needs an encoder implementation)");
    s->add_option("--model", a->models, "a pool model's checkpoint, for specific features (repeat per model)");
    s->add_option("--feature-cache", a->feature_cache,
                  "cache folder for computed features (default $BREADTH_CACHE/route-features)");
    s->add_option("--device", a->device, "device for --model checkpoints and --encoder (cpu, cuda, cuda:1)");
  };

  auto& b = a->build;
  auto* build = route->add_subcommand("build-data", "Sample and score each model's answer sets (resumable)");
  build->add_option("--prompts", b.prompts, "prompts JSONL ({\"id\", \"prompt\"} per line)")->required();
  build->add_option("--limit", b.limit, "first N prompts only");
  build->add_option("--out", b.out, "routing table to write or complete (JSONL)")->required();
  build->add_option("--budget", b.sampler.answers.budget, "answers per (query, model) (B)");
  build->add_option_function<std::string>(
      "--strategy", [&b](const std::string& v) { b.sampler.answers.strategy = parse_strategy(v); },
      "answer-set prompt: one, two or all");
  build->add_option_function<std::string>(
      "--question-kind", [&b](const std::string& v) { b.sampler.kind = parse_question_kind(v, "--question-kind"); },
      "open (free-form answers) or fixed ({a, b} lists)");
  build->add_option("--equivalence", b.equivalence,
                    "exact | rouge1[:T] | noveltybench-shortcut | embedding:PATH[:T] | classifier:PATH[:T]");
  build->add_option("--quality", b.quality, "const:VALUE | reward:PATH");
  build->add_option("--batch", b.sampler.answers.batch, "generations per model and round");
  build->add_option("--max-generations", b.sampler.answers.max_generations, "retry budget per cell (0: automatic)");
  build->add_option("--max-new-tokens", b.sampler.answers.generation.max_new_tokens, "tokens per generation");
  build->add_option("--seed", b.sampler.answers.generation.seed, "sampling seed");
  build->add_option("--features-out", b.features_out, "also write a features file (safetensors)");
  build->add_option_function<std::string>(
      "--features", [&b](const std::string& v) { b.feature_kind = parse_feature_kind(v); },
      "agnostic (with --encoder) or specific (from the models)");
  build->add_option("--encoder", b.features.encoder, "text encoder for agnostic features");
  build->add_option("--model", b.models, "a candidate model's checkpoint (repeat; order = pool order)")->required();
  build->add_option("--feature-cache", b.features.cache_dir, "cache folder for computed features");
  build->add_option_function<std::string>(
      "--device",
      [&b](const std::string& v) {
        auto d = parse_device(v, "--device");
        b.model_options.device = b.features.model_options.device = b.features.encoder_options.device = d;
      },
      "device for the models (cpu, cuda, cuda:1)");

  auto& t = a->train;
  auto* train = route->add_subcommand("train", "Train one router on a routing table");
  train->add_option("--data", t.table, "routing table (JSONL)")->required();
  train->add_option_function<std::string>(
      "--features", [&t](const std::string& v) { t.feature_kind = parse_feature_kind(v); }, "agnostic or specific");
  train->add_option("--out", t.out, "output folder")->required();
  train->add_option_function<std::string>(
      "--kind", [&t](const std::string& v) { t.train.kind = parse_router_kind(v); },
      "binary_mlp, mway_mlp, knn or bert (fine-tunes --encoder on the query texts)");
  bert_opts(train, t.bert);
  train->add_option("--k", t.train.knn_k, "neighbours for knn");
  train->add_option("--seed", t.train.seed, "training seed");
  step_feat_opts(train, t.features);
  grid_opts(train, t.train.grid, t.split_seed);

  auto* eval = route->add_subcommand("eval", "Evaluate a saved router beside the baselines");
  eval->add_option("--router", a->router, "router folder")->required();
  eval->add_option("--data", a->data, "routing table (JSONL)")->required();
  eval->add_flag("--all", a->all, "use every query (default: the test split of --split-seed)");
  eval->add_option("--split-seed", a->split_seed, "seed of the 70/10/20 split used for training");
  eval->add_option("--budget", a->budget, "answers per query (two-model picks split it)");
  eval->add_option("--seed", a->seed, "seed of the random and frequency baselines");
  eval->add_flag("--json", a->json, "JSON instead of a Markdown table");
  feat_opts(eval);
  auto& r = a->report;
  auto* report = route->add_subcommand("report", "The paper's Table 3: all routers and baselines over seeds");
  report->add_option("--data", r.table, "routing table (JSONL)")->required();
  report->add_option_function<std::string>(
      "--features", [&r](const std::string& v) { r.feature_kinds = parse_feature_kinds(v); },
      "agnostic, specific or agnostic,specific");
  report->add_option("--seeds", r.report.seeds, "training seeds");
  report->add_option("--seed", r.report.first_seed, "first seed");
  report->add_option("--budget", r.report.budget, "answers per query");
  report->add_flag("--json", a->json, "JSON instead of a Markdown table");
  report->add_option("--json-out", r.json_out, "also write the JSON report to this file");
  report->add_option("--markdown-out", r.markdown_out, "also write the Markdown report to this file");
  report->add_option("--bert-encoder", r.bert_encoder,
                     "also fine-tune a BERT router from this checkpoint per seed (Table 3's BERT row)");
  bert_opts(report, r.bert);
  step_feat_opts(report, r.features);
  grid_opts(report, r.report.grid, r.split_seed);
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
