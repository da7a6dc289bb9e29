// breadth.Router: saved query routers (pick models for a query), training from a routing table.
#include <fmt/format.h>

#include <optional>

#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"
#include "callbacks.hpp"
#include "convert.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

/// Features from a tensor ([D] for one query, or [N, D]) or a list of them (one per pool model).
Features features_of(const Router& r, const py::object& x) {
  Features f;
  f.kind = r.config().feature_kind;
  auto as_mat = [](torch::Tensor t) {
    t = t.to(torch::kCPU, torch::kFloat32);
    return t.dim() == 1 ? t.unsqueeze(0) : t;
  };
  if (THPVariable_Check(x.ptr())) f.mats = {as_mat(x.cast<torch::Tensor>())};
  else
    for (auto h : x) f.mats.push_back(as_mat(h.cast<torch::Tensor>()));
  return f;
}

Features table_features(const py::object& x) {
  Features f;
  if (THPVariable_Check(x.ptr())) {
    f.kind = FeatureKind::kAgnostic;
    f.mats = {x.cast<torch::Tensor>().to(torch::kCPU, torch::kFloat32)};
  } else {
    f.kind = FeatureKind::kSpecific;
    for (auto h : x) f.mats.push_back(h.cast<torch::Tensor>().to(torch::kCPU, torch::kFloat32));
  }
  return f;
}

py::dict config_dict(const RouterConfig& c) {
  py::dict d;
  d["kind"] = router_kind_name(c.kind);
  d["feature_kind"] = feature_kind_name(c.feature_kind);
  d["pool"] = c.pool;
  d["feature_dims"] = c.feature_dims;
  d["feature_source"] = c.feature_source;
  d["knn_k"] = c.knn_k;
  d["hidden"] = c.hidden;
  d["weight_decay"] = c.weight_decay;
  d["labels"] = label_type_name(c.labels);
  d["seed"] = c.seed;
  d["epochs"] = c.epochs;
  d["val_div_cov"] = c.val_div_cov;
  return d;
}

/// Runs a library step without the GIL, with a progress bar from `progress` fed by `set_progress`.
template <typename F>
auto run_step(const py::object& progress, const std::string& label, ProgressCallback& on_progress, F&& f)
    -> decltype(f()) {
  auto slot = std::make_shared<ErrorSlot>();
  ProgressBar bar(progress, label);
  on_progress = progress_fn(bar.object(), slot);
  return run_without_gil(slot, std::forward<F>(f));
}

/// A step's FEATURES arguments as the library's feature sources (None: the library's).
FeatureSources sources_of(const std::optional<std::string>& features_file, const std::optional<std::string>& encoder,
                          const std::vector<std::string>& models, const std::optional<std::string>& cache,
                          const std::optional<std::string>& device) {
  FeatureSources s;
  if (features_file) s.features_file = *features_file;
  if (encoder) s.encoder = *encoder;
  s.models = models;
  if (cache) s.cache_dir = *cache;
  if (device) s.model_options.device = s.encoder_options.device = parse_device(*device, "device");
  return s;
}

void set_grid(MlpGrid& g, const std::optional<std::vector<int64_t>>& hidden,
              const std::optional<std::vector<double>>& weight_decay, const std::optional<std::string>& labels,
              int64_t max_epochs, int64_t patience, int64_t batch_size) {
  if (hidden) g.hidden = *hidden;
  if (weight_decay) g.weight_decay = *weight_decay;
  if (labels) g.labels = parse_label_types(*labels);
  g.max_epochs = max_epochs;
  g.patience = patience;
  g.batch_size = batch_size;
}

void set_bert(BertRouterOptions& b, int64_t max_epochs, int64_t patience, int64_t batch_size, int64_t max_length,
              double learning_rate, double weight_decay) {
  b.max_epochs = max_epochs;
  b.patience = patience;
  b.batch_size = batch_size;
  b.max_length = max_length;
  b.learning_rate = learning_rate;
  b.weight_decay = weight_decay;
}

