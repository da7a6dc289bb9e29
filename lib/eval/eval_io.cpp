// JSONL answer sets and JSON diversity–quality spaces.
#include "breadth/eval_io.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth {
namespace {

using json = nlohmann::ordered_json;  // keeps methods in file order

template <typename T>
T get_as(const json& j, const std::string& what, const std::string& where);

template <>
std::string get_as<std::string>(const json& j, const std::string& what, const std::string& where) {
  BREADTH_CHECK_FORMAT(j.is_string(), "{}: '{}' must be a string", where, what);
  return j.get<std::string>();
}
template <>
double get_as<double>(const json& j, const std::string& what, const std::string& where) {
  BREADTH_CHECK_FORMAT(j.is_number(), "{}: '{}' must be a number", where, what);
  double v = j.get<double>();
  BREADTH_CHECK_FORMAT(std::isfinite(v), "{}: '{}' must be finite", where, what);
  return v;
}
template <>
int get_as<int>(const json& j, const std::string& what, const std::string& where) {
  BREADTH_CHECK_FORMAT(j.is_number_integer(), "{}: '{}' must be an integer", where, what);
  auto v = j.get<int64_t>();
  BREADTH_CHECK_FORMAT(v >= 0 && v <= (1 << 30), "{}: '{}' = {} is out of range", where, what, v);
  return static_cast<int>(v);
}

template <typename T>
std::vector<T> get_list(const json& j, const std::string& what, const std::string& where) {
  BREADTH_CHECK_FORMAT(j.is_array(), "{}: '{}' must be a list", where, what);
  std::vector<T> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(get_as<T>(j[i], fmt::format("{}[{}]", what, i), where));
  return out;
}

template <typename T>
std::optional<std::vector<T>> opt_list(const json& obj, const char* key, const std::string& where,
                                       size_t expected, bool check_size) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  auto v = get_list<T>(*it, key, where);
  if (check_size)
    BREADTH_CHECK_FORMAT(v.size() == expected, "{}: '{}' has {} entries but there are {} generations", where,
                         key, v.size(), expected);
  return v;
}

std::string read_file(const std::string& path) {
  auto bytes = files::try_read_file(path);
  if (!bytes) fail<IoError>("cannot open '{}': check that the file exists and is readable", path);
  return std::move(*bytes);
}

}  // namespace

EvalRecord parse_eval_record(std::string_view line, const std::string& where) {
  json j;
  try {
    j = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", where, e.what());
  }
  BREADTH_CHECK_FORMAT(j.is_object(), "{}: each line must be a JSON object", where);
  EvalRecord r;
  BREADTH_CHECK_FORMAT(j.contains("prompt"), "{}: missing 'prompt'", where);
  BREADTH_CHECK_FORMAT(j.contains("generations"), "{}: missing 'generations' (the list of answers)", where);
  r.prompt = get_as<std::string>(j["prompt"], "prompt", where);
  r.generations = get_list<std::string>(j["generations"], "generations", where);
  if (j.contains("id") && !j["id"].is_null()) {
    if (j["id"].is_string()) r.id = j["id"].get<std::string>();
    else if (j["id"].is_number()) r.id = j["id"].dump();
    else fail<FormatError>("{}: 'id' must be a string or a number", where);
  }
  const size_t n = r.generations.size();
  if (j.contains("partition") && !j["partition"].is_null()) {
    // Class labels as any tool writes them: any integers, equal labels meaning one class.
    const json& p = j["partition"];
    BREADTH_CHECK_FORMAT(p.is_array() && p.size() == n, "{}: 'partition' must be a list of {} class labels", where,
                         n);
    std::vector<int> labels;
    for (size_t i = 0; i < n; ++i) {
      BREADTH_CHECK_FORMAT(p[i].is_number_integer() && p[i].get<int64_t>() >= INT32_MIN &&
                               p[i].get<int64_t>() <= INT32_MAX,
                           "{}: 'partition[{}]' must be an integer class label", where, i);
      labels.push_back(static_cast<int>(p[i].get<int64_t>()));
    }
    r.partition = std::move(labels);
  }
  r.scores = opt_list<double>(j, "scores", where, n, true);
  r.rewards = opt_list<double>(j, "rewards", where, n, true);
  r.partition_scores = opt_list<double>(j, "partition_scores", where, n, false);
  r.gold = opt_list<std::string>(j, "gold", where, n, false);
  r.log_likelihoods = opt_list<double>(j, "log_likelihoods", where, n, true);
  if (j.contains("token_ids") && !j["token_ids"].is_null()) {
    const json& t = j["token_ids"];
    BREADTH_CHECK_FORMAT(t.is_array() && t.size() == n, "{}: 'token_ids' must be a list of {} id lists", where, n);
    std::vector<std::vector<int32_t>> ids(n);
    for (size_t i = 0; i < n; ++i) {
      BREADTH_CHECK_FORMAT(t[i].is_array(), "{}: 'token_ids[{}]' must be a list", where, i);
      for (const auto& v : t[i]) {
        BREADTH_CHECK_FORMAT(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= INT32_MAX,
                             "{}: 'token_ids[{}]' must hold non-negative 32-bit integers", where, i);
        ids[i].push_back(static_cast<int32_t>(v.get<int64_t>()));
      }
    }
    r.token_ids = std::move(ids);
  }
  if (r.partition && r.partition_scores) {
    // partition_scores is indexed by the partition's own labels (not by canonical class ids).
    const auto& ps = *r.partition_scores;
    for (size_t i = 0; i < n; ++i) {
      const int l = (*r.partition)[i];
      BREADTH_CHECK_FORMAT(l >= 0 && static_cast<size_t>(l) < ps.size(),
                           "{}: 'partition[{}]' = {} has no entry in 'partition_scores' ({} entries): "
                           "'partition_scores' is indexed by the partition's labels",
                           where, i, l, ps.size());
    }
  }
  return r;
}

