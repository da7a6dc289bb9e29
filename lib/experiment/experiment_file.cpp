// The experiment file: parsing, validation (every error names its key) and the resolved form that a
// run writes to experiment.json.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "breadth/baco.hpp"
#include "breadth/baco_rules.hpp"
#include "breadth/methods.hpp"
#include "breadth/experiment.hpp"
#include "breadth/model.hpp"
#include "breadth/spec.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "experiment/internal.hpp"

namespace breadth {
namespace {

using Json = nlohmann::ordered_json;

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void check_keys(const Json& obj, const std::string& where, const std::vector<std::string>& allowed) {
  BREADTH_CHECK_ARG(obj.is_object(), "{}: expected a JSON object", where);
  for (const auto& [key, value] : obj.items()) {
    (void)value;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail("{}: unknown key '{}' (known: {})", where, key, join_names(allowed));
  }
}

std::string get_string(const Json& obj, const std::string& key, const std::string& where, bool required,
                       const std::string& fallback = "") {
  auto it = obj.find(key);
  if (it == obj.end()) {
    BREADTH_CHECK_ARG(!required, "{}: missing key '{}'", where, key);
    return fallback;
  }
  BREADTH_CHECK_ARG(it->is_string(), "{}.{}: expected a string, got {}", where, key, it->dump());
  return it->get<std::string>();
}

int64_t get_int(const Json& obj, const std::string& key, const std::string& where, int64_t fallback, int64_t min) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  BREADTH_CHECK_ARG(it->is_number_integer(), "{}.{}: expected an integer, got {}", where, key, it->dump());
  const int64_t v = it->get<int64_t>();
  BREADTH_CHECK_ARG(v >= min, "{}.{}: must be >= {}, got {}", where, key, min, v);
  return v;
}

double get_number(const Json& obj, const std::string& key, const std::string& where, double fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  BREADTH_CHECK_ARG(it->is_number(), "{}.{}: expected a number, got {}", where, key, it->dump());
  const double v = it->get<double>();
  BREADTH_CHECK_ARG(std::isfinite(v), "{}.{}: must be finite", where, key);
  return v;
}

bool get_bool(const Json& obj, const std::string& key, const std::string& where, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  BREADTH_CHECK_ARG(it->is_boolean(), "{}.{}: expected true or false, got {}", where, key, it->dump());
  return it->get<bool>();
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/') return path;
  return files::join(base_dir, path);
}

const std::vector<std::string> kSamplingKeys = {"temperature", "top_p", "top_k", "min_p"};

/// What a kind takes beside name, kind and the sampling keys: its models, its numeric parameters
/// with their defaults (each may be swept), its other keys, and its sampling defaults.
struct KindSpec {
  std::vector<std::string> model_keys;
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::string> other_keys;
  SamplingOptions sampling;
};

KindSpec kind_spec(const std::string& kind) {
  const SamplingOptions method_sampling = MethodOptions{}.sampling;  // BACO Appendix D
  if (kind == "sample") return {{"model"}, {}, {"chat"}, SamplingOptions{}};
  if (kind == "route") return {{}, {}, {"router", "pool", "encoder", "chat"}, SamplingOptions{}};
  if (kind == "baco")
    return {{"base", "aligned"}, {{"gamma", kDefaultGamma}}, {"rule", "base_template"}, BacoOptions{}.aligned_sampling};
  if (kind == "logit_ensemble")
    return {{"base", "aligned"}, {{"w", LogitEnsembleOptions{}.w}}, {"base_template"}, method_sampling};
  if (kind == "response_ensemble")
    return {{"base", "aligned"}, {{"ratio", ResponseEnsembleOptions{}.ratio}}, {"base_template"}, method_sampling};
  if (kind == "nudging")
    return {{"base", "aligned"}, {{"threshold", NudgingOptions{}.threshold}}, {"base_template"}, method_sampling};
  if (kind == "diverse_beam")
    return {{"model"},
            {{"groups", static_cast<double>(DiverseBeamOptions{}.groups)}, {"penalty", DiverseBeamOptions{}.penalty}},
            {},
            method_sampling};
  // in_context, paraphrase, verbalized, system_vanilla
  return {{"model"}, {}, {}, method_sampling};
}

/// Range checks of the kinds' numbers (the library checks them again when called).
void check_number(const std::string& key, double v, int64_t n, const std::string& where) {
  // γ is checked by the rule itself (make_rule), whose range depends on the rule.
  if (key == "w" || key == "ratio" || key == "threshold")
    BREADTH_CHECK_ARG(v >= 0 && v <= 1, "{}: {} must be in [0, 1], got {}", where, key, v);
  if (key == "penalty") BREADTH_CHECK_ARG(v >= 0, "{}: penalty must be >= 0, got {}", where, v);
  if (key == "groups")
    BREADTH_CHECK_ARG(v >= 1 && v == std::floor(v) && n % static_cast<int64_t>(v) == 0,
                      "{}: groups must be a whole number >= 1 that divides n = {}, got {}", where, n, v);
}

/// The value of sweepable key `key` for one point: the method's own or the swept value.
void apply_sampling_value(SamplingOptions& s, const std::string& key, double v, const std::string& where) {
  if (key == "temperature") {
    BREADTH_CHECK_ARG(v >= 0, "{}: temperature must be >= 0, got {}", where, v);
    s.temperature = v;
  } else if (key == "top_p") {
    s.top_p = v;
  } else if (key == "min_p") {
    s.min_p = v;
  } else if (key == "top_k") {
    BREADTH_CHECK_ARG(v >= 0 && v == std::floor(v), "{}: top_k must be a whole number >= 0, got {}", where, v);
    s.top_k = static_cast<int64_t>(v);
  }
}

ExperimentMethod parse_method(const Json& m, const std::string& where, const ExperimentSpec& spec,
                              const std::string& base_dir, bool check_files) {
  BREADTH_CHECK_ARG(m.is_object(), "{}: expected a JSON object", where);
  ExperimentMethod method;
  method.name = get_string(m, "name", where, true);
  method.kind = get_string(m, "kind", where, true);
  BREADTH_CHECK_ARG(!method.name.empty() && method.name.find_first_of("/@\\") == std::string::npos &&
                        method.name != "." && method.name != "..",
                    "{}.name: '{}' must be non-empty and hold no '/', '\\' or '@' (it names a folder)", where,
                    method.name);
  const auto& kinds = experiment_method_kinds();
  if (std::find(kinds.begin(), kinds.end(), method.kind) == kinds.end())
    fail("{}.kind: unknown kind '{}' (known: {})", where, method.kind, join_names(kinds));
  const KindSpec ks = kind_spec(method.kind);
  std::vector<std::string> allowed = {"name", "kind"};
  for (const auto* list : {&ks.model_keys, &ks.other_keys, &kSamplingKeys}) allowed.insert(allowed.end(), list->begin(), list->end());
  std::vector<std::string> sweepable = kSamplingKeys;
  for (const auto& [key, value] : ks.numbers) {
    allowed.push_back(key);
    sweepable.push_back(key);
  }
  check_keys(m, where, allowed);

  // The sweep: at most one list-valued key, and only a numeric one.
  for (const auto& [key, value] : m.items()) {
    if (!value.is_array() || key == "pool") continue;
    BREADTH_CHECK_ARG(std::find(sweepable.begin(), sweepable.end(), key) != sweepable.end(),
                      "{}.{}: only {} can be swept (given as a list) for kind '{}'", where, key, join_names(sweepable),
                      method.kind);
    BREADTH_CHECK_ARG(method.sweep_key.empty(), "{}: sweeps '{}' and '{}'; sweep one parameter per method", where,
                      method.sweep_key, key);
    BREADTH_CHECK_ARG(!value.empty(), "{}.{}: an empty list", where, key);
    method.sweep_key = key;
    std::set<std::string> seen;
    for (size_t i = 0; i < value.size(); ++i) {
      BREADTH_CHECK_ARG(value[i].is_number(), "{}.{}[{}]: expected a number, got {}", where, key, i, value[i].dump());
      const std::string label = value[i].dump();
      BREADTH_CHECK_ARG(seen.insert(label).second, "{}.{}: {} appears twice", where, key, label);
      method.sweep_values.push_back(value[i].get<double>());
      method.sweep_labels.push_back(label);
    }
  }
  auto scalar = [&](const std::string& key, double fallback) {
    return key == method.sweep_key ? method.sweep_values.front() : get_number(m, key, where, fallback);
  };
  for (const auto& key : ks.model_keys) {
    std::string name = get_string(m, key, where, true);
    spec.model(name, where + "." + key);
    (key == "model" ? method.model : key == "base" ? method.base : method.aligned) = name;
  }

  // Sampling: the kind's defaults, the method's values, and every swept value checked.
  method.sampling = ks.sampling;
  for (const auto& key : kSamplingKeys) {
    if (m.contains(key) && key != method.sweep_key) apply_sampling_value(method.sampling, key, scalar(key, 0), where);
  }
  if (std::find(kSamplingKeys.begin(), kSamplingKeys.end(), method.sweep_key) != kSamplingKeys.end()) {
    for (double v : method.sweep_values) {
      SamplingOptions s = method.sampling;
      apply_sampling_value(s, method.sweep_key, v, fmt::format("{}.{}", where, method.sweep_key));
      try {
        s.validate();
      } catch (const InvalidArgument& e) {
        fail("{}.{}: {}", where, method.sweep_key, e.what());
      }
    }
  }
  for (const auto& [key, fallback] : ks.numbers) {
    method.numbers[key] = scalar(key, fallback);
    const std::vector<double> values = key == method.sweep_key ? method.sweep_values : std::vector<double>{method.numbers[key]};
    for (double v : values) check_number(key, v, spec.n, where + "." + key);
  }
  try {
    method.sampling.validate();
  } catch (const InvalidArgument& e) {
    fail("{}: {}", where, e.what());
  }

  method.chat = get_bool(m, "chat", where, true);
  method.base_template = get_string(m, "base_template", where, false);
  if (method.kind == "baco") {
    method.rule = get_string(m, "rule", where, false, kDefaultRule);
    // The rule and every γ are checked now, before anything loads.
    const std::vector<double> gammas =
        method.sweep_key == "gamma" ? method.sweep_values : std::vector<double>{method.numbers["gamma"]};
    for (double g : gammas) make_rule(method.rule, g, where + ".gamma");
  } else if (method.kind == "route") {
    method.router = resolve_path(get_string(m, "router", where, true), base_dir);
    BREADTH_CHECK_ARG(!check_files || files::is_regular_file(files::join(method.router, "router.json")),
                      "{}.router: '{}' holds no saved router (router.json); train one with `breadth route train`",
                      where, method.router);
    method.encoder = get_string(m, "encoder", where, false);
    if (!method.encoder.empty()) {
      method.encoder = resolve_path(method.encoder, base_dir);
      BREADTH_CHECK_ARG(!check_files || files::exists(method.encoder), "{}.encoder: '{}' does not exist", where, method.encoder);
    }
    if (m.contains("pool")) {
      const Json& pool = m["pool"];
      BREADTH_CHECK_ARG(pool.is_array() && !pool.empty(), "{}.pool: expected a non-empty list of model names", where);
      for (size_t i = 0; i < pool.size(); ++i) {
        BREADTH_CHECK_ARG(pool[i].is_string(), "{}.pool[{}]: expected a model name", where, i);
        spec.model(pool[i].get<std::string>(), fmt::format("{}.pool[{}]", where, i));
        method.pool.push_back(pool[i].get<std::string>());
      }
    } else {
      for (const auto& model : spec.models) method.pool.push_back(model.name);
    }
  }
  return method;
}

bool metric_known(const std::string& spec) {
  const std::string name = spec.substr(0, spec.find(':'));
  for (const auto& known : metric_names()) {
    if (known == name) return true;
    const auto n = known.find("_N");
    if (n != std::string::npos && n + 2 == known.size() && name.rfind(known.substr(0, n + 1), 0) == 0) {
      const std::string digits = name.substr(n + 1);
      if (!digits.empty() && std::all_of(digits.begin(), digits.end(), ::isdigit)) return true;
    }
  }
  return false;
}

ExperimentEvaluation parse_evaluation(const Json& e, const std::string& where) {
  ExperimentEvaluation ev;
  check_keys(e, where,
             {"equivalence", "quality", "metrics", "budget", "patience", "device", "tokenizer", "embedder", "nli",
              "anchors", "spaces"});
  ev.equivalence = get_string(e, "equivalence", where, false, ev.equivalence);
  ev.quality = get_string(e, "quality", where, false, ev.quality);
  if (e.contains("metrics")) {
    const Json& ms = e["metrics"];
    BREADTH_CHECK_ARG(ms.is_array(), "{}.metrics: expected a list of metric names", where);
    for (size_t i = 0; i < ms.size(); ++i) {
      BREADTH_CHECK_ARG(ms[i].is_string(), "{}.metrics[{}]: expected a metric name", where, i);
      const std::string name = ms[i].get<std::string>();
      if (!metric_known(name))
        fail("{}.metrics[{}]: unknown metric '{}' (known: {})", where, i, name, join_names(metric_names()));
      ev.metrics.push_back(name);
    }
  }
  ev.budget = get_int(e, "budget", where, 0, 0);
  ev.patience = get_number(e, "patience", where, ev.patience);
  BREADTH_CHECK_ARG(ev.patience > 0 && ev.patience <= 1, "{}.patience: must be in (0, 1], got {}", where, ev.patience);
  ev.device = get_string(e, "device", where, false, ev.device);
  parse_device(ev.device, where + ".device");
  ev.tokenizer = get_string(e, "tokenizer", where, false);
  ev.embedder = get_string(e, "embedder", where, false);
  ev.nli = get_string(e, "nli", where, false);
  if (e.contains("anchors")) {
    const Json& a = e["anchors"];
    check_keys(a, where + ".anchors", {"base", "aligned"});
    ev.base_point = get_string(a, "base", where + ".anchors", true);
    ev.aligned_point = get_string(a, "aligned", where + ".anchors", true);
  }
  if (e.contains("spaces")) {
    const Json& ss = e["spaces"];
    BREADTH_CHECK_ARG(ss.is_array(), "{}.spaces: expected a list of {{quality, diversity}} objects", where);
    for (size_t i = 0; i < ss.size(); ++i) {
      const std::string w = fmt::format("{}.spaces[{}]", where, i);
      check_keys(ss[i], w, {"name", "quality", "diversity", "higher_is_better", "bound"});
      ExperimentSpace s;
      s.quality = get_string(ss[i], "quality", w, true);
      s.diversity = get_string(ss[i], "diversity", w, true);
      s.name = get_string(ss[i], "name", w, false, s.quality + " vs " + s.diversity);
      if (ss[i].contains("higher_is_better")) s.higher_is_better = get_bool(ss[i], "higher_is_better", w, true);
      if (ss[i].contains("bound")) s.bound = get_number(ss[i], "bound", w, 0);
      ev.spaces.push_back(s);
    }
  }
  return ev;
}

}  // namespace

