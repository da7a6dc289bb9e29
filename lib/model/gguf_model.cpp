#include "model/gguf_model.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <regex>

#include "core/check.hpp"
#include "io/gguf.hpp"
#include "model/arch.hpp"
#include "model/decoder.hpp"
#include "model/weights.hpp"

namespace breadth::model {

namespace {

// general.architecture -> the transformers class with the same computation.
const std::map<std::string, std::string>& gguf_architectures() {
  static const std::map<std::string, std::string> kMap = {
      {"llama", "LlamaForCausalLM"},
      {"qwen2", "Qwen2ForCausalLM"},
      {"qwen3", "Qwen3ForCausalLM"},
  };
  return kMap;
}

// llama.cpp tensor names (per block, after "blk.N.") -> Hugging Face names (after "model.layers.N.").
const std::map<std::string, std::string>& block_names() {
  static const std::map<std::string, std::string> kMap = {
      {"attn_norm", "input_layernorm"},
      {"ffn_norm", "post_attention_layernorm"},
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},
      {"attn_q_norm", "self_attn.q_norm"},
      {"attn_k_norm", "self_attn.k_norm"},
      {"ffn_gate", "mlp.gate_proj"},
      {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  return kMap;
}

std::string join_keys(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k;
  return out;
}

class GgufSource : public WeightSource {
 public:
  GgufSource(const io::GgufFile& file, bool permute_qk, int64_t heads, int64_t kv_heads)
      : file_(file), permute_qk_(permute_qk), heads_(heads), kv_heads_(kv_heads) {
    static const std::regex kBlock(R"(blk\.(\d+)\.([a-z_0-9]+)\.(weight|bias))");
    for (const auto& t : file.tensors()) {
      std::smatch m;
      std::string hf;
      if (t.name == "token_embd.weight") hf = "model.embed_tokens.weight";
      else if (t.name == "output_norm.weight") hf = "model.norm.weight";
      else if (t.name == "output.weight") hf = "lm_head.weight";
      else if (std::regex_match(t.name, m, kBlock)) {
        auto it = block_names().find(m[2].str());
        if (it == block_names().end()) continue;  // unknown extras are ignored, as transformers does
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
    const bool is_q = name.find("self_attn.q_proj.") != std::string::npos;
    const bool is_k = name.find("self_attn.k_proj.") != std::string::npos;
    if (permute_qk_ && (is_q || is_k)) out = unpermute(out, is_q ? heads_ : kv_heads_);
    return out.to(dtype);
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

  const io::GgufTensorInfo& info(const std::string& name) const {
    auto it = names_.find(name);
    if (it == names_.end()) fail<FormatError>("GGUF file '{}' has no tensor for '{}'", file_.path(), name);
    return *it->second;
  }

  const io::GgufFile& file_;
  bool permute_qk_;
  int64_t heads_, kv_heads_;
  std::map<std::string, const io::GgufTensorInfo*> names_;
};

}  // namespace

std::shared_ptr<CausalLM> load_gguf_model(const std::string& path, const ModelOptions& options) {
  validate_options(options);
  io::GgufFile file(path);
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
  if (auto hd = file.find_int(key("attention.key_length"))) c["head_dim"] = *hd;
  else if (auto rd = file.find_int(key("rope.dimension_count"))) c["head_dim"] = *rd;
  c["max_position_embeddings"] = file.get_int(key("context_length"), 0);
  c["rms_norm_eps"] = file.get_float(key("attention.layer_norm_rms_epsilon"), 1e-6);
  c["rope_theta"] = file.get_float(key("rope.freq_base"), 10000.0);
  c["tie_word_embeddings"] = file.find("output.weight") == nullptr;
  const std::string scaling = file.get_string(key("rope.scaling.type"), "none");
  if (scaling == "linear") {
    c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", file.get_float(key("rope.scaling.factor"))}};
  } else if (scaling != "none") {
    fail<Unsupported>("GGUF file '{}': rope scaling '{}' is not supported (none, linear)", path, scaling);
  }
  if (arch == "qwen2" && file.find("blk.0.attn_q.bias") == nullptr)
    fail<FormatError>("GGUF file '{}': a qwen2 model needs q/k/v biases (blk.0.attn_q.bias)", path);

  ArchConfig a = parse_hf_config(c, path);
  if (const auto* f = file.find("rope_freqs.weight")) {
    std::vector<float> factors(static_cast<size_t>(f->numel()));
    file.dequantize(*f, factors.data());
    a.rope.freq_factors = factors;
    a.rope_local.freq_factors = factors;
  }
  // llama.cpp permutes q/k rows only for its "llama" graph (Llama, Mistral, SmolLM2, ...).
  GgufSource src(file, arch == "llama", a.pub.num_heads, a.pub.num_kv_heads);
  return make_decoder(std::move(a), src, options, path);
}

}  // namespace breadth::model
