// Router kinds, ranking, routing decisions, and save/load (router.json + weights.safetensors).
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "core/check.hpp"
#include "io/safetensors.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

const char* router_kind_name(RouterKind k) {
  switch (k) {
    case RouterKind::kKnn: return "knn";
    case RouterKind::kMwayMlp: return "mway_mlp";
    case RouterKind::kBinaryMlp: return "binary_mlp";
    case RouterKind::kBert: return "bert";
  }
  return "?";
}

RouterKind parse_router_kind(const std::string& s) {
  if (s == "knn") return RouterKind::kKnn;
  if (s == "mway_mlp" || s == "mway") return RouterKind::kMwayMlp;
  if (s == "binary_mlp" || s == "binary") return RouterKind::kBinaryMlp;
  if (s == "bert") return RouterKind::kBert;
  fail("unknown router kind '{}'; use knn, mway_mlp, binary_mlp or bert", s);
}

const char* label_type_name(LabelType t) { return t == LabelType::kSoft ? "soft" : "one_hot"; }

LabelType parse_label_type(const std::string& s) {
  if (s == "soft") return LabelType::kSoft;
  if (s == "one_hot" || s == "onehot" || s == "one-hot") return LabelType::kOneHot;
  fail("unknown label type '{}'; use soft or one_hot", s);
}

std::vector<std::vector<int64_t>> Router::rank(const Features& features) const {
  auto s = scores(features);
  if (!torch::isfinite(s).all().item<bool>())
    fail<NumericError>("router produced non-finite scores (corrupt weights or features?)");
  return rank_rows(s);
}

torch::Tensor Router::scores_texts(const std::vector<std::string>&) const {
  fail("a {} router scores query features, not texts; compute the features first (query_features in "
       "breadth/router_pipeline.hpp) and call scores()",
       router_kind_name(config_.kind));
}

std::vector<std::vector<int64_t>> Router::rank_texts(const std::vector<std::string>& queries) const {
  auto s = scores_texts(queries);
  if (!torch::isfinite(s).all().item<bool>())
    fail<NumericError>("router produced non-finite scores (corrupt weights?)");
  return rank_rows(s);
}

namespace {

RouteDecision decide(const Router& router, const torch::Tensor& s, int64_t k, int64_t budget,
                     const std::vector<double>& ratios) {
  auto order = rank_rows(s)[0];
  RouteDecision d;
  d.budgets = route_budgets(budget, k, ratios);
  for (int64_t i = 0; i < k; ++i) {
    d.models.push_back(router.pool()[order[i]]);
    d.scores.push_back(s[0][order[i]].item<double>());
  }
  return d;
}

}  // namespace

RouteDecision route_text(const Router& router, const std::string& query, int64_t k, int64_t budget,
                         const std::vector<double>& ratios) {
  const int64_t M = static_cast<int64_t>(router.pool().size());
  BREADTH_CHECK_ARG(k >= 1 && k <= M, "route_text: k = {} must be in 1..{} (pool size)", k, M);
  return decide(router, router.scores_texts({query}), k, budget, ratios);
}

RouteDecision route(const Router& router, const Features& features, int64_t row, int64_t k, int64_t budget,
                    const std::vector<double>& ratios) {
  const int64_t M = static_cast<int64_t>(router.pool().size());
  BREADTH_CHECK_ARG(k >= 1 && k <= M, "route: k = {} must be in 1..{} (pool size)", k, M);
  BREADTH_CHECK_ARG(row >= 0 && !features.mats.empty() && row < features.rows(),
                    "route: row {} outside the {} feature rows", row, features.mats.empty() ? 0 : features.rows());
  Features one = features.select({row});
  return decide(router, router.scores(one), k, budget, ratios);
}

void Router::save(const std::string& dir) const {
  files::make_dirs(dir);
  const auto& c = config_;
  nlohmann::json j = {{"format", "breadth-router"},
                      {"version", 1},
                      {"kind", router_kind_name(c.kind)},
                      {"feature_kind", feature_kind_name(c.feature_kind)},
                      {"pool", c.pool},
                      {"feature_dims", c.feature_dims},
                      {"feature_source", c.feature_source},
                      {"knn_k", c.knn_k},
                      {"hidden", c.hidden},
                      {"weight_decay", c.weight_decay},
                      {"labels", label_type_name(c.labels)},
                      {"seed", c.seed},
                      {"epochs", c.epochs},
                      {"max_length", c.max_length},
                      {"val_div_cov", c.val_div_cov},
                      {"train_mean_div_cov", c.train_mean_div_cov},
                      {"train_wins", c.train_wins}};
  {
    std::ofstream out(files::join(dir, "router.json"));
    if (!out) fail<IoError>("cannot write '{}/router.json'", dir);
    out << j.dump(2) << "\n";
  }
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorToWrite> w;
  for (auto& [name, t] : state()) {
    auto x = t.detach().to(torch::kCPU).contiguous();
    bool f64 = x.scalar_type() == torch::kFloat64;
    if (!f64) x = x.to(torch::kFloat32);
    keep.push_back(x);
    w.push_back({name, f64 ? io::DType::F64 : io::DType::F32,
                 std::vector<int64_t>(x.sizes().begin(), x.sizes().end()), x.data_ptr(),
                 static_cast<uint64_t>(x.numel() * x.element_size())});
  }
  io::write_safetensors(files::join(dir, "weights.safetensors"), w, {{"format", "breadth-router"}});
  save_extra(dir);
}