/// The router's whole steps from files (breadth/router_pipeline.hpp): build-data, train, report.
void bind_steps(py::module_& m) {
  using OptStr = std::optional<std::string>;
  const RoutingDataOptions kData{};
  const RouterTrainingOptions kTrain{};
  const RoutingReportRunOptions kReport{};
  m.def(
      "build_routing_data",
      [](const std::string& prompts, const std::vector<std::string>& models, const std::string& out, int64_t limit,
         const std::string& strategy, const std::string& question_kind, int64_t budget, int64_t batch,
         int64_t max_generations, int64_t max_new_tokens, uint64_t seed, const OptStr& equivalence,
         const OptStr& quality, const OptStr& device, const OptStr& features_out, const std::string& features,
         const OptStr& encoder, const OptStr& feature_cache, const py::object& progress) {
        RoutingDataOptions o;
        o.prompts = prompts;
        o.models = models;
        o.out = out;
        o.limit = limit;
        auto& a = o.sampler.answers;
        a.strategy = parse_strategy(strategy);
        o.sampler.kind = parse_question_kind(question_kind, "question_kind");
        a.budget = budget;
        a.batch = batch;
        a.max_generations = max_generations;
        a.generation.max_new_tokens = max_new_tokens;
        a.generation.seed = seed;
        if (equivalence) o.equivalence = *equivalence;
        if (quality) o.quality = *quality;
        o.features = sources_of(std::nullopt, encoder, {}, feature_cache, device);
        o.model_options = o.features.model_options;
        if (features_out) o.features_out = *features_out;
        o.feature_kind = parse_feature_kind(features);
        auto r = run_step(progress, "build routing data", o.on_progress, [&] { return build_routing_data(o); });
        py::dict d;
        d["computed"] = r.computed;
        d["queries"] = r.queries;
        d["models"] = r.models;
        return d;
      },
      py::arg("prompts"), py::arg("models"), py::arg("out"), py::kw_only(), py::arg("limit") = kData.limit,
      py::arg("strategy") = strategy_name(kData.sampler.answers.strategy),
      py::arg("question_kind") = question_kind_name(kData.sampler.kind),
      py::arg("budget") = kData.sampler.answers.budget, py::arg("batch") = kData.sampler.answers.batch,
      py::arg("max_generations") = kData.sampler.answers.max_generations,
      py::arg("max_new_tokens") = kData.sampler.answers.generation.max_new_tokens,
      py::arg("seed") = kData.sampler.answers.generation.seed, py::arg("equivalence") = kData.equivalence,
      py::arg("quality") = kData.quality, py::arg("device") = py::none(), py::arg("features_out") = py::none(),
      py::arg("features") = feature_kind_name(kData.feature_kind), py::arg("encoder") = py::none(),
      py::arg("feature_cache") = py::none(), py::arg("progress") = py::none(),
      "The build-data step (`breadth route build-data`): each candidate checkpoint's answer set for each prompt "
      "of the prompts JSONL file, sampled until `budget` and scored with DivCov, appended resumably to the "
      "routing table `out`; with features_out, also the table's query features. Returns {'computed', "
      "'queries', 'models'}.");
  m.def(
      "train_router_from_files",
      [](const std::string& table, const std::string& out, const std::string& kind, const std::string& features,
         const OptStr& features_file, const OptStr& encoder, const std::vector<std::string>& models,
         const OptStr& feature_cache, const OptStr& device, int64_t knn_k, uint64_t seed, uint64_t split_seed,
         const std::optional<std::vector<int64_t>>& hidden, const std::optional<std::vector<double>>& weight_decay,
         const OptStr& labels, int64_t max_epochs, int64_t patience, int64_t batch_size, int64_t bert_max_epochs,
         int64_t bert_patience, int64_t bert_batch_size, int64_t bert_max_length, double bert_learning_rate,
         double bert_weight_decay, const py::object& progress) {
        RouterTrainingOptions o;
        o.table = table;
        o.out = out;
        o.train.kind = parse_router_kind(kind);
        o.feature_kind = parse_feature_kind(features);
        o.features = sources_of(features_file, encoder, models, feature_cache, device);
        o.train.knn_k = knn_k;
        o.train.seed = seed;
        o.split_seed = split_seed;
        set_grid(o.train.grid, hidden, weight_decay, labels, max_epochs, patience, batch_size);
        set_bert(o.bert, bert_max_epochs, bert_patience, bert_batch_size, bert_max_length, bert_learning_rate,
                 bert_weight_decay);
        return run_step(progress, std::string("train ") + kind, o.train.on_progress,
                        [&] { return train_router_from_files(o).router; });
      },
      py::arg("table"), py::arg("out"), py::kw_only(), py::arg("kind") = router_kind_name(kTrain.train.kind),
      py::arg("features") = feature_kind_name(kTrain.feature_kind), py::arg("features_file") = py::none(),
      py::arg("encoder") = py::none(), py::arg("models") = std::vector<std::string>{},
      py::arg("feature_cache") = py::none(), py::arg("device") = py::none(), py::arg("knn_k") = kTrain.train.knn_k,
      py::arg("seed") = kTrain.train.seed, py::arg("split_seed") = kTrain.split_seed, py::arg("hidden") = py::none(),
      py::arg("weight_decay") = py::none(), py::arg("labels") = py::none(),
      py::arg("max_epochs") = kTrain.train.grid.max_epochs, py::arg("patience") = kTrain.train.grid.patience,
      py::arg("batch_size") = kTrain.train.grid.batch_size, py::arg("bert_max_epochs") = kTrain.bert.max_epochs,
      py::arg("bert_patience") = kTrain.bert.patience, py::arg("bert_batch_size") = kTrain.bert.batch_size,
      py::arg("bert_max_length") = kTrain.bert.max_length, py::arg("bert_learning_rate") = kTrain.bert.learning_rate,
      py::arg("bert_weight_decay") = kTrain.bert.weight_decay, py::arg("progress") = py::none(),
      "Router training from files (`breadth route train`): the routing table `table`, features from a features "
      "file, an encoder (agnostic) or the candidate checkpoints (specific), saved to `out`. kind: 'binary_mlp', "
      "'mway_mlp', 'knn' or 'bert' (fine-tunes `encoder`). hidden, weight_decay, labels ('soft,one_hot'): the MLP "
      "grid (None: the library's). Returns the Router.");
  m.def(
      "routing_report",
      [](const std::string& table, const std::string& features, const OptStr& features_file, const OptStr& encoder,
         const std::vector<std::string>& models, const OptStr& feature_cache, const OptStr& device, int64_t seeds,
         uint64_t first_seed, int64_t budget, uint64_t split_seed, const std::optional<std::vector<int64_t>>& hidden,
         const std::optional<std::vector<double>>& weight_decay, const OptStr& labels, int64_t max_epochs,
         int64_t patience, int64_t batch_size, const OptStr& bert_encoder, int64_t bert_max_epochs,
         int64_t bert_patience, int64_t bert_batch_size, int64_t bert_max_length, double bert_learning_rate,
         double bert_weight_decay, const OptStr& json_out, const OptStr& markdown_out, const py::object& progress) {
        RoutingReportRunOptions o;
        o.table = table;
        o.feature_kinds = parse_feature_kinds(features);
        o.features = sources_of(features_file, encoder, models, feature_cache, device);
        o.report.seeds = seeds;
        o.report.first_seed = first_seed;
        o.report.budget = budget;
        o.split_seed = split_seed;
        set_grid(o.report.grid, hidden, weight_decay, labels, max_epochs, patience, batch_size);
        if (bert_encoder) o.bert_encoder = *bert_encoder;
        set_bert(o.bert, bert_max_epochs, bert_patience, bert_batch_size, bert_max_length, bert_learning_rate,
                 bert_weight_decay);
        if (json_out) o.json_out = *json_out;
        if (markdown_out) o.markdown_out = *markdown_out;
        auto text = run_step(progress, "route report", o.report.on_progress,
                             [&] { return run_routing_report(o).to_json(); });
        return py::module_::import("json").attr("loads")(text);
      },
      py::arg("table"), py::kw_only(), py::arg("features") = feature_kind_name(kReport.feature_kinds.front()),
      py::arg("features_file") = py::none(), py::arg("encoder") = py::none(),
      py::arg("models") = std::vector<std::string>{}, py::arg("feature_cache") = py::none(),
      py::arg("device") = py::none(), py::arg("seeds") = kReport.report.seeds,
      py::arg("first_seed") = kReport.report.first_seed, py::arg("budget") = kReport.report.budget,
      py::arg("split_seed") = kReport.split_seed, py::arg("hidden") = py::none(), py::arg("weight_decay") = py::none(),
      py::arg("labels") = py::none(), py::arg("max_epochs") = kReport.report.grid.max_epochs,
      py::arg("patience") = kReport.report.grid.patience, py::arg("batch_size") = kReport.report.grid.batch_size,
      py::arg("bert_encoder") = py::none(), py::arg("bert_max_epochs") = kReport.bert.max_epochs,
      py::arg("bert_patience") = kReport.bert.patience, py::arg("bert_batch_size") = kReport.bert.batch_size,
      py::arg("bert_max_length") = kReport.bert.max_length, py::arg("bert_learning_rate") = kReport.bert.learning_rate,
      py::arg("bert_weight_decay") = kReport.bert.weight_decay, py::arg("json_out") = py::none(),
      py::arg("markdown_out") = py::none(), py::arg("progress") = py::none(),
      "The router paper's Table 3 over the routing table `table` (`breadth route report`): every router and "
      "baseline over `seeds` training seeds, features 'agnostic', 'specific' or 'agnostic,specific', plus the "
      "fine-tuned BERT row with bert_encoder. Returns the report as a dict (the JSON `route report --json` "
      "prints); json_out / markdown_out also write it.");
}

}  // namespace

