// The router's whole steps from files to files (build-data, train, report): the one place the CLI,
// the C API and Python share, so that their defaults and their composition live once.
#include <fmt/format.h>

#include "breadth/router_pipeline.hpp"
#include "breadth/spec.hpp"
#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth {

namespace {

std::vector<std::string> comma_list(const std::string& list, const char* what) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(pos, end - pos);
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? std::string() : item.substr(b, e - b + 1);
    BREADTH_CHECK_ARG(!item.empty(), "{} '{}': an empty item (give a comma-separated list)", what, list);
    out.push_back(item);
    pos = end + 1;
  }
  return out;
}

/// The BERT router's options as a step uses them: its seed, label types, device and progress are the
/// step's (one source of truth for what the faces call --seed, --labels, --device).
BertRouterOptions bert_step_options(BertRouterOptions o, std::string encoder, uint64_t seed,
                                    const std::vector<LabelType>& labels, torch::Device device,
                                    ProgressCallback progress) {
  o.encoder = std::move(encoder);
  o.seed = seed;
  o.labels = labels;
  o.device = device;
  if (progress) o.on_progress = std::move(progress);
  return o;
}

}  // namespace

std::vector<FeatureKind> parse_feature_kinds(const std::string& list) {
  std::vector<FeatureKind> out;
  for (const auto& k : comma_list(list, "feature kinds")) out.push_back(parse_feature_kind(k));
  return out;
}

std::vector<LabelType> parse_label_types(const std::string& list) {
  std::vector<LabelType> out;
  for (const auto& l : comma_list(list, "label types")) out.push_back(parse_label_type(l));
  return out;
}

RoutingDataResult build_routing_data(const RoutingDataOptions& o) {
  BREADTH_CHECK_ARG(!o.models.empty(), "build_routing_data: give at least one candidate model checkpoint");
  BREADTH_CHECK_ARG(!o.prompts.empty(), "build_routing_data: give a prompts file");
  BREADTH_CHECK_ARG(!o.out.empty(), "build_routing_data: give the routing table to write (out)");
  auto queries = load_prompts(o.prompts, o.limit);
  auto pool = make_model_pool(o.models);
  auto sampler = model_answer_sampler(pool_loader(pool, o.model_options), o.sampler);
  SpecOptions judges;
  judges.device = o.model_options.device;
  const int64_t budget = o.sampler.answers.budget;
  auto scorer = divcov_scorer(make_equivalence(o.equivalence, judges), make_quality(o.quality, judges), budget);
  BuildDataOptions bo;
  bo.on_progress = o.on_progress;
  RoutingDataResult r;
  r.computed = build_routing_data(queries, pool.names, sampler, scorer, o.out, bo);
  r.queries = static_cast<int64_t>(queries.size());
  r.models = pool.names;
  if (!o.features_out.empty()) {
    FeatureSources sources = o.features;
    if (sources.models.empty()) sources.models = o.models;
    TableOptions to;
    to.pool = pool.names;
    auto table = load_routing_table(o.out, to);
    auto f = table_features(sources, o.feature_kind, table);
    save_features_file(o.features_out, f, table.query_ids, table.models);
  }
  return r;
}

TrainedRouter train_router_from_files(const RouterTrainingOptions& o) {
  BREADTH_CHECK_ARG(!o.table.empty() && !o.out.empty(), "train_router_from_files: give the table and the out folder");
  auto table = load_routing_table(o.table);
  TrainedRouter t;
  t.split = split_queries(table.num_queries(), o.split_seed);
  if (o.train.kind == RouterKind::kBert) {
    const std::string encoder = o.bert.encoder.empty() ? o.features.encoder : o.bert.encoder;
    BREADTH_CHECK_ARG(!encoder.empty(),
                      "a bert router needs an encoder: the BERT-family checkpoint to fine-tune (--encoder PATH)");
    auto b = bert_step_options(o.bert, encoder, o.train.seed, o.train.grid.labels,
                               o.features.encoder_options.device, o.train.on_progress);
    t.router = train_bert_router(table, t.split, b);
  } else {
    auto feats = table_features(o.features, o.feature_kind, table);
    t.router = train_router(table, feats, t.split, o.train);
  }
  t.router->save(o.out);
  return t;
}

RoutingReport run_routing_report(const RoutingReportRunOptions& o) {
  BREADTH_CHECK_ARG(!o.feature_kinds.empty(), "run_routing_report: give at least one feature kind");
  auto table = load_routing_table(o.table);
  std::vector<std::pair<std::string, Features>> sets;
  for (auto kind : o.feature_kinds)
    sets.emplace_back(kind == FeatureKind::kAgnostic ? "agn" : "spec", table_features(o.features, kind, table));
  ReportOptions ro = o.report;
  if (!o.bert_encoder.empty())
    ro.text_routers.push_back(bert_report_router(bert_step_options(
        o.bert, o.bert_encoder, ro.first_seed, ro.grid.labels, o.features.encoder_options.device, {})));
  auto report = routing_report(table, sets, split_queries(table.num_queries(), o.split_seed), ro);
  if (!o.json_out.empty()) files::write_file(o.json_out, report.to_json() + "\n");
  if (!o.markdown_out.empty()) files::write_file(o.markdown_out, report.to_markdown());
  return report;
}

}  // namespace breadth
