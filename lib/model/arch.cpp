#include "model/arch.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/check.hpp"

namespace breadth::model {

using nlohmann::json;

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> kArchs = {
      "LlamaForCausalLM",   "LlamaForSequenceClassification",
      "MistralForCausalLM", "MistralForSequenceClassification",
      "Qwen2ForCausalLM",   "Qwen2ForSequenceClassification",
      "Qwen3ForCausalLM",   "Qwen3ForSequenceClassification",
      "Olmo2ForCausalLM",   "Gemma2ForCausalLM",
      "Gemma2ForSequenceClassification", "Gemma3ForCausalLM",
      "Gemma3ForConditionalGeneration", "Phi3ForCausalLM"};
  return kArchs;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Optional fields: absent and null both mean "use the default".
bool present(const json& j, const char* key) { return j.contains(key) && !j.at(key).is_null(); }

int64_t get_int(const json& j, const char* key, const std::string& where) {
  BREADTH_CHECK_FORMAT(present(j, key) && j.at(key).is_number_integer(),
                       "{}: required integer field '{}' is missing or not an integer", where, key);
  return j.at(key).get<int64_t>();
}

int64_t get_int_or(const json& j, const char* key, int64_t fallback, const std::string& where) {
  if (!present(j, key)) return fallback;
  BREADTH_CHECK_FORMAT(j.at(key).is_number_integer(), "{}: field '{}' must be an integer", where, key);
  return j.at(key).get<int64_t>();
}

double get_num_or(const json& j, const char* key, double fallback, const std::string& where) {
  if (!present(j, key)) return fallback;
  BREADTH_CHECK_FORMAT(j.at(key).is_number(), "{}: field '{}' must be a number", where, key);
  return j.at(key).get<double>();
}

bool get_bool_or(const json& j, const char* key, bool fallback, const std::string& where) {
  if (!present(j, key)) return fallback;
  BREADTH_CHECK_FORMAT(j.at(key).is_boolean(), "{}: field '{}' must be true or false", where, key);
  return j.at(key).get<bool>();
}

std::vector<double> get_factor_list(const json& d, const char* key, const std::string& where) {
  BREADTH_CHECK_FORMAT(present(d, key) && d.at(key).is_array(),
                       "{}: longrope needs a '{}' list", where, key);
  std::vector<double> out;
  for (const auto& v : d.at(key)) {
    BREADTH_CHECK_FORMAT(v.is_number(), "{}: '{}' must hold numbers", where, key);
    out.push_back(v.get<double>());
  }
  return out;
}

// One rope dictionary: new style {"rope_type", "rope_theta", ...} or legacy rope_scaling {"type", ...}.
// `top` is the whole (text) config: transformers' standardization takes max_position_embeddings and a
// top-level original_max_position_embeddings (Phi-3 keeps it there) from it.
RopeSpec parse_rope_dict(const json& d, double theta, const json& top, const std::string& family,
                         const std::string& where) {
  BREADTH_CHECK_FORMAT(d.is_object(), "{}: a rope dictionary must be a JSON object", where);
  RopeSpec r;
  r.theta = get_num_or(d, "rope_theta", theta, where);
  std::string type = "default";
  if (present(d, "rope_type")) type = d.at("rope_type").get<std::string>();
  else if (present(d, "type")) type = d.at("type").get<std::string>();
  static const char* kTypes[] = {"default", "linear", "llama3", "yarn", "dynamic", "longrope"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
    fail<Unsupported>("{}: rope type '{}' is not supported (supported: default, linear, llama3, yarn, "
                      "dynamic, longrope)",
                      where, type);
  r.type = type;
  r.partial_rotary_factor =
      get_num_or(d, "partial_rotary_factor", get_num_or(top, "partial_rotary_factor", 1.0, where), where);
  BREADTH_CHECK_FORMAT(r.partial_rotary_factor > 0 && r.partial_rotary_factor <= 1,
                       "{}: partial_rotary_factor must lie in (0, 1]", where);
  if (r.partial_rotary_factor != 1.0 && family != "phi3")
    fail<Unsupported>("{}: partial_rotary_factor {} is not supported for {} (only Phi-3)", where,
                      r.partial_rotary_factor, family);
  const int64_t max_pos = get_int_or(top, "max_position_embeddings", 0, where);
  if (type == "llama3" || type == "yarn" || type == "longrope") {
    if (present(top, "original_max_position_embeddings"))
      r.original_max_position = get_int(top, "original_max_position_embeddings", where);
    else if (family == "phi3")
      r.original_max_position = 4096;  // Phi3Config's default, which standardization prefers
    else
      r.original_max_position = get_int_or(d, "original_max_position_embeddings", max_pos, where);
    BREADTH_CHECK_FORMAT(r.original_max_position > 0,
                         "{}: rope type '{}' needs original_max_position_embeddings", where, type);
  }
  if (type == "linear" || type == "llama3" || type == "dynamic") {
    BREADTH_CHECK_FORMAT(present(d, "factor"), "{}: rope type '{}' needs a 'factor'", where, type);
    r.factor = get_num_or(d, "factor", 1.0, where);
    BREADTH_CHECK_FORMAT(r.factor > 0, "{}: rope 'factor' must be positive", where);
  }
  if (type == "llama3") {
    r.low_freq_factor = get_num_or(d, "low_freq_factor", 1.0, where);
    r.high_freq_factor = get_num_or(d, "high_freq_factor", 4.0, where);
    BREADTH_CHECK_FORMAT(r.high_freq_factor != r.low_freq_factor,
                         "{}: llama3 rope needs distinct low/high_freq_factor", where);
  }
  if (type == "dynamic") {
    r.max_position = max_pos;
    BREADTH_CHECK_FORMAT(r.max_position > 0, "{}: dynamic rope needs max_position_embeddings", where);
  }
  auto optional_factor = [&](const char* key) {
    return present(d, key) ? get_num_or(d, key, 0.0, where) : -1.0;  // -1: absent
  };
  if (type == "yarn") {
    // factor: absent -> max_position_embeddings / original; attention_factor: from factor and the
    // optional mscale / mscale_all_dim (YaRN's Eq. 21), exactly as transformers derives them.
    double factor = optional_factor("factor");
    if (factor < 0) factor = static_cast<double>(max_pos) / static_cast<double>(r.original_max_position);
    BREADTH_CHECK_FORMAT(factor > 0, "{}: yarn rope 'factor' must be positive", where);
    r.factor = factor;
    auto mscale_of = [](double scale, double m) {
      return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0;
    };
    double af = optional_factor("attention_factor");
    if (af < 0) {
      const double ms = present(d, "mscale") ? get_num_or(d, "mscale", 0.0, where) : 0.0;
      const double msa = present(d, "mscale_all_dim") ? get_num_or(d, "mscale_all_dim", 0.0, where) : 0.0;
      af = (ms != 0 && msa != 0) ? mscale_of(factor, ms) / mscale_of(factor, msa) : mscale_of(factor, 1.0);
    }
    r.attention_factor = af;
    // `get("beta_fast") or 32`: absent, null and 0 all mean the default.
    const double bf = get_num_or(d, "beta_fast", 0.0, where), bs = get_num_or(d, "beta_slow", 0.0, where);
    r.beta_fast = bf != 0 ? bf : 32.0;
    r.beta_slow = bs != 0 ? bs : 1.0;
    r.truncate = get_bool_or(d, "truncate", true, where);
  }
  if (type == "longrope") {
    r.long_factor = get_factor_list(d, "long_factor", where);
    r.short_factor = get_factor_list(d, "short_factor", where);
    double factor = optional_factor("factor");
    if (factor < 0) factor = static_cast<double>(max_pos) / static_cast<double>(r.original_max_position);
    r.factor = factor;
    double af = optional_factor("attention_factor");
    if (af < 0) {
      af = factor <= 1.0 ? 1.0
                         : std::sqrt(1 + std::log(factor) /
                                             std::log(static_cast<double>(r.original_max_position)));
    }
    r.attention_factor = af;
  }
  return r;
}

// Gemma3TextConfig's defaults: Gemma-3 configs on the Hub (the multimodal ones' text_config above
// all) give only what differs from them.
json gemma3_text_defaults() {
  return json{{"vocab_size", 262208},
              {"hidden_size", 2304},
              {"intermediate_size", 9216},
              {"num_hidden_layers", 26},
              {"num_attention_heads", 8},
              {"num_key_value_heads", 4},
              {"head_dim", 256},
              {"hidden_activation", "gelu_pytorch_tanh"},
              {"max_position_embeddings", 131072},
              {"rms_norm_eps", 1e-6},
              {"query_pre_attn_scalar", 256},
              {"sliding_window", 4096}};
}

}  // namespace

ArchConfig parse_hf_config(const json& top, const std::string& where) {
  BREADTH_CHECK_FORMAT(top.is_object(), "{}: config.json must hold a JSON object", where);
  ArchConfig a;
  ModelConfig& p = a.pub;

  BREADTH_CHECK_FORMAT(present(top, "architectures") && top.at("architectures").is_array() &&
                           !top.at("architectures").empty() && top.at("architectures")[0].is_string(),
                       "{}: 'architectures' is missing; breadth needs it to know the model class "
                       "(supported: {})",
                       where, join(supported_architectures()));
  p.architecture = top.at("architectures")[0].get<std::string>();
  const auto& archs = supported_architectures();
  if (std::find(archs.begin(), archs.end(), p.architecture) == archs.end()) {
    fail<Unsupported>("{}: architecture '{}' is not supported (supported: {})", where,
                      p.architecture, join(archs));
  }
  const std::string& arch = p.architecture;
  auto starts = [&](const char* s) { return arch.rfind(s, 0) == 0; };
  if (starts("Llama")) p.family = "llama";
  else if (starts("Mistral")) p.family = "mistral";
  else if (starts("Qwen2")) p.family = "qwen2";
  else if (starts("Qwen3")) p.family = "qwen3";
  else if (starts("Olmo2")) p.family = "olmo2";
  else if (starts("Gemma2")) p.family = "gemma2";
  else if (starts("Phi3")) p.family = "phi3";
  else p.family = "gemma3";
  const bool gemma = p.family == "gemma2" || p.family == "gemma3";

  // The multimodal Gemma-3 is its text tower here: config from text_config, weights under
  // model.language_model. (or language_model.model. in checkpoints saved before transformers 5).
  json c = top;
  bool tie_default = gemma;
  if (arch == "Gemma3ForConditionalGeneration") {
    BREADTH_CHECK_FORMAT(present(top, "text_config") && top.at("text_config").is_object(),
                         "{}: Gemma3ForConditionalGeneration needs a 'text_config' object", where);
    c = top.at("text_config");
    a.text_tower = true;
    a.image_token_id = get_int_or(top, "image_token_index", 262144, where);
    tie_default = get_bool_or(top, "tie_word_embeddings", true, where);
  }
  if (p.family == "gemma3") {
    if (get_bool_or(c, "use_bidirectional_attention", false, where))
      fail<Unsupported>("{}: use_bidirectional_attention (an encoder such as EmbeddingGemma) is not a "
                        "causal LM",
                        where);
    const json defaults = gemma3_text_defaults();
    for (const auto& [k, v] : defaults.items())
      if (!present(c, k.c_str())) c[k] = v;
  }

  p.vocab_size = get_int(c, "vocab_size", where);
  p.hidden_size = get_int(c, "hidden_size", where);
  p.intermediate_size = get_int(c, "intermediate_size", where);
  p.num_layers = get_int(c, "num_hidden_layers", where);
  p.num_heads = get_int(c, "num_attention_heads", where);
  p.num_kv_heads = get_int_or(c, "num_key_value_heads", p.num_heads, where);
  p.head_dim = get_int_or(c, "head_dim", 0, where);
  p.max_position = get_int_or(c, "max_position_embeddings", 0, where);
  p.rms_norm_eps = get_num_or(c, "rms_norm_eps", 1e-6, where);
  p.tie_embeddings = get_bool_or(c, "tie_word_embeddings", tie_default, where);
  if (arch.find("ForSequenceClassification") != std::string::npos) {
    if (present(c, "id2label") && c.at("id2label").is_object()) {
      p.num_labels = static_cast<int64_t>(c.at("id2label").size());
    } else {
      p.num_labels = get_int_or(c, "num_labels", 2, where);  // transformers' default
    }
    BREADTH_CHECK_FORMAT(p.num_labels > 0, "{}: a classifier needs at least one label", where);
  }

  std::string act = "silu";
  if (present(c, "hidden_activation")) act = c.at("hidden_activation").get<std::string>();
  else if (present(c, "hidden_act")) act = c.at("hidden_act").get<std::string>();
  if (act == "silu" || act == "swish") a.activation = Activation::kSilu;
  else if (act == "gelu_pytorch_tanh" || act == "gelu_tanh") a.activation = Activation::kGeluTanh;
  else fail<Unsupported>("{}: activation '{}' is not supported (silu, gelu_pytorch_tanh)", where, act);

  const bool attention_bias = get_bool_or(c, "attention_bias", false, where);
  if (p.family == "phi3") {
    a.fused_qkv = true;  // qkv_proj = [q; k; v], gate_up_proj = [gate; up]
    a.fused_gate_up = true;
  }
  a.qkv_bias = attention_bias || p.family == "qwen2";
  a.o_bias = attention_bias;
  a.mlp_bias = get_bool_or(c, "mlp_bias", false, where);

  // Rope: new style `rope_parameters` (possibly one dict per layer type), or legacy fields.
  double theta = get_num_or(c, "rope_theta", gemma && p.family == "gemma3" ? 1e6 : 10000.0, where);
  double local_theta = get_num_or(c, "rope_local_base_freq", 10000.0, where);
  if (present(c, "rope_parameters")) {
    const json& rp = c.at("rope_parameters");
    BREADTH_CHECK_FORMAT(rp.is_object(), "{}: 'rope_parameters' must be an object", where);
    if (rp.contains("full_attention") || rp.contains("sliding_attention")) {
      auto sub = [&](const char* key, double th) {
        return parse_rope_dict(present(rp, key) ? rp.at(key) : json::object(), th, c, p.family, where);
      };
      a.rope = sub("full_attention", theta);
      a.rope_local = present(rp, "sliding_attention") || p.family == "gemma3"
                         ? sub("sliding_attention", local_theta)
                         : a.rope;
    } else {
      a.rope = parse_rope_dict(rp, theta, c, p.family, where);
      a.rope_local = a.rope;
    }
  } else {
    a.rope = parse_rope_dict(present(c, "rope_scaling") ? c.at("rope_scaling") : json::object(), theta,
                             c, p.family, where);
    a.rope_local = a.rope;
    if (p.family == "gemma3") a.rope_local = parse_rope_dict(json::object(), local_theta, c, p.family, where);
  }
  p.rope_theta = a.rope.theta;

  // Sliding windows. Qwen only slides when use_sliding_window is set; Mistral whenever a window is
  // given; Gemma on its local layers.
  int64_t window = get_int_or(c, "sliding_window", 0, where);
  if ((p.family == "qwen2" || p.family == "qwen3") && !get_bool_or(c, "use_sliding_window", false, where))
    window = 0;
  if (p.family == "llama" || p.family == "olmo2") window = 0;
  a.sliding_window = window;
  a.layer_sliding.assign(static_cast<size_t>(std::max<int64_t>(p.num_layers, 0)), false);
  if (window > 0) {
    if (present(c, "layer_types") && p.family != "mistral" && p.family != "phi3") {
      const json& lt = c.at("layer_types");
      BREADTH_CHECK_FORMAT(lt.is_array() && static_cast<int64_t>(lt.size()) == p.num_layers,
                           "{}: 'layer_types' must list one entry per layer ({})", where, p.num_layers);
      for (size_t i = 0; i < lt.size(); ++i)
        a.layer_sliding[i] = lt[i].is_string() && lt[i].get<std::string>() == "sliding_attention";
    } else if (p.family == "gemma2") {  // (Phi-3, like Mistral, slides everywhere: the else)
      for (size_t i = 0; i < a.layer_sliding.size(); ++i) a.layer_sliding[i] = (i % 2) == 0;
    } else if (p.family == "gemma3") {
      int64_t pattern = get_int_or(c, "sliding_window_pattern", 6, where);
      for (size_t i = 0; i < a.layer_sliding.size(); ++i)
        a.layer_sliding[i] = ((static_cast<int64_t>(i) + 1) % pattern) != 0;
    } else if (p.family == "qwen2" || p.family == "qwen3") {
      int64_t from = get_int_or(c, "max_window_layers", 0, where);
      for (size_t i = 0; i < a.layer_sliding.size(); ++i)
        a.layer_sliding[i] = static_cast<int64_t>(i) >= from;
    } else {
      a.layer_sliding.assign(a.layer_sliding.size(), true);
    }
  }

  // Family switches.
  if (p.family == "qwen3") a.qk_norm = QkNorm::kPerHead;
  if (p.family == "olmo2") {
    a.qk_norm = QkNorm::kFull;
    a.norm_attn_in = "";
    a.norm_attn_out = "post_attention_layernorm";
    a.norm_ff_in = "";
    a.norm_ff_out = "post_feedforward_layernorm";
    a.norm_weight_in_f32 = true;
  }
  if (gemma) {
    a.norm_attn_in = "input_layernorm";
    a.norm_attn_out = "post_attention_layernorm";
    a.norm_ff_in = "pre_feedforward_layernorm";
    a.norm_ff_out = "post_feedforward_layernorm";
    a.norm_weight_in_f32 = true;
    a.norm_add_one = true;
    a.embed_scale = std::sqrt(static_cast<double>(p.hidden_size));
    if (p.family == "gemma3") a.qk_norm = QkNorm::kPerHead;
    double qpas = get_num_or(c, "query_pre_attn_scalar", 0.0, where);
    if (qpas > 0) a.attn_scale = 1.0 / std::sqrt(qpas);
    a.attn_softcap = get_num_or(c, "attn_logit_softcapping", 0.0, where);
    a.final_softcap = get_num_or(c, "final_logit_softcapping", 0.0, where);
  }
  finalize_arch(a, where);
  return a;
}

void finalize_arch(ArchConfig& a, const std::string& where) {
  ModelConfig& p = a.pub;
  BREADTH_CHECK_FORMAT(p.vocab_size > 0 && p.hidden_size > 0 && p.intermediate_size > 0 &&
                           p.num_layers > 0 && p.num_heads > 0 && p.num_kv_heads > 0,
                       "{}: sizes must be positive (vocab {}, hidden {}, intermediate {}, layers {}, "
                       "heads {}, kv heads {})",
                       where, p.vocab_size, p.hidden_size, p.intermediate_size, p.num_layers,
                       p.num_heads, p.num_kv_heads);
  BREADTH_CHECK_FORMAT(p.num_heads % p.num_kv_heads == 0,
                       "{}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})",
                       where, p.num_heads, p.num_kv_heads);
  if (p.head_dim <= 0) {
    BREADTH_CHECK_FORMAT(p.hidden_size % p.num_heads == 0,
                         "{}: hidden_size ({}) is not a multiple of num_attention_heads ({}); give "
                         "head_dim",
                         where, p.hidden_size, p.num_heads);
    p.head_dim = p.hidden_size / p.num_heads;
  }
  BREADTH_CHECK_FORMAT(p.head_dim % 2 == 0, "{}: head_dim ({}) must be even for rotary embeddings",
                       where, p.head_dim);
  if (a.attn_scale <= 0) a.attn_scale = 1.0 / std::sqrt(static_cast<double>(p.head_dim));
  for (RopeSpec* r : {&a.rope, &a.rope_local}) {
    // transformers: dim = int(head_dim * partial_rotary_factor), frequencies over dim / 2 pairs.
    r->rotary_dim = static_cast<int64_t>(static_cast<double>(p.head_dim) * r->partial_rotary_factor);
    BREADTH_CHECK_FORMAT(r->rotary_dim >= 2 && r->rotary_dim % 2 == 0,
                         "{}: partial_rotary_factor {} gives {} rotated dimensions of {}; need an even "
                         "number",
                         where, r->partial_rotary_factor, r->rotary_dim, p.head_dim);
    const size_t pairs = static_cast<size_t>(r->rotary_dim / 2);
    if (r->type == "longrope")
      BREADTH_CHECK_FORMAT(r->long_factor.size() == pairs && r->short_factor.size() == pairs,
                           "{}: longrope long_factor/short_factor need {} values each (got {} and {})",
                           where, pairs, r->long_factor.size(), r->short_factor.size());
  }
  if (a.layer_sliding.size() != static_cast<size_t>(p.num_layers))
    a.layer_sliding.assign(static_cast<size_t>(p.num_layers), false);
  BREADTH_CHECK_FORMAT(p.rms_norm_eps > 0, "{}: rms_norm_eps must be positive", where);
}

}  // namespace breadth::model