void bind_router(py::module_& m) {
  bind_steps(m);
  py::class_<RoutingTable>(m, "RoutingTable", "Measured div-cov per (query, model), as [Q, M] float64 tensors.")
      .def_readonly("query_ids", &RoutingTable::query_ids)
      .def_readonly("queries", &RoutingTable::queries)
      .def_readonly("models", &RoutingTable::models)
      .def_readonly("div_cov", &RoutingTable::div_cov)
      .def_readonly("unq", &RoutingTable::unq)
      .def_readonly("qual", &RoutingTable::qual)
      .def_readonly("unq_qual", &RoutingTable::unq_qual)
      .def_property_readonly("num_queries", &RoutingTable::num_queries)
      .def_property_readonly("num_models", &RoutingTable::num_models)
      .def("__repr__", [](const RoutingTable& t) {
        return fmt::format("<breadth.RoutingTable {} queries x {} models>", t.num_queries(), t.num_models());
      });
  m.def(
      "load_routing_table",
      [](const std::string& path, const std::vector<std::string>& pool, bool drop_incomplete) {
        return load_routing_table(path, TableOptions{pool, drop_incomplete});
      },
      py::arg("path"), py::arg("pool") = std::vector<std::string>{}, py::arg("drop_incomplete") = false,
      "Reads a JSONL routing table (query_id, query, model, div_cov, unq, qual, unq_qual[, answers]).");

  py::class_<RouteDecision>(m, "RouteDecision")
      .def_readonly("models", &RouteDecision::models, "Best first.")
      .def_readonly("budgets", &RouteDecision::budgets, "Answers each model should produce.")
      .def_readonly("scores", &RouteDecision::scores)
      .def("__repr__", [](const RouteDecision& d) {
        std::string s;
        for (size_t i = 0; i < d.models.size(); ++i)
          s += fmt::format("{}{}: {} (score {:.3f})", i ? ", " : "", d.models[i], d.budgets[i], d.scores[i]);
        return "RouteDecision(" + s + ")";
      });

  py::class_<Router, std::shared_ptr<Router>>(m, "Router", R"doc(
A query router: ranks a pool of models by the div-cov it expects each to reach on a query.

>>> r = breadth.Router.load("runs/router")
>>> q = encoder.embed(["Name a prime number."])[0]   # agnostic features (the encoder it was trained with)
>>> r.pick(q, k=2, budget=50)
RouteDecision(qwen: 25 (score ...), llama: 25 (score ...))
)doc")
      .def_static(
          "load",
          [](const std::string& dir, const std::vector<std::string>& pool) {
            py::gil_scoped_release nogil;
            return load_router(dir, pool);
          },
          py::arg("dir"), py::arg("pool") = std::vector<std::string>{},
          "Loads a saved router of any kind (a 'bert' router with its fine-tuned encoder); with `pool`, a "
          "router trained for another pool is refused.")
      .def_static(
          "train_bert",
          [](const RoutingTable& table, const std::string& encoder, uint64_t seed, uint64_t split_seed,
             const std::vector<std::string>& labels, int64_t max_epochs, int64_t patience, int64_t batch_size,
             double learning_rate, double weight_decay, int64_t max_length, const py::object& split_rows,
             const py::object& progress) {
            Split split;
            if (split_rows.is_none()) {
              split = split_queries(table.num_queries(), split_seed);
            } else {
              auto parts = split_rows.cast<std::vector<std::vector<int64_t>>>();
              if (parts.size() != 3) throw InvalidArgument("train_bert: split must be (train, val, test) row lists");
              split = {parts[0], parts[1], parts[2]};
            }
            BertRouterOptions o;
            o.encoder = encoder;
            o.seed = seed;
            o.labels.clear();
            for (const auto& l : labels) o.labels.push_back(parse_label_type(l));
            set_bert(o, max_epochs, patience, batch_size, max_length, learning_rate, weight_decay);
            auto slot = std::make_shared<ErrorSlot>();
            ProgressBar bar(progress, "train bert");
            o.on_progress = progress_fn(bar.object(), slot);
            return run_without_gil(slot, [&] { return train_bert_router(table, split, o); });
          },
          py::arg("table"), py::arg("encoder"), py::arg("seed") = BertRouterOptions{}.seed,
          py::arg("split_seed") = 0,
          py::arg("labels") =
              [] {
                std::vector<std::string> v;
                for (auto l : BertRouterOptions{}.labels) v.push_back(label_type_name(l));
                return v;
              }(),
          py::arg("max_epochs") = BertRouterOptions{}.max_epochs, py::arg("patience") = BertRouterOptions{}.patience,
          py::arg("batch_size") = BertRouterOptions{}.batch_size,
          py::arg("learning_rate") = BertRouterOptions{}.learning_rate,
          py::arg("weight_decay") = BertRouterOptions{}.weight_decay,
          py::arg("max_length") = BertRouterOptions{}.max_length, py::arg("split") = py::none(),
          py::arg("progress") = py::none(),
          "The fine-tuned BERT router (router paper §4.2): the BERT/RoBERTa checkpoint `encoder` with a "
          "classification head over the pool, trained with AdamW on the query texts of the 70/10/20 split "
          "of `table` (seeded by split_seed; or `split` = (train, val, test) query indices); train_bert_router in "
          "docs/routing.md.")
      .def_static(
          "train",
          [](const RoutingTable& table, const py::object& features, const std::string& kind, int64_t knn_k,
             uint64_t seed, uint64_t split_seed, const std::vector<int64_t>& hidden, int64_t max_epochs,
             const py::object& progress) {
            Features f = table_features(features);
            auto split = split_queries(table.num_queries(), split_seed);
            TrainOptions o;
            o.kind = parse_router_kind(kind);
            o.knn_k = knn_k;
            o.seed = seed;
            o.grid.hidden = hidden;
            o.grid.max_epochs = max_epochs;
            auto slot = std::make_shared<ErrorSlot>();
            ProgressBar bar(progress, "train");
            o.on_progress = progress_fn(bar.object(), slot);
            return run_without_gil(slot, [&] { return train_router(table, f, split, o); });
          },
          py::arg("table"), py::arg("features"), py::arg("kind") = router_kind_name(TrainOptions{}.kind),
          py::arg("knn_k") = TrainOptions{}.knn_k, py::arg("seed") = TrainOptions{}.seed, py::arg("split_seed") = 0,
          py::arg("hidden") = TrainOptions{}.grid.hidden, py::arg("max_epochs") = TrainOptions{}.grid.max_epochs,
          py::arg("progress") = py::none(),
          "Trains on the 70/10/20 split of `table` (seeded by split_seed). features: [Q, D] tensor (agnostic) or "
          "a list of [Q, D_m] tensors, one per model (specific), rows in table order. kind: 'knn', 'mway_mlp', "
          "'binary_mlp'.")
      .def(
          "save", [](const Router& r, const std::string& dir) { r.save(dir); }, py::arg("dir"),
          "Writes dir/router.json and dir/weights.safetensors.")
      .def_property_readonly("pool", &Router::pool)
      .def_property_readonly("kind", [](const Router& r) { return router_kind_name(r.config().kind); })
      .def_property_readonly("feature_kind", [](const Router& r) { return feature_kind_name(r.config().feature_kind); })
      .def_property_readonly("feature_dims", [](const Router& r) { return r.config().feature_dims; })
      .def_property_readonly("config", [](const Router& r) { return config_dict(r.config()); })
      .def(
          "scores", [](const Router& r, const py::object& features) { return r.scores(features_of(r, features)); },
          py::arg("features"), "[N, M] float64 scores (higher is better) for feature rows.")
      .def(
          "rank", [](const Router& r, const py::object& features) { return r.rank(features_of(r, features)); },
          py::arg("features"), "Pool indices of each row from best to worst.")
      .def(
          "scores_texts",
          [](const Router& r, const std::vector<std::string>& queries) {
            py::gil_scoped_release nogil;
            return r.scores_texts(queries);
          },
          py::arg("queries"), "[N, M] float64 scores of query texts (a 'bert' router).")
      .def(
          "pick_text",
          [](const Router& r, const std::string& query, int64_t k, int64_t budget, const std::vector<double>& ratios) {
            py::gil_scoped_release nogil;
            return route_text(r, query, k, budget, ratios);
          },
          py::arg("query"), py::arg("k") = RouteDefaults::k, py::arg("budget") = RouteDefaults::budget, py::arg("ratios") = std::vector<double>{},
          "The top-k models for a query text (a 'bert' router) and their share of the budget.")
      .def(
          "pick",
          [](const Router& r, const py::object& features, int64_t k, int64_t budget, const std::vector<double>& ratios,
             int64_t row) { return route(r, features_of(r, features), row, k, budget, ratios); },
          py::arg("features"), py::arg("k") = RouteDefaults::k, py::arg("budget") = RouteDefaults::budget, py::arg("ratios") = std::vector<double>{},
          py::arg("row") = 0,
          "The top-k models for one query (row `row` of the features) and their share of the budget.")
      .def("__repr__", [](const Router& r) {
        std::string pool;
        for (const auto& p : r.pool()) pool += (pool.empty() ? "" : ", ") + p;
        return fmt::format("<breadth.Router {} ({} features) pool=[{}]>", router_kind_name(r.config().kind),
                           feature_kind_name(r.config().feature_kind), pool);
      });
  m.def("route_budgets", &route_budgets, py::arg("budget"), py::arg("k"), py::arg("ratios") = std::vector<double>{},
        "Answers per model when a query goes to k models.");
}

}  // namespace breadth::python

