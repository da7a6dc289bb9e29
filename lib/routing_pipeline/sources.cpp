// Where the pipeline's inputs come from: candidate pools (checkpoints by base name), prompts files,
// and query features from a features file, a sentence encoder or the pool's checkpoints.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>

#include "breadth/router_pipeline.hpp"
#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth {

namespace {

/// realpath(3), or `path` itself when it does not resolve: feature extractors are named by it, so that
/// one checkpoint reached by two relative paths shares its cache rows.
std::string absolute(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) return path;
  std::string out(r);
  std::free(r);
  return out;
}

/// What feature extractors are named by, and so what the persistent feature cache keys on: the
/// checkpoint's absolute path and a fingerprint of its files (name, size and modification time of the
/// file, or of each file directly in the folder). A checkpoint rewritten at the same path (a retrained
/// encoder, a regenerated fixture) then gets new cache rows instead of its predecessor's features.
std::string checkpoint_identity(const std::string& path) {
  const std::string abs = absolute(path);
  std::vector<std::string> entries;
  auto add = [&](const std::string& name, const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    entries.push_back(fmt::format("{}:{}:{}.{}", name, static_cast<long long>(st.st_size),
                                  static_cast<long long>(st.st_mtim.tv_sec), static_cast<long>(st.st_mtim.tv_nsec)));
  };
  if (files::is_directory(abs)) {
    for (const auto& name : files::list_dir(abs)) add(name, files::join(abs, name));
    std::sort(entries.begin(), entries.end());
  } else {
    add("", abs);
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (const auto& e : entries)
    for (char c : e + '\n') h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return fmt::format("{}@{:016x}", abs, h);
}

}  // namespace

// ------------------------------------------------------------------------------ candidate pools

std::string pool_model_name(const std::string& checkpoint) {
  std::string path = checkpoint;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".gguf") == 0) base.resize(base.size() - 5);
  return base;
}

bool ModelPool::contains(const std::string& name) const {
  for (const auto& n : names)
    if (n == name) return true;
  return false;
}

const std::string& ModelPool::path(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return paths[i];
  fail<InvalidArgument>("no checkpoint given for pool model '{}' (checkpoints given for: {})", name,
                        fmt::join(names, ", "));
}

ModelPool make_model_pool(const std::vector<std::string>& checkpoints) {
  ModelPool pool;
  for (const auto& p : checkpoints) {
    auto name = pool_model_name(p);
    BREADTH_CHECK_ARG(!pool.contains(name),
                      "two checkpoints are named '{}' ({} and {}; a pool model's name is its folder or file "
                      "name): rename one",
                      name, pool.path(name), p);  // evaluated only when the name is taken
    pool.names.push_back(name);
    pool.paths.push_back(p);
  }
  return pool;
}

ModelLoader pool_loader(ModelPool pool, ModelOptions options) {
  return [pool = std::move(pool), options](const std::string& name) -> std::shared_ptr<const CausalLM> {
    return CausalLM::load(pool.path(name), options);
  };
}

// ------------------------------------------------------------------------------ features

Features query_features(const FeatureSources& sources, FeatureKind kind, const std::vector<std::string>& query_ids,
                        const std::vector<std::string>& queries, const std::vector<std::string>& pool) {
  if (!sources.features_file.empty()) return load_features_file(sources.features_file, kind, query_ids, pool);
  // Each stage owns its progress callback only while it runs (see FeatureSources::stage_progress).
  auto compute = [&](FeatureExtractor& ex, FeatureCache& cache, const std::string& stage) {
    ProgressCallback progress;
    if (sources.stage_progress) progress = sources.stage_progress(stage);
    return compute_features(kind, {&ex}, queries, &cache, progress).mats[0];
  };
  if (kind == FeatureKind::kAgnostic) {
    BREADTH_CHECK_ARG(!sources.encoder.empty(),
                      "agnostic features: give --features-file (precomputed) or --encoder PATH (a text encoder)");
    FeatureCache cache(sources.cache_dir.empty() ? FeatureCache::default_dir() : sources.cache_dir);
    EmbedderFeatureExtractor ex(std::shared_ptr<const Encoder>(Encoder::load(sources.encoder, sources.encoder_options)),
                                checkpoint_identity(sources.encoder));
    Features f;
    f.kind = kind;
    f.mats.push_back(compute(ex, cache, "features (encoder)"));
    return f;
  }
  BREADTH_CHECK_ARG(!sources.models.empty(),
                    "specific features: give --features-file (precomputed) or one --model PATH per pool model ({})",
                    fmt::join(pool, ", "));
  auto checkpoints = make_model_pool(sources.models);
  for (const auto& name : pool)
    BREADTH_CHECK_ARG(checkpoints.contains(name), "specific features: no --model given for pool model '{}' (pool: {})",
                      name, fmt::join(pool, ", "));
  FeatureCache cache(sources.cache_dir.empty() ? FeatureCache::default_dir() : sources.cache_dir);
  Features f;
  f.kind = kind;
  for (const auto& name : pool) {
    // One model loaded at a time: each is released before the next loads.
    const auto& path = checkpoints.path(name);
    ModelFeatureExtractor ex(CausalLM::load(path, sources.model_options), checkpoint_identity(path));
    f.mats.push_back(compute(ex, cache, "features (" + name + ")"));
  }
  return f;
}

Features table_features(const FeatureSources& sources, FeatureKind kind, const RoutingTable& table) {
  return query_features(sources, kind, table.query_ids, table.queries, table.models);
}

// ------------------------------------------------------------------------------ prompts

std::vector<std::pair<std::string, std::string>> load_prompts(const std::string& path, int64_t limit) {
  std::ifstream in(path);
  if (!in) fail<IoError>("cannot read prompts file '{}'", path);
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  int64_t n = 0;
  while ((limit <= 0 || static_cast<int64_t>(out.size()) < limit) && std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail<FormatError>("{}:{}: not JSON ({})", path, n, e.what());
    }
    auto str = [&](std::initializer_list<const char*> keys) -> std::string {
      for (const char* k : keys)
        if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
      return {};
    };
    auto id = str({"id", "query_id"});
    auto text = str({"prompt", "query", "text"});
    if (id.empty()) id = fmt::format("line-{}", n);
    if (text.empty()) fail<FormatError>("{}:{}: no \"prompt\" (or \"query\"/\"text\") string", path, n);
    out.emplace_back(id, text);
  }
  BREADTH_CHECK_ARG(!out.empty(), "prompts file '{}' holds no prompt", path);
  return out;
}

}  // namespace breadth