std::vector<EvalRecord> read_eval_jsonl(const std::string& path) {
  std::string text = read_file(path);
  std::vector<EvalRecord> out;
  size_t start = 0, lineno = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++lineno;
    std::string_view line(text.data() + start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos)
      out.push_back(parse_eval_record(line, fmt::format("{}:{}", path, lineno)));
    start = end + 1;
  }
  return out;
}

DivCovResult evaluate_record(const EvalRecord& r, const Equivalence& equivalence,
                             const QualityScorer& fallback, const RecordEvalOptions& options) {
  const auto& gen = r.generations;
  BREADTH_CHECK_ARG(options.divcov.budget >= 0, "divcov: budget must be >= 0 (got {})", options.divcov.budget);
  const int64_t budget = options.divcov.budget ? options.divcov.budget : static_cast<int64_t>(gen.size());
  BREADTH_CHECK_ARG(budget >= static_cast<int64_t>(gen.size()),
                    "{}: {} generations exceed the budget B = {}; pass a budget >= the answer count",
                    r.id.value_or("record"), gen.size(), budget);
  // A record's own partition may use any labels; `cls` is always in first-appearance form.
  std::vector<int> cls = r.partition ? canonical_partition(*r.partition) : partition(gen, equivalence);
  BREADTH_CHECK_ARG(cls.size() == gen.size(), "{}: 'partition' has {} labels for {} generations",
                    r.id.value_or("record"), cls.size(), gen.size());
  std::vector<double> q;
  double max_sum;
  if (r.scores) {
    q = *r.scores;
    max_sum = static_cast<double>(budget) * options.score_max;
  } else if (r.rewards) {
    for (double v : *r.rewards) q.push_back(reward_to_score(v));
    max_sum = static_cast<double>(budget) * 10.0;
  } else if (r.partition_scores) {
    // Indexed by the record's labels when it has a partition (NoveltyBench's are 0, 1, ... in
    // first-appearance order, so label and class id coincide), else by the computed class ids.
    const auto& labels = r.partition ? *r.partition : cls;
    for (int l : labels) {
      BREADTH_CHECK_ARG(l >= 0 && l < static_cast<int>(r.partition_scores->size()),
                        "{}: 'partition_scores' has no score for class label {} ({} entries); it is indexed "
                        "by the partition's labels",
                        r.id.value_or("record"), l, r.partition_scores->size());
      q.push_back((*r.partition_scores)[static_cast<size_t>(l)]);
    }
    max_sum = static_cast<double>(budget) * 10.0;
  } else if (r.gold) {
    auto g = gold_quality(*r.gold);
    q = gen.empty() ? std::vector<double>{} : g->score(r.prompt, gen);
    max_sum = g->max_unique_sum(budget);
  } else {
    q = gen.empty() ? std::vector<double>{} : fallback.score(r.prompt, gen);
    max_sum = fallback.max_unique_sum(budget);
  }
  if (gen.empty()) max_sum = 1.0;
  return divcov_from(std::move(cls), std::move(q), max_sum, options.divcov.patience);
}

