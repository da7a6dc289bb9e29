#include "model/weights.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "core/check.hpp"
#include "core/files.hpp"
#include "io/safetensors.hpp"

namespace breadth::model {

torch::Tensor GroupQuantized::dequantize() const {
  const int64_t n = q.size(0), k = q.size(1);
  auto qf = q.to(torch::kFloat32).reshape({n, k / group, group});
  return (qf * scale.unsqueeze(-1) + offset.unsqueeze(-1)).reshape({n, k});
}

std::optional<GroupQuantized> cat_rows(const std::vector<GroupQuantized>& parts) {
  if (parts.empty()) return std::nullopt;
  if (parts.size() == 1) return parts[0];
  // Parts in different forms (a Q4_K_M file's Q4_K q/k beside a Q6_K v) meet in the widest: more
  // bits hold fewer (8 bits as int8, which holds every code below 8 bits), a scale per 32 becomes
  // the same scale for both of its 16s. Lossless.
  int bits = 0;
  int64_t group = 32;
  bool factored = true, shared = true;
  for (const auto& p : parts) {
    if (p.q.size(1) != parts[0].q.size(1)) return std::nullopt;
    bits = std::max(bits, p.bits);
    group = std::min(group, p.group);
    factored = factored && p.factored();
    shared = shared && !p.sub_offset.defined();
  }
  std::vector<torch::Tensor> q, scale, offset, super_scale, super_offset, sub_scale, sub_offset;
  for (const auto& p : parts) {
    const int64_t repeat = p.group / group;
    auto per_group = [&](const torch::Tensor& t) { return repeat == 1 ? t : t.repeat_interleave(repeat, 1); };
    q.push_back(bits == 8 ? p.q.to(torch::kInt8) : p.q);
    scale.push_back(per_group(p.scale));
    offset.push_back(per_group(p.offset));
    if (!factored) continue;
    super_scale.push_back(p.super_scale);
    super_offset.push_back(p.super_offset);
    sub_scale.push_back(per_group(p.sub_scale));
    if (!shared) sub_offset.push_back(per_group(p.sub_offset.defined() ? p.sub_offset : p.sub_scale));
  }
  GroupQuantized out;
  out.bits = bits;
  out.group = group;
  out.q = torch::cat(q);
  out.scale = torch::cat(scale);
  out.offset = torch::cat(offset);
  if (factored) {
    out.super_scale = torch::cat(super_scale);
    out.super_offset = torch::cat(super_offset);
    out.sub_scale = torch::cat(sub_scale);
    if (!shared) out.sub_offset = torch::cat(sub_offset);
  }
  return out;
}

namespace {

torch::ScalarType torch_dtype(io::DType d, const std::string& what) {
  switch (d) {
    case io::DType::F64: return torch::kFloat64;
    case io::DType::F32: return torch::kFloat32;
    case io::DType::F16: return torch::kFloat16;
    case io::DType::BF16: return torch::kBFloat16;
    default:
      fail<Unsupported>("{} has dtype {}; model weights must be F64, F32, F16 or BF16", what,
                        io::dtype_name(d));
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class SafetensorsSource : public WeightSource {
 public:
  explicit SafetensorsSource(const std::string& dir) : dir_(dir) {
    const std::string index = files::join(dir, "model.safetensors.index.json");
    const std::string single = files::join(dir, "model.safetensors");
    if (files::exists(index)) {
      std::ifstream in(index);
      if (!in) fail<IoError>("cannot read '{}'", index);
      nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
      BREADTH_CHECK_FORMAT(!j.is_discarded() && j.is_object() && j.contains("weight_map") &&
                               j["weight_map"].is_object(),
                           "'{}' is not a valid safetensors index (needs a 'weight_map' object)",
                           index);
      std::map<std::string, size_t> file_index;
      for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        BREADTH_CHECK_FORMAT(it.value().is_string(), "'{}': weight_map entry '{}' is not a file name",
                             index, it.key());
        std::string shard = it.value().get<std::string>();
        BREADTH_CHECK_FORMAT(shard.find("..") == std::string::npos && !shard.empty() && shard[0] != '/',
                             "'{}': shard name '{}' must be a file inside the directory",
                             index, shard);
        auto f = file_index.find(shard);
        if (f == file_index.end()) {
          files_.push_back(std::make_unique<io::SafetensorsFile>(files::join(dir, shard)));
          f = file_index.emplace(shard, files_.size() - 1).first;
        }
        where_[it.key()] = f->second;
      }
      // The index must not promise tensors its shards lack.
      for (const auto& [name, fi] : where_) {
        BREADTH_CHECK_FORMAT(files_[fi]->find(name) != nullptr,
                             "'{}' lists tensor '{}' in shard '{}', which does not contain it",
                             index, name, files_[fi]->path());
      }
    } else if (files::exists(single)) {
      files_.push_back(std::make_unique<io::SafetensorsFile>(single));
      for (const auto& [name, view] : files_[0]->tensors()) where_[name] = 0;
    } else if (files::exists(files::join(dir, "pytorch_model.bin")) ||
               files::exists(files::join(dir, "pytorch_model.bin.index.json"))) {
      fail<Unsupported>("'{}' holds PyTorch pickle weights (pytorch_model.bin); breadth reads only "
                        "safetensors. Convert with transformers: "
                        "model.save_pretrained(dir, safe_serialization=True)",
                        dir);
    } else {
      fail<IoError>("'{}' has no model.safetensors or model.safetensors.index.json", dir);
    }
  }

  bool has(const std::string& name) const override { return where_.count(name) > 0; }

  std::vector<int64_t> shape(const std::string& name) const override { return view(name).shape; }

  torch::Tensor load(const std::string& name, torch::ScalarType dtype) const override {
    const io::TensorView& v = view(name);
    auto src_type = torch_dtype(v.dtype, describe(name));
    // The mapping is read-only and outlives this call; the copy below is the only access.
    auto raw = torch::from_blob(const_cast<uint8_t*>(v.data), v.shape,
                                torch::TensorOptions().dtype(src_type));
    return raw.to(dtype, /*non_blocking=*/false, /*copy=*/true).contiguous();
  }

  std::string describe(const std::string& name) const override {
    auto it = where_.find(name);
    if (it == where_.end()) return "tensor '" + name + "' (checkpoint " + dir_ + ")";
    return "tensor '" + name + "' (file " + files_[it->second]->path() + ")";
  }

  const std::string& origin() const override { return dir_; }

 private:
  const io::TensorView& view(const std::string& name) const {
    auto it = where_.find(name);
    if (it == where_.end())
      fail<FormatError>("checkpoint '{}' has no tensor '{}'", dir_, name);
    return files_[it->second]->at(name);
  }

  std::string dir_;
  std::vector<std::unique_ptr<io::SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
};

class TextTowerSource : public WeightSource {
 public:
  explicit TextTowerSource(const WeightSource& inner) : inner_(inner) {
    for (const char* pre : {"model.language_model.", "language_model.model."}) {
      if (inner.has(std::string(pre) + "embed_tokens.weight")) prefix_ = pre;
    }
    if (prefix_.empty())
      fail<FormatError>("checkpoint '{}' is multimodal but has no text tower (neither "
                        "'model.language_model.embed_tokens.weight' nor "
                        "'language_model.model.embed_tokens.weight')",
                        inner.origin());
    head_ = inner.has("language_model.lm_head.weight") ? "language_model.lm_head.weight" : "lm_head.weight";
  }
  bool has(const std::string& name) const override { return inner_.has(map(name)); }
  std::vector<int64_t> shape(const std::string& name) const override { return inner_.shape(map(name)); }
  torch::Tensor load(const std::string& name, torch::ScalarType dtype) const override {
    return inner_.load(map(name), dtype);
  }
  std::string describe(const std::string& name) const override { return inner_.describe(map(name)); }
  const std::string& origin() const override { return inner_.origin(); }

 private:
  std::string map(const std::string& name) const {
    if (name == "lm_head.weight") return head_;
    if (name.rfind("model.", 0) == 0) return prefix_ + name.substr(6);
    return name;
  }
  const WeightSource& inner_;
  std::string prefix_, head_;
};

class BaseModelSource : public WeightSource {
 public:
  explicit BaseModelSource(const WeightSource& inner)
      : inner_(inner), strip_(!inner.has("model.embed_tokens.weight")) {}
  bool has(const std::string& name) const override { return inner_.has(map(name)); }
  std::vector<int64_t> shape(const std::string& name) const override { return inner_.shape(map(name)); }
  torch::Tensor load(const std::string& name, torch::ScalarType dtype) const override {
    return inner_.load(map(name), dtype);
  }
  std::string describe(const std::string& name) const override { return inner_.describe(map(name)); }
  const std::string& origin() const override { return inner_.origin(); }

 private:
  std::string map(const std::string& name) const {
    return strip_ && name.rfind("model.", 0) == 0 ? name.substr(6) : name;
  }
  const WeightSource& inner_;
  bool strip_;
};

}  // namespace

std::unique_ptr<WeightSource> base_model_source(const WeightSource& inner) {
  return std::make_unique<BaseModelSource>(inner);
}

std::unique_ptr<WeightSource> text_tower_source(const WeightSource& inner) {
  return std::make_unique<TextTowerSource>(inner);
}

std::unique_ptr<WeightSource> open_safetensors_dir(const std::string& dir) {
  return std::make_unique<SafetensorsSource>(dir);
}

torch::Tensor load_checked(const WeightSource& src, const std::string& name,
                           const std::vector<int64_t>& expected, torch::ScalarType dtype) {
  if (!src.has(name))
    fail<FormatError>("checkpoint '{}' is missing tensor '{}'; the file is incomplete or belongs to "
                      "another architecture",
                      src.origin(), name);
  auto got = src.shape(name);
  if (got != expected)
    fail<FormatError>("{} has shape {} but the config implies {}; config.json and the weights "
                      "disagree",
                      src.describe(name), shape_str(got), shape_str(expected));
  return src.load(name, dtype);
}

}  // namespace breadth::model