const std::vector<std::string>& experiment_method_kinds() {
  static const std::vector<std::string> kinds = {"sample",         "baco",       "route",       "logit_ensemble",
                                                 "response_ensemble", "nudging", "in_context", "paraphrase",
                                                 "diverse_beam",   "verbalized", "system_vanilla"};
  return kinds;
}

const ExperimentModel& ExperimentSpec::model(const std::string& name, const std::string& where) const {
  for (const auto& m : models)
    if (m.name == name) return m;
  std::vector<std::string> names;
  for (const auto& m : models) names.push_back(m.name);
  fail("{}: no model named '{}' in \"models\" (known: {})", where, name, join_names(names));
}

ExperimentSpec parse_experiment(const std::string& json_text, const std::string& base_dir, const std::string& where) {
  return parse_experiment_json(json_text, base_dir, where, true);
}

ExperimentSpec parse_experiment_json(const std::string& json_text, const std::string& base_dir,
                                     const std::string& where, bool check_files) {
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for an overflowing number
    fail("{}: not valid JSON: {}", where, e.what());
  }
  check_keys(j, where,
             {"prompts", "limit", "models", "n", "max_new_tokens", "seed", "batch_size", "methods", "evaluate",
              kResolvedKey});
  ExperimentSpec spec;
  spec.prompts = resolve_path(get_string(j, "prompts", where, true), base_dir);
  BREADTH_CHECK_ARG(!check_files || files::is_regular_file(spec.prompts), "{}.prompts: no file '{}'", where, spec.prompts);
  spec.limit = get_int(j, "limit", where, 0, 0);
  spec.n = get_int(j, "n", where, spec.n, 1);
  spec.max_new_tokens = get_int(j, "max_new_tokens", where, spec.max_new_tokens, 1);
  spec.seed = static_cast<uint64_t>(get_int(j, "seed", where, 0, 0));
  spec.batch_size = get_int(j, "batch_size", where, spec.batch_size, 1);

  BREADTH_CHECK_ARG(j.contains("models") && j["models"].is_object() && !j["models"].empty(),
                    "{}.models: expected an object naming at least one checkpoint, e.g. {{\"smol\": \"PATH.gguf\"}}",
                    where);
  for (const auto& [name, value] : j["models"].items()) {
    const std::string w = where + ".models." + name;
    ExperimentModel m;
    m.name = name;
    if (value.is_string()) {
      m.path = value.get<std::string>();
    } else {
      check_keys(value, w, {"path", "dtype", "device", "weights"});
      m.path = get_string(value, "path", w, true);
      m.dtype = get_string(value, "dtype", w, false, m.dtype);
      m.device = get_string(value, "device", w, false, m.device);
      m.weights = get_string(value, "weights", w, false, m.weights);
    }
    m.path = resolve_path(m.path, base_dir);
    BREADTH_CHECK_ARG(!m.path.empty() && (!check_files || files::exists(m.path)), "{}: checkpoint '{}' does not exist", w, m.path);
    parse_dtype(m.dtype, w + ".dtype");
    parse_device(m.device, w + ".device");
    parse_weight_format(m.weights, w + ".weights");
    spec.models.push_back(m);
  }

  BREADTH_CHECK_ARG(j.contains("methods") && j["methods"].is_array() && !j["methods"].empty(),
                    "{}.methods: expected a non-empty list of methods", where);
  std::set<std::string> names;
  for (size_t i = 0; i < j["methods"].size(); ++i) {
    auto method = parse_method(j["methods"][i], fmt::format("{}.methods[{}]", where, i), spec, base_dir, check_files);
    BREADTH_CHECK_ARG(names.insert(method.name).second, "{}.methods[{}].name: '{}' is used twice", where, i,
                      method.name);
    spec.methods.push_back(std::move(method));
  }
  if (j.contains("evaluate")) spec.evaluate = parse_evaluation(j["evaluate"], where + ".evaluate");

  // Anchors and spaces refer to points and figures that must exist.
  std::set<std::string> points;
  for (const auto& p : experiment_points(spec)) points.insert(p.name);
  for (const auto& [key, point] : {std::pair{"base", spec.evaluate.base_point},
                                   std::pair{"aligned", spec.evaluate.aligned_point}}) {
    if (!point.empty() && !points.count(point))
      fail("{}.evaluate.anchors.{}: no point named '{}' (points are method names, NAME@VALUE for sweeps)", where, key,
           point);
  }
  const auto figures = experiment_figure_names(spec);
  for (size_t i = 0; i < spec.evaluate.spaces.size(); ++i) {
    for (const auto& [key, fig] : {std::pair{"quality", spec.evaluate.spaces[i].quality},
                                   std::pair{"diversity", spec.evaluate.spaces[i].diversity}}) {
      if (std::find(figures.begin(), figures.end(), fig) == figures.end())
        fail("{}.evaluate.spaces[{}].{}: unknown figure '{}' (known: {})", where, i, key, fig, join_names(figures));
    }
  }
  return spec;
}