namespace {

QDPoint point_of(const json& j, const std::string& what, const std::string& where) {
  BREADTH_CHECK_FORMAT(j.is_array() && j.size() == 2, "{}: '{}' must be a pair [quality, diversity]", where, what);
  return {get_as<double>(j[0], what + "[0]", where), get_as<double>(j[1], what + "[1]", where)};
}

QDSpace space_of(const json& s, const std::string& where) {
  BREADTH_CHECK_FORMAT(s.is_object(), "{}: a space must be a JSON object", where);
  QDSpace sp;
  sp.name = s.contains("name") ? get_as<std::string>(s["name"], "name", where) : "space";
  bool higher = true;
  if (s.contains("higher_is_better")) {
    BREADTH_CHECK_FORMAT(s["higher_is_better"].is_boolean(), "{}: 'higher_is_better' must be true or false", where);
    higher = s["higher_is_better"].get<bool>();
  }
  if (s.contains("anchors")) {
    const json& a = s["anchors"];
    BREADTH_CHECK_FORMAT(a.is_object(), "{}: 'anchors' must be an object", where);
    for (const char* k : {"x_min", "x_max", "y_min", "y_max"})
      BREADTH_CHECK_FORMAT(a.contains(k), "{}: 'anchors' lacks '{}'", where, k);
    sp.anchors.x_min = get_as<double>(a["x_min"], "x_min", where);
    sp.anchors.x_max = get_as<double>(a["x_max"], "x_max", where);
    sp.anchors.y_min = get_as<double>(a["y_min"], "y_min", where);
    sp.anchors.y_max = get_as<double>(a["y_max"], "y_max", where);
    sp.anchors.higher_is_better = higher;
  } else {
    BREADTH_CHECK_FORMAT(s.contains("base") && s.contains("aligned") && s.contains("bound"),
                         "{}: space '{}' needs 'anchors' or 'base', 'aligned' and 'bound'", where, sp.name);
    sp.anchors = SpaceAnchors::from_models(point_of(s["base"], "base", where), point_of(s["aligned"], "aligned", where),
                                           get_as<double>(s["bound"], "bound", where), higher);
  }
  BREADTH_CHECK_FORMAT(s.contains("methods") && s["methods"].is_object(),
                       "{}: space '{}' needs 'methods': {{\"name\": [[x, y], ...]}}", where, sp.name);
  for (const auto& [name, pts] : s["methods"].items()) {
    BREADTH_CHECK_FORMAT(pts.is_array(), "{}: method '{}' must be a list of [x, y] points", where, name);
    MethodPoints m;
    m.name = name;
    for (size_t i = 0; i < pts.size(); ++i) m.points.push_back(point_of(pts[i], fmt::format("{}[{}]", name, i), where));
    sp.methods.push_back(std::move(m));
  }
  return sp;
}

}  // namespace

std::vector<QDSpace> parse_spaces_json(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", where, e.what());
  }
  std::vector<QDSpace> out;
  if (j.is_object() && j.contains("spaces")) {
    BREADTH_CHECK_FORMAT(j["spaces"].is_array(), "{}: 'spaces' must be a list", where);
    for (const auto& s : j["spaces"]) out.push_back(space_of(s, where));
  } else {
    out.push_back(space_of(j, where));
  }
  return out;
}

std::vector<QDSpace> read_spaces_json(const std::string& path) {
  return parse_spaces_json(read_file(path), path);
}

}  // namespace breadth
