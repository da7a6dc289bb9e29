#include "model/gguf_model.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <regex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/check.hpp"
#include "io/dequant.hpp"
#include "io/gguf.hpp"
#include "model/arch.hpp"
#include "model/decoder.hpp"
#include "model/weights.hpp"

namespace breadth::model {

namespace {

// general.architecture -> the transformers class with the same computation.
const std::map<std::string, std::string>& gguf_architectures() {
  static const std::map<std::string, std::string> kMap = {
      {"llama", "LlamaForCausalLM"},   {"qwen2", "Qwen2ForCausalLM"},
      {"qwen3", "Qwen3ForCausalLM"},   {"gemma2", "Gemma2ForCausalLM"},
      {"gemma3", "Gemma3ForCausalLM"}, {"olmo2", "Olmo2ForCausalLM"},
      {"phi3", "Phi3ForCausalLM"},
  };
  return kMap;
}

// llama.cpp tensor names (per block, after "blk.N.") -> Hugging Face names (after "model.layers.N."),
// as llama.cpp's converter (gguf-py's tensor_mapping) maps them for `arch`.
std::map<std::string, std::string> block_names(const std::string& arch) {
  const bool gemma = arch == "gemma2" || arch == "gemma3";
  std::map<std::string, std::string> m = {
      {"attn_norm", "input_layernorm"},
      // Llama-like: the norm before the MLP; Gemma: the third of its four norms.
      {"ffn_norm", gemma ? "pre_feedforward_layernorm" : "post_attention_layernorm"},
      {"post_attention_norm", "post_attention_layernorm"},
      {"post_ffw_norm", "post_feedforward_layernorm"},
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_qkv", "self_attn.qkv_proj"},  // Phi-3's fused projection
      {"attn_output", "self_attn.o_proj"},
      {"attn_q_norm", "self_attn.q_norm"},
      {"attn_k_norm", "self_attn.k_norm"},
      {"ffn_gate", "mlp.gate_proj"},
      // Phi-3 keeps gate and up fused in ffn_up ([2 x ff, hidden], gate first).
      {"ffn_up", arch == "phi3" ? "mlp.gate_up_proj" : "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  return m;
}

std::string join_keys(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// Rows of a block-quantized GGUF tensor, decoded from the mapped file when asked for. Holding the file
// keeps the mapping; only the pages of rows read become resident.
class GgufRows final : public EncodedRows {
 public:
  GgufRows(std::shared_ptr<const io::GgufFile> file, const io::GgufTensorInfo& t)
      : file_(std::move(file)), data_(t.data), type_(t.type), rows_(t.shape[1]), cols_(t.shape[0]) {
    const io::GgmlBlockInfo b = io::ggml_block_info(type_);
    blocks_ = cols_ / b.block_elems;
    row_bytes_ = blocks_ * b.block_bytes;
  }
  int64_t rows() const override { return rows_; }
  int64_t cols() const override { return cols_; }
  void decode(const int64_t* ids, int64_t n, float* out) const override {
    for (int64_t i = 0; i < n; ++i) {
      BREADTH_CHECK_ARG(ids[i] >= 0 && ids[i] < rows_, "token id {} is outside the vocabulary [0, {})",
                        ids[i], rows_);
      io::dequantize_blocks(type_, data_ + ids[i] * row_bytes_, out + i * cols_, blocks_);
    }
  }

 private:
  std::shared_ptr<const io::GgufFile> file_;
  const uint8_t* data_;
  io::GgmlType type_;
  int64_t rows_, cols_, blocks_ = 0, row_bytes_ = 0;
};

class GgufSource : public WeightSource {
 public:
  GgufSource(std::shared_ptr<const io::GgufFile> file_ptr, const std::string& arch, bool permute_qk,
             int64_t heads, int64_t kv_heads)
      : keep_(std::move(file_ptr)), file_(*keep_), permute_qk_(permute_qk), heads_(heads),
        kv_heads_(kv_heads) {
    const io::GgufFile& file = file_;
    static const std::regex kBlock(R"(blk\.(\d+)\.([a-z_0-9]+)\.(weight|bias))");
    const auto block = block_names(arch);
    for (const auto& t : file.tensors()) {
      std::smatch m;
      std::string hf;
      if (t.name == "token_embd.weight") hf = "model.embed_tokens.weight";
      else if (t.name == "output_norm.weight") hf = "model.norm.weight";
      else if (t.name == "output.weight") hf = "lm_head.weight";
      else if (std::regex_match(t.name, m, kBlock)) {
        auto it = block.find(m[2].str());
        if (it == block.end()) continue;  // unknown extras are ignored, as transformers does
        hf = "model.layers." + m[1].str() + "." + it->second + "." + m[3].str();
      } else {
        continue;
      }
      names_[hf] = &t;
    }
  }

  bool has(const std::string& name) const override { return names_.count(name) > 0; }

  std::vector<int64_t> shape(const std::string& name) const override {
    const auto& s = info(name).shape;
    return std::vector<int64_t>(s.rbegin(), s.rend());  // ggml lists the fastest dimension first
  }

  torch::Tensor load(const std::string& name, torch::ScalarType dtype) const override {
    const io::GgufTensorInfo& t = info(name);
    auto out = torch::empty(shape(name), torch::kFloat32);
    file_.dequantize(t, out.data_ptr<float>());
    return rows_as_hf(name, out).to(dtype);
  }

  std::optional<GroupQuantized> load_grouped(const std::string& name) const override {
    const io::GgufTensorInfo& t = info(name);
    const int bits = io::ggml_group_bits(t.type);
    if (bits == 0 || t.shape.size() != 2) return std::nullopt;
    const int64_t n = t.shape[1], k = t.shape[0];
    GroupQuantized g;
    g.bits = bits;
    g.group = io::ggml_group_elems(t.type);
    const int64_t groups = k / g.group, supers = k / io::kGroupSuperElems;
    g.q = torch::empty({n, k}, bits == 8 ? torch::kInt8 : torch::kUInt8);
    g.scale = torch::empty({n, groups}, torch::kFloat32);
    g.offset = torch::empty({n, groups}, torch::kFloat32);
    const auto factoring = io::ggml_group_factoring(t.type);
    io::GroupFactors f;
    if (factoring != io::GroupFactoring::kNone) {
      g.super_scale = torch::empty({n, supers}, torch::kFloat32);
      g.super_offset = torch::empty({n, supers}, torch::kFloat32);
      g.sub_scale = torch::empty({n, groups}, torch::kInt8);
      f = {g.super_scale.data_ptr<float>(), g.super_offset.data_ptr<float>(), g.sub_scale.data_ptr<int8_t>()};
      if (factoring == io::GroupFactoring::kSeparate) {
        g.sub_offset = torch::empty({n, groups}, torch::kInt8);
        f.sub_offset = g.sub_offset.data_ptr<int8_t>();
      }
    }
    io::split_groups(t.type, t.data, t.numel(), static_cast<uint8_t*>(g.q.data_ptr()), g.scale.data_ptr<float>(),
                     g.offset.data_ptr<float>(), factoring != io::GroupFactoring::kNone ? &f : nullptr);
    for (torch::Tensor* v : {&g.q, &g.scale, &g.offset, &g.super_scale, &g.super_offset, &g.sub_scale, &g.sub_offset})
      if (v->defined()) *v = rows_as_hf(name, *v);
    return g;
  }

  std::shared_ptr<const EncodedRows> encoded_rows(const std::string& name) const override {
    const io::GgufTensorInfo& t = info(name);
    if (t.shape.size() != 2 || !io::ggml_can_dequantize(t.type) ||
        io::ggml_block_info(t.type).block_elems == 1)
      return nullptr;
    return std::make_shared<GgufRows>(keep_, t);
  }

  std::string describe(const std::string& name) const override {
    auto it = names_.find(name);
    if (it == names_.end()) return "tensor '" + name + "' (file " + file_.path() + ")";
    return "tensor '" + it->second->name + "' (" + name + ", file " + file_.path() + ")";
  }

  const std::string& origin() const override { return file_.path(); }

 private:
  // llama.cpp's converter reorders each head's q/k rows for its interleaved rotary layout: HF's
  // rows (half, i) of a head are stored as (i, half). transformers' GGUF loader swaps them back
  // (reshape [heads, d/2, 2, ...], swap axes 1 and 2), and so do we.
  static torch::Tensor unpermute(const torch::Tensor& w, int64_t n_head) {
    const int64_t rows = w.size(0);
    BREADTH_CHECK_FORMAT(rows % (2 * n_head) == 0,
                         "GGUF q/k projection has {} rows, not a multiple of 2 x {} heads", rows,
                         n_head);
    auto rest = w.sizes().slice(1).vec();
    std::vector<int64_t> shape = {n_head, rows / n_head / 2, 2};
    shape.insert(shape.end(), rest.begin(), rest.end());
    return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
  }

  // q/k rows back in Hugging Face's order (any tensor whose rows are the weight's rows).
  torch::Tensor rows_as_hf(const std::string& name, const torch::Tensor& rows) const {
    const bool is_q = name.find("self_attn.q_proj.") != std::string::npos;
    const bool is_k = name.find("self_attn.k_proj.") != std::string::npos;
    if (permute_qk_ && (is_q || is_k)) return unpermute(rows, is_q ? heads_ : kv_heads_);
    return rows;
  }

  const io::GgufTensorInfo& info(const std::string& name) const {
    auto it = names_.find(name);
    if (it == names_.end()) fail<FormatError>("GGUF file '{}' has no tensor for '{}'", file_.path(), name);
    return *it->second;
  }

  std::shared_ptr<const io::GgufFile> keep_;
  const io::GgufFile& file_;
  bool permute_qk_;
  int64_t heads_, kv_heads_;
  std::map<std::string, const io::GgufTensorInfo*> names_;
};

}  // namespace

std::shared_ptr<CausalLM> load_gguf_model(const std::string& path, const ModelOptions& options) {
  validate_options(options);
  auto file_ptr = std::make_shared<const io::GgufFile>(path);
  const io::GgufFile& file = *file_ptr;
  const std::string arch = file.architecture();
  auto known = gguf_architectures().find(arch);
  if (known == gguf_architectures().end())
    fail<Unsupported>("GGUF file '{}': architecture '{}' is not supported (supported: {})", path,
                      arch, join_keys(gguf_architectures()));
  auto key = [&](const char* k) { return arch + "." + k; };

  // The metadata, phrased as the config.json transformers' GGUF loader would write, so that the
  // family switches are decided in one place (parse_hf_config).
  nlohmann::json c;
  c["architectures"] = {known->second};
  const io::GgufTensorInfo& embd = file.at("token_embd.weight");
  BREADTH_CHECK_FORMAT(embd.shape.size() == 2, "GGUF file '{}': token_embd.weight must be 2-D", path);
  c["vocab_size"] = embd.shape[1];
  c["hidden_size"] = file.get_int(key("embedding_length"));
  c["intermediate_size"] = file.get_int(key("feed_forward_length"));
  c["num_hidden_layers"] = file.get_int(key("block_count"));
  const int64_t heads = file.get_int(key("attention.head_count"));
  const int64_t kv_heads = file.get_int(key("attention.head_count_kv"), heads);
  c["num_attention_heads"] = heads;
  c["num_key_value_heads"] = kv_heads;
  const int64_t hidden = c["hidden_size"].get<int64_t>();
  const int64_t layers = c["num_hidden_layers"].get<int64_t>();
  const bool gemma = arch == "gemma2" || arch == "gemma3";
  const auto rope_dims = file.find_int(key("rope.dimension_count"));
  if (auto hd = file.find_int(key("attention.key_length"))) c["head_dim"] = *hd;
  else if (rope_dims && arch != "phi3") c["head_dim"] = *rope_dims;
  if (arch == "phi3" && rope_dims && heads > 0 && hidden % heads == 0 && *rope_dims != hidden / heads) {
    // Phi-3's converter writes rope.dimension_count = int(partial_rotary_factor x hidden) / heads.
    c["partial_rotary_factor"] = static_cast<double>(*rope_dims) / static_cast<double>(hidden / heads);
  }
  c["max_position_embeddings"] = file.get_int(key("context_length"), 0);
  c["rms_norm_eps"] = file.get_float(key("attention.layer_norm_rms_epsilon"), 1e-6);
  c["rope_theta"] = file.get_float(key("rope.freq_base"), gemma && arch == "gemma3" ? 1e6 : 10000.0);
  c["tie_word_embeddings"] = file.find("output.weight") == nullptr;
  // No key, or 0 (Phi-4 writes it for "none"): no sliding window (not Gemma-3's config default).
  const auto window = file.find_int(key("attention.sliding_window"));
  c["sliding_window"] = window && *window > 0 ? *window : 0;
  if (auto orig = file.find_int(key("rope.scaling.original_context_length")))
    c["original_max_position_embeddings"] = *orig;
  if (gemma) {
    c["hidden_activation"] = "gelu_pytorch_tanh";
    // llama.cpp's attention scale: 1/sqrt(hidden/heads) for the 27B models (46 layers for Gemma-2,
    // 62 for Gemma-3), 1/sqrt(head_dim) otherwise; transformers has it as query_pre_attn_scalar.
    const bool big = (arch == "gemma2" && layers == 46) || (arch == "gemma3" && layers == 62);
    const int64_t head_dim = c.contains("head_dim") ? c["head_dim"].get<int64_t>() : hidden / heads;
    c["query_pre_attn_scalar"] = big ? hidden / heads : head_dim;
    if (auto cap = file.find_float(key("attn_logit_softcapping"))) c["attn_logit_softcapping"] = *cap;
    if (auto cap = file.find_float(key("final_logit_softcapping"))) c["final_logit_softcapping"] = *cap;
    // Local layers' base: 10000 in llama.cpp unless the file says otherwise.
    if (arch == "gemma3") c["rope_local_base_freq"] = file.get_float(key("rope.freq_base_swa"), 10000.0);
    if (auto pattern = file.find_int(key("attention.sliding_window_pattern")))
      c["sliding_window_pattern"] = *pattern;
  }
  const std::string scaling = file.get_string(key("rope.scaling.type"), "none");
  if (scaling == "linear") {
    c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", file.get_float(key("rope.scaling.factor"))}};
  } else if (scaling == "yarn") {
    nlohmann::json y = {{"rope_type", "yarn"}, {"factor", file.get_float(key("rope.scaling.factor"))}};
    if (auto orig = file.find_int(key("rope.scaling.original_context_length")))
      y["original_max_position_embeddings"] = *orig;
    if (auto b = file.find_float(key("rope.scaling.yarn_beta_fast"))) y["beta_fast"] = *b;
    if (auto b = file.find_float(key("rope.scaling.yarn_beta_slow"))) y["beta_slow"] = *b;
    c["rope_scaling"] = y;
  } else if (scaling != "none") {
    fail<Unsupported>("GGUF file '{}': rope scaling '{}' is not supported (none, linear, yarn)", path,
                      scaling);
  }
  const auto* long_f = file.find("rope_factors_long.weight");
  const auto* short_f = file.find("rope_factors_short.weight");
  if (long_f || short_f) {
    // Phi-3's LongRoPE, stored as two tensors by its converter.
    BREADTH_CHECK_FORMAT(long_f && short_f,
                         "GGUF file '{}': LongRoPE needs both rope_factors_long and rope_factors_short",
                         path);
    auto read = [&](const io::GgufTensorInfo& t) {
      std::vector<float> v(static_cast<size_t>(t.numel()));
      file.dequantize(t, v.data());
      return std::vector<double>(v.begin(), v.end());
    };
    c["rope_scaling"] = {{"rope_type", "longrope"}, {"long_factor", read(*long_f)},
                         {"short_factor", read(*short_f)}};
  }
  if (arch == "qwen2" && file.find("blk.0.attn_q.bias") == nullptr)
    fail<FormatError>("GGUF file '{}': a qwen2 model needs q/k/v biases (blk.0.attn_q.bias)", path);

  ArchConfig a = parse_hf_config(c, path);
  // llama.cpp's converter stores Gemma's norm weights as 1 + w already.
  if (gemma) a.norm_add_one = false;
  if (const auto* f = file.find("rope_freqs.weight")) {
    std::vector<float> factors(static_cast<size_t>(f->numel()));
    file.dequantize(*f, factors.data());
    a.rope.freq_factors = factors;
    a.rope_local.freq_factors = factors;
  }
  // llama.cpp permutes q/k rows only for its "llama" graph (Llama, Mistral, SmolLM2, ...); the
  // others rotate halves as transformers does.
  GgufSource src(file_ptr, arch, arch == "llama", a.pub.num_heads, a.pub.num_kv_heads);
  auto model = make_decoder(std::move(a), src, options, path);
  // Every weight is copied out by now; a decoder that keeps the file (a quantized embedding table,
  // read a few rows per step) should not count the pages loading read as its own.
  file.release_pages();
#if defined(__GLIBC__)
  // Packing goes through large transient expansions (integers as int32, per-half copies); glibc
  // keeps freed heap memory mapped unless asked, which would count as the model's own.
  malloc_trim(0);
#endif
  return model;
}

}  // namespace breadth::model