ExperimentSpec load_experiment(const std::string& path) {
  auto text = files::try_read_file(path);
  if (!text) fail<IoError>("cannot read the experiment file '{}'", path);
  // Relative paths in the file are relative to its folder; the resolved experiment records them
  // absolute, so that `breadth report` and resumed runs work from any directory.
  std::string dir = files::parent(path);
  if (dir.empty()) dir = ".";
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real) {
    dir = real;
    std::free(real);
  }
  return parse_experiment(*text, dir, path);
}

std::vector<ExperimentPoint> experiment_points(const ExperimentSpec& spec) {
  std::vector<ExperimentPoint> points;
  for (size_t i = 0; i < spec.methods.size(); ++i) {
    const auto& m = spec.methods[i];
    if (m.sweep_key.empty()) {
      points.push_back({m.name, i, std::nullopt});
      continue;
    }
    for (size_t v = 0; v < m.sweep_values.size(); ++v)
      points.push_back({m.name + "@" + m.sweep_labels[v], i, m.sweep_values[v]});
  }
  return points;
}

std::vector<std::string> experiment_figure_names(const ExperimentSpec& spec) {
  std::vector<std::string> names = {"div_cov", "unq", "qual", "unq_qual", "utility"};
  for (const auto& m : spec.evaluate.metrics) names.push_back(m.substr(0, m.find(':')));
  names.push_back("base_share");
  names.push_back("switch_rate");
  names.push_back("mean_words");
  return names;
}

