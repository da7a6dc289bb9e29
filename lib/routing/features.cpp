// Query feature sets and the precomputed-features file.
#include <nlohmann/json.hpp>

#include <unordered_map>

#include "core/check.hpp"
#include "io/safetensors.hpp"
#include "routing/internal.hpp"

namespace breadth {

const char* feature_kind_name(FeatureKind k) {
  return k == FeatureKind::kAgnostic ? "agnostic" : "specific";
}

FeatureKind parse_feature_kind(const std::string& s) {
  if (s == "agnostic" || s == "agn") return FeatureKind::kAgnostic;
  if (s == "specific" || s == "spec") return FeatureKind::kSpecific;
  fail("unknown feature kind '{}'; use agnostic or specific", s);
}

int64_t Features::rows() const {
  BREADTH_CHECK_ARG(!mats.empty(), "Features: no feature matrix");
  return mats[0].size(0);
}

std::vector<int64_t> Features::dims() const {
  std::vector<int64_t> d;
  for (const auto& m : mats) d.push_back(m.size(1));
  return d;
}

Features Features::select(const std::vector<int64_t>& rows) const {
  Features f;
  f.kind = kind;
  auto idx = torch::tensor(rows, torch::kLong);
  for (const auto& m : mats) f.mats.push_back(m.index_select(0, idx));
  return f;
}

namespace {

io::DType io_dtype(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat64) return io::DType::F64;
  return io::DType::F32;
}

torch::Tensor from_view(const io::TensorView& v, const std::string& path) {
  BREADTH_CHECK_FORMAT(v.shape.size() == 2, "{}: tensor '{}' must be 2-D [queries, dim]", path, v.name);
  torch::ScalarType st;
  switch (v.dtype) {
    case io::DType::F32: st = torch::kFloat32; break;
    case io::DType::F64: st = torch::kFloat64; break;
    case io::DType::F16: st = torch::kFloat16; break;
    case io::DType::BF16: st = torch::kBFloat16; break;
    default: fail<FormatError>("{}: tensor '{}' must be floating point", path, v.name);
  }
  auto t = torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, st).clone();
  return t.to(torch::kFloat32);
}

}  // namespace

void save_features_file(const std::string& path, const Features& f,
                        const std::vector<std::string>& query_ids, const std::vector<std::string>& pool) {
  BREADTH_CHECK_ARG(!f.mats.empty(), "save_features_file: no features");
  BREADTH_CHECK_ARG(f.kind == FeatureKind::kAgnostic ? f.mats.size() == 1 : f.mats.size() == pool.size(),
                    "save_features_file: {} features need {} matrices, got {}", feature_kind_name(f.kind),
                    f.kind == FeatureKind::kAgnostic ? size_t{1} : pool.size(), f.mats.size());
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorToWrite> out;
  for (size_t i = 0; i < f.mats.size(); ++i) {
    auto m = f.mats[i].to(torch::kCPU).contiguous();
    if (m.scalar_type() != torch::kFloat64) m = m.to(torch::kFloat32);
    BREADTH_CHECK_ARG(m.dim() == 2 && m.size(0) == static_cast<int64_t>(query_ids.size()),
                      "save_features_file: matrix {} has {} rows for {} query ids", i, m.size(0),
                      query_ids.size());
    keep.push_back(m);
    std::string name = f.kind == FeatureKind::kAgnostic ? "agnostic" : "specific/" + pool[i];
    out.push_back({name, io_dtype(m), {m.size(0), m.size(1)}, m.data_ptr(),
                   static_cast<uint64_t>(m.numel() * m.element_size())});
  }
  io::write_safetensors(path, out, {{"query_ids", nlohmann::json(query_ids).dump()}});
}

Features load_features_file(const std::string& path, FeatureKind kind,
                            const std::vector<std::string>& query_ids,
                            const std::vector<std::string>& pool) {
  io::SafetensorsFile file(path);
  auto it = file.metadata().find("query_ids");
  BREADTH_CHECK_FORMAT(it != file.metadata().end(),
                       "{}: no \"query_ids\" metadata (a JSON array naming each row's query)", path);
  std::vector<std::string> ids;
  try {
    ids = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    fail<FormatError>("{}: \"query_ids\" metadata must be a JSON array of strings", path);
  }
  std::unordered_map<std::string, int64_t> row_of;
  for (size_t i = 0; i < ids.size(); ++i) row_of.emplace(ids[i], static_cast<int64_t>(i));
  std::vector<int64_t> rows;
  for (const auto& q : query_ids) {
    auto r = row_of.find(q);
    BREADTH_CHECK_ARG(r != row_of.end(), "{}: has no features for query '{}'", path, q);
    rows.push_back(r->second);
  }
  auto idx = torch::tensor(rows, torch::kLong);
  Features f;
  f.kind = kind;
  auto take = [&](const std::string& name) {
    const io::TensorView* v = file.find(name);
    BREADTH_CHECK_ARG(v != nullptr, "{}: no tensor '{}' ({} features{})", path, name,
                      feature_kind_name(kind),
                      kind == FeatureKind::kSpecific ? " need one 'specific/<model>' per pool model" : "");
    auto t = from_view(*v, path);
    BREADTH_CHECK_FORMAT(t.size(0) == static_cast<int64_t>(ids.size()),
                         "{}: tensor '{}' has {} rows but query_ids names {}", path, name, t.size(0),
                         ids.size());
    f.mats.push_back(t.index_select(0, idx));
  };
  if (kind == FeatureKind::kAgnostic) {
    take("agnostic");
  } else {
    for (const auto& m : pool) take("specific/" + m);
  }
  return f;
}

}  // namespace breadth