namespace {

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  BREADTH_CHECK_FORMAT(it != j.end(), "{}: missing \"{}\"", path, key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail<FormatError>("{}: \"{}\" has the wrong type", path, key);
  }
}

torch::Tensor load_tensor(const io::SafetensorsFile& f, const std::string& name) {
  const auto& v = f.at(name);
  torch::ScalarType st;
  if (v.dtype == io::DType::F32) st = torch::kFloat32;
  else if (v.dtype == io::DType::F64) st = torch::kFloat64;
  else fail<FormatError>("{}: tensor '{}' must be F32 or F64", f.path(), name);
  return torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, st).clone();
}

}  // namespace

RouterConfig read_router_config(const std::string& dir, const std::vector<std::string>& expected_pool) {
  const std::string cpath = files::join(dir, "router.json");
  std::ifstream in(cpath);
  if (!in) fail<IoError>("cannot open '{}'; is '{}' a folder written by Router::save?", cpath, dir);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", cpath, e.what());
  }
  BREADTH_CHECK_FORMAT(j.is_object() && j.value("format", "") == "breadth-router",
                       "{}: not a breadth router config", cpath);
  BREADTH_CHECK_FORMAT(j.value("version", 0) == 1, "{}: unsupported router format version", cpath);
  RouterConfig c;
  try {
    c.kind = parse_router_kind(get_field<std::string>(j, "kind", cpath));
    c.feature_kind = parse_feature_kind(get_field<std::string>(j, "feature_kind", cpath));
    c.labels = parse_label_type(get_field<std::string>(j, "labels", cpath));
  } catch (const InvalidArgument& e) {
    fail<FormatError>("{}: {}", cpath, e.what());
  }
  c.pool = get_field<std::vector<std::string>>(j, "pool", cpath);
  c.feature_dims = get_field<std::vector<int64_t>>(j, "feature_dims", cpath);
  c.feature_source = j.value("feature_source", "");
  c.knn_k = get_field<int64_t>(j, "knn_k", cpath);
  c.hidden = get_field<int64_t>(j, "hidden", cpath);
  c.weight_decay = get_field<double>(j, "weight_decay", cpath);
  c.seed = get_field<uint64_t>(j, "seed", cpath);
  c.epochs = get_field<int64_t>(j, "epochs", cpath);
  c.val_div_cov = get_field<double>(j, "val_div_cov", cpath);
  c.max_length = j.value("max_length", int64_t{0});
  c.train_mean_div_cov = get_field<std::vector<double>>(j, "train_mean_div_cov", cpath);
  c.train_wins = get_field<std::vector<int64_t>>(j, "train_wins", cpath);
  const size_t M = c.pool.size();
  BREADTH_CHECK_FORMAT(M > 0 && c.train_mean_div_cov.size() == M && c.train_wins.size() == M,
                       "{}: pool, train_mean_div_cov and train_wins must have the same non-zero length", cpath);
  BREADTH_CHECK_FORMAT(c.feature_kind == FeatureKind::kAgnostic ? c.feature_dims.size() == 1
                                                                : c.feature_dims.size() == M,
                       "{}: feature_dims has {} entries for {} features and a pool of {}", cpath,
                       c.feature_dims.size(), feature_kind_name(c.feature_kind), M);
  for (auto d : c.feature_dims) BREADTH_CHECK_FORMAT(d > 0, "{}: feature_dims must be positive", cpath);
  if (!expected_pool.empty() && expected_pool != c.pool)
    fail("router in '{}' was trained for the pool [{}], but the pool given is [{}]; a router only "
         "serves the pool (names and order) it was trained on",
         dir, join_names(c.pool), join_names(expected_pool));
  return c;
}

std::shared_ptr<Router> Router::load(const std::string& dir, const std::vector<std::string>& expected_pool) {
  RouterConfig c = read_router_config(dir, expected_pool);
  if (c.kind == RouterKind::kBert)
    fail("'{}' holds a fine-tuned BERT router, which needs its encoder: load it with load_router "
         "(breadth/router_pipeline.hpp), which loads every router kind",
         dir);
  io::SafetensorsFile w(files::join(dir, "weights.safetensors"));
  try {
    if (c.kind == RouterKind::kKnn) {
      auto x = load_tensor(w, "train_features"), y = load_tensor(w, "train_div_cov");
      int64_t d = 0;
      for (auto v : c.feature_dims) d += v;
      BREADTH_CHECK_FORMAT(x.dim() == 2 && x.size(1) == d, "{}: train_features must be [rows, {}]", w.path(), d);
      return std::make_shared<KnnRouter>(c, x, y);
    }
    MlpParams p{load_tensor(w, "w1"), load_tensor(w, "b1"), load_tensor(w, "w2"),
                load_tensor(w, "b2"), load_tensor(w, "mean"), load_tensor(w, "std")};
    return std::make_shared<MlpRouter>(c, p);
  } catch (const InvalidArgument& e) {
    fail<FormatError>("{}: {}", w.path(), e.what());
  }
}

}  // namespace breadth