Json resolved_experiment_json(const ExperimentSpec& spec) {
  Json j;
  j["prompts"] = spec.prompts;
  j["limit"] = spec.limit;
  Json models = Json::object();
  for (const auto& m : spec.models) models[m.name] = Json{{"path", m.path}, {"dtype", m.dtype}, {"device", m.device}, {"weights", m.weights}};
  j["models"] = models;
  j["n"] = spec.n;
  j["max_new_tokens"] = spec.max_new_tokens;
  j["seed"] = spec.seed;
  j["batch_size"] = spec.batch_size;
  Json methods = Json::array();
  for (const auto& m : spec.methods) {
    Json o;
    o["name"] = m.name;
    o["kind"] = m.kind;
    auto sampling_value = [&](const std::string& key, double v) {
      if (key == m.sweep_key) {
        Json list = Json::array();
        for (const auto& label : m.sweep_labels) list.push_back(Json::parse(label));
        o[key] = list;
      } else if (key == "top_k") {
        o[key] = static_cast<int64_t>(v);
      } else {
        o[key] = v;
      }
    };
    const KindSpec ks = kind_spec(m.kind);
    for (const auto& key : ks.model_keys) o[key] = key == "model" ? m.model : key == "base" ? m.base : m.aligned;
    for (const auto& key : ks.other_keys) {
      if (key == "chat") o[key] = m.chat;
      else if (key == "rule") o[key] = m.rule;
      else if (key == "base_template") o[key] = m.base_template;
      else if (key == "router") o[key] = m.router;
      else if (key == "pool") o[key] = m.pool;
      else if (key == "encoder") o[key] = m.encoder;
    }
    for (const auto& [key, fallback] : ks.numbers) sampling_value(key, m.numbers.at(key));
    sampling_value("temperature", m.sampling.temperature);
    sampling_value("top_p", m.sampling.top_p);
    sampling_value("top_k", static_cast<double>(m.sampling.top_k));
    sampling_value("min_p", m.sampling.min_p);
    methods.push_back(o);
  }
  j["methods"] = methods;
  const auto& e = spec.evaluate;
  Json ev;
  ev["equivalence"] = e.equivalence;
  ev["quality"] = e.quality;
  ev["metrics"] = e.metrics;
  ev["budget"] = e.budget;
  ev["patience"] = e.patience;
  ev["device"] = e.device;
  ev["tokenizer"] = e.tokenizer;
  ev["embedder"] = e.embedder;
  ev["nli"] = e.nli;
  if (!e.base_point.empty()) ev["anchors"] = Json{{"base", e.base_point}, {"aligned", e.aligned_point}};
  Json spaces = Json::array();
  for (const auto& s : e.spaces) {
    Json o{{"name", s.name}, {"quality", s.quality}, {"diversity", s.diversity}};
    if (s.higher_is_better) o["higher_is_better"] = *s.higher_is_better;
    if (s.bound) o["bound"] = *s.bound;
    spaces.push_back(o);
  }
  ev["spaces"] = spaces;
  j["evaluate"] = ev;
  return j;
}

}  // namespace breadth
