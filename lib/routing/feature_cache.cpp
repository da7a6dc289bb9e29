// On-disk cache of query features, one safetensors file per extractor, and features computed
// through it from any extractors.
#include <fmt/ranges.h>

#include <cctype>
#include <cstdlib>
#include <unordered_map>

#include "core/check.hpp"
#include "io/safetensors.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

FeatureCache::FeatureCache(std::string dir) : dir_(std::move(dir)) {
  files::make_dirs(dir_);
}

std::string FeatureCache::default_dir() {
  const char* c = std::getenv("BREADTH_CACHE");
  if (c && *c) return std::string(c) + "/route-features";
  const char* h = std::getenv("HOME");
  return std::string(h && *h ? h : ".") + "/.cache/breadth/route-features";
}

uint64_t FeatureCache::key(const std::string& name, const std::string& query) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  for (unsigned char c : name) mix(c);
  mix(0);
  for (unsigned char c : query) mix(c);
  return h;
}

namespace {

std::string file_for(const std::string& dir, const std::string& name) {
  // The extractor name may be a path; keep a readable slug plus its hash for uniqueness.
  std::string slug;
  for (char c : name.substr(name.size() > 48 ? name.size() - 48 : 0))
    slug += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return files::join(dir, fmt::format("{}-{:016x}.safetensors", slug, FeatureCache::key(name, "")));
}

}  // namespace

torch::Tensor FeatureCache::get(FeatureExtractor& extractor, const std::vector<std::string>& queries,
                                int64_t batch_size,
                                const ProgressCallback& progress) {
  BREADTH_CHECK_ARG(batch_size > 0, "FeatureCache::get: batch_size must be positive");
  if (queries.empty()) return torch::zeros({0, 0}, torch::kFloat32);
  const std::string name = extractor.name();
  const std::string path = file_for(dir_, name);
  torch::Tensor keys, feats;  // [C] int64, [C, D] float32
  if (files::exists(path)) {
    io::SafetensorsFile f(path);
    const auto& k = f.at("keys");
    const auto& v = f.at("features");
    BREADTH_CHECK_FORMAT(k.dtype == io::DType::I64 && k.shape.size() == 1 && v.dtype == io::DType::F32 &&
                             v.shape.size() == 2 && v.shape[0] == k.shape[0],
                         "feature cache '{}' is corrupt; delete it to rebuild", path);
    keys = torch::from_blob(const_cast<uint8_t*>(k.data), k.shape, torch::kInt64).clone();
    feats = torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, torch::kFloat32).clone();
  }
  std::unordered_map<uint64_t, int64_t> row;
  if (keys.defined()) {
    auto ka = keys.accessor<int64_t, 1>();
    for (int64_t i = 0; i < keys.size(0); ++i) row.emplace(static_cast<uint64_t>(ka[i]), i);
  }
  std::vector<std::string> missing;
  std::vector<uint64_t> missing_keys;
  for (const auto& q : queries) {
    uint64_t k = key(name, q);
    if (row.count(k)) continue;
    row.emplace(k, -1);  // queued (a query repeated in `queries` is computed once)
    missing.push_back(q);
    missing_keys.push_back(k);
  }
  if (!missing.empty()) {
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i < missing.size(); i += static_cast<size_t>(batch_size)) {
      std::vector<std::string> b(missing.begin() + static_cast<std::ptrdiff_t>(i),
                                 missing.begin() + static_cast<std::ptrdiff_t>(
                                                       std::min(missing.size(), i + static_cast<size_t>(batch_size))));
      auto x = extractor.extract(b).to(torch::kCPU).to(torch::kFloat32).contiguous();
      BREADTH_CHECK_ARG(x.dim() == 2 && x.size(0) == static_cast<int64_t>(b.size()),
                        "feature extractor '{}' returned {} rows for {} queries", name,
                        x.dim() ? x.size(0) : 0, b.size());
      parts.push_back(x);
      if (progress && !progress(static_cast<int64_t>(i + b.size()), static_cast<int64_t>(missing.size()),
                                "features " + name))
        fail<Cancelled>("feature extraction cancelled");
    }
    auto fresh = torch::cat(parts, 0);
    auto fresh_keys = torch::empty({static_cast<int64_t>(missing_keys.size())}, torch::kInt64);
    for (size_t i = 0; i < missing_keys.size(); ++i)
      fresh_keys[static_cast<int64_t>(i)] = static_cast<int64_t>(missing_keys[i]);
    if (feats.defined()) {
      BREADTH_CHECK_ARG(feats.size(1) == fresh.size(1),
                        "feature extractor '{}' now gives {}-dim features, the cache '{}' holds {}-dim "
                        "ones; give the extractor a different name or delete the cache",
                        name, fresh.size(1), path, feats.size(1));
      feats = torch::cat({feats, fresh}, 0);
      keys = torch::cat({keys, fresh_keys}, 0);
    } else {
      feats = fresh;
      keys = fresh_keys;
    }
    row.clear();
    auto ka = keys.accessor<int64_t, 1>();
    for (int64_t i = 0; i < keys.size(0); ++i) row.emplace(static_cast<uint64_t>(ka[i]), i);
    std::string tmp = path + ".tmp";
    io::write_safetensors(tmp,
                          {{"keys", io::DType::I64, {keys.size(0)}, keys.data_ptr(),
                            static_cast<uint64_t>(keys.numel() * 8)},
                           {"features", io::DType::F32, {feats.size(0), feats.size(1)}, feats.data_ptr(),
                            static_cast<uint64_t>(feats.numel() * 4)}},
                          {{"extractor", name}});
    files::move_file(tmp, path);
  }
  std::vector<int64_t> idx;
  for (const auto& q : queries) idx.push_back(row.at(key(name, q)));
  return feats.index_select(0, torch::tensor(idx, torch::kLong));
}

Features compute_features(FeatureKind kind, const std::vector<FeatureExtractor*>& extractors,
                          const std::vector<std::string>& queries, FeatureCache* cache,
                          const std::function<bool(int64_t, int64_t, const std::string&)>& progress) {
  BREADTH_CHECK_ARG(!extractors.empty(), "compute_features: no extractor given");
  BREADTH_CHECK_ARG(kind == FeatureKind::kSpecific || extractors.size() == 1,
                    "compute_features: agnostic features come from one extractor, got {}", extractors.size());
  BREADTH_CHECK_ARG(!queries.empty(), "compute_features: no queries given");
  Features f;
  f.kind = kind;
  for (size_t i = 0; i < extractors.size(); ++i) {
    BREADTH_CHECK_ARG(extractors[i] != nullptr, "compute_features: extractor {} is null", i);
    auto stage = [&, i](int64_t done, int64_t total, const std::string&) {
      return !progress || progress(static_cast<int64_t>(i) * total + done,
                                   static_cast<int64_t>(extractors.size()) * total, extractors[i]->name());
    };
    torch::Tensor m;
    if (cache) {
      m = cache->get(*extractors[i], queries, 16, stage);
    } else {
      m = extractors[i]->extract(queries).to(torch::kCPU).to(torch::kFloat32);
      if (!stage(static_cast<int64_t>(queries.size()), static_cast<int64_t>(queries.size()), ""))
        fail<Cancelled>("computing features cancelled");
    }
    BREADTH_CHECK_ARG(m.dim() == 2 && m.size(0) == static_cast<int64_t>(queries.size()) && m.size(1) > 0,
                      "extractor '{}' returned [{}] for {} queries", extractors[i]->name(),
                      fmt::join(m.sizes(), ", "), queries.size());
    f.mats.push_back(m);
  }
  return f;
}

}  // namespace breadth
