#include "encoder/encoder_config.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth::model {

namespace {

struct ArchEntry {
  EncoderFamily family;
  EncoderHead head;
};

const std::map<std::string, ArchEntry>& arch_table() {
  static const std::map<std::string, ArchEntry> t = {
      {"BertModel", {EncoderFamily::kBert, EncoderHead::kNone}},
      {"BertForMaskedLM", {EncoderFamily::kBert, EncoderHead::kNone}},
      {"BertForPreTraining", {EncoderFamily::kBert, EncoderHead::kNone}},
      {"BertForSequenceClassification", {EncoderFamily::kBert, EncoderHead::kBertPooler}},
      {"RobertaModel", {EncoderFamily::kRoberta, EncoderHead::kNone}},
      {"RobertaForMaskedLM", {EncoderFamily::kRoberta, EncoderHead::kNone}},
      {"RobertaForSequenceClassification", {EncoderFamily::kRoberta, EncoderHead::kRobertaHead}},
      {"XLMRobertaModel", {EncoderFamily::kRoberta, EncoderHead::kNone}},
      {"XLMRobertaForSequenceClassification", {EncoderFamily::kRoberta, EncoderHead::kRobertaHead}},
      {"DebertaModel", {EncoderFamily::kDeberta, EncoderHead::kNone}},
      {"DebertaForMaskedLM", {EncoderFamily::kDeberta, EncoderHead::kNone}},
      {"DebertaForSequenceClassification", {EncoderFamily::kDeberta, EncoderHead::kDebertaPooler}},
      {"DebertaV2Model", {EncoderFamily::kDebertaV2, EncoderHead::kNone}},
      {"DebertaV2ForMaskedLM", {EncoderFamily::kDebertaV2, EncoderHead::kNone}},
      {"DebertaV2ForSequenceClassification", {EncoderFamily::kDebertaV2, EncoderHead::kDebertaPooler}},
  };
  return t;
}

// model_type when `architectures` is absent (sentence-transformers dirs sometimes omit it).
std::string arch_from_model_type(const std::string& t) {
  if (t == "bert") return "BertModel";
  if (t == "roberta") return "RobertaModel";
  if (t == "xlm-roberta") return "XLMRobertaModel";
  if (t == "deberta-v2") return "DebertaV2Model";
  if (t == "deberta") return "DebertaModel";
  return "";
}

template <typename T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

int64_t require_positive(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  BREADTH_CHECK_FORMAT(it != j.end() && it->is_number_integer(), "{}: '{}' is missing or not an integer",
                       where, key);
  int64_t v = it->get<int64_t>();
  BREADTH_CHECK_FORMAT(v > 0 && v <= (int64_t{1} << 24), "{}: '{}' = {} is out of range", where, key, v);
  return v;
}

nlohmann::json read_json_file(const std::string& p) {
  std::ifstream in(p);
  if (!in) fail<IoError>("cannot read '{}'", p);
  auto j = nlohmann::json::parse(in, nullptr, false);
  BREADTH_CHECK_FORMAT(!j.is_discarded(), "'{}' is not valid JSON", p);
  return j;
}

}  // namespace

bool known_activation(const std::string& n) {
  return n == "gelu" || n == "gelu_new" || n == "gelu_pytorch_tanh" || n == "gelu_fast" || n == "relu" ||
         n == "tanh" || n == "silu" || n == "swish" || n == "quick_gelu";
}

torch::Tensor activation(const torch::Tensor& x, const std::string& n) {
  if (n == "gelu") return torch::gelu(x);  // erf form
  if (n == "gelu_new" || n == "gelu_pytorch_tanh" || n == "gelu_fast") return torch::gelu(x, "tanh");
  if (n == "relu") return torch::relu(x);
  if (n == "tanh") return torch::tanh(x);
  if (n == "silu" || n == "swish") return torch::silu(x);
  if (n == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  fail<Unsupported>("activation '{}' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, "
                    "gelu_fast, relu, tanh, silu, swish, quick_gelu)",
                    n);
}

namespace {

// Decoder base models and the causal LMs they come from, as embedders.
const std::map<std::string, std::string>& decoder_embedders() {
  static const std::map<std::string, std::string> t = {
      {"Qwen2Model", "Qwen2ForCausalLM"}, {"Qwen3Model", "Qwen3ForCausalLM"},
      {"LlamaModel", "LlamaForCausalLM"}, {"MistralModel", "MistralForCausalLM"},
  };
  return t;
}

EncoderArch parse_decoder_embedder(const nlohmann::json& j, const std::string& arch_name,
                                   const std::string& causal_name, const std::string& where) {
  EncoderArch a;
  a.family = EncoderFamily::kDecoder;
  a.head = EncoderHead::kNone;
  nlohmann::json c = j;
  c["architectures"] = {causal_name};
  a.decoder = parse_hf_config(c, where);
  a.decoder.no_head = true;
  const auto& d = a.decoder.pub;
  auto& p = a.pub;
  p.architecture = arch_name;
  p.family = d.family;
  p.vocab_size = d.vocab_size;
  p.hidden_size = d.hidden_size;
  p.num_layers = d.num_layers;
  p.num_heads = d.num_heads;
  p.max_position = d.max_position > 0 ? d.max_position : (int64_t{1} << 20);
  a.intermediate_size = d.intermediate_size;
  a.type_vocab_size = 0;
  // Padding is masked out; the id only has to be a valid one.
  const auto pad = j.find("pad_token_id");
  a.pad_token_id = pad != j.end() && pad->is_number_integer() ? pad->get<int64_t>() : 0;
  if (a.pad_token_id < 0 || a.pad_token_id >= p.vocab_size) a.pad_token_id = 0;
  return a;
}

}  // namespace

EncoderArch parse_encoder_config(const nlohmann::json& j, const std::string& where,
                                 bool sentence_transformers_dir) {
  BREADTH_CHECK_FORMAT(j.is_object(), "{}: config.json must be a JSON object", where);
  std::string arch_name;
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string())
    arch_name = j["architectures"][0].get<std::string>();
  else
    arch_name = arch_from_model_type(get_or<std::string>(j, "model_type", ""));
  if (auto d = decoder_embedders().find(arch_name); d != decoder_embedders().end())
    return parse_decoder_embedder(j, arch_name, d->second, where);
  if (sentence_transformers_dir) {
    for (const auto& [base, causal] : decoder_embedders())
      if (arch_name == causal) return parse_decoder_embedder(j, arch_name, causal, where);
  }
  auto entry = arch_table().find(arch_name);
  if (entry == arch_table().end()) {
    std::string names;
    for (const auto& [n, e] : arch_table()) names += (names.empty() ? "" : ", ") + n;
    fail<Unsupported>("{}: architecture '{}' is not a supported encoder (supported: {}); decoders load "
                      "with CausalLM::load",
                      where, arch_name.empty() ? "(none)" : arch_name, names);
  }

  EncoderArch a;
  a.family = entry->second.family;
  a.head = entry->second.head;
  auto& p = a.pub;
  p.architecture = arch_name;
  p.family = a.family == EncoderFamily::kBert      ? "bert"
             : a.family == EncoderFamily::kRoberta ? "roberta"
             : a.family == EncoderFamily::kDeberta ? "deberta"
                                                   : "deberta-v2";
  p.vocab_size = require_positive(j, "vocab_size", where);
  p.hidden_size = require_positive(j, "hidden_size", where);
  p.num_layers = require_positive(j, "num_hidden_layers", where);
  p.num_heads = require_positive(j, "num_attention_heads", where);
  p.max_position = require_positive(j, "max_position_embeddings", where);
  a.intermediate_size = require_positive(j, "intermediate_size", where);
  BREADTH_CHECK_FORMAT(p.hidden_size % p.num_heads == 0,
                       "{}: hidden_size {} is not a multiple of num_attention_heads {}", where, p.hidden_size,
                       p.num_heads);
  BREADTH_CHECK_FORMAT(!j.contains("attention_head_size") || j["attention_head_size"].is_null() ||
                           j["attention_head_size"].get<int64_t>() * p.num_heads == p.hidden_size,
                       "{}: attention_head_size * heads != hidden_size is not supported", where);
  a.type_vocab_size = get_or<int64_t>(j, "type_vocab_size", a.deberta() ? 0 : 2);
  BREADTH_CHECK_FORMAT(a.type_vocab_size >= 0 && a.type_vocab_size <= 1024, "{}: type_vocab_size {} out of range",
                       where, a.type_vocab_size);
  a.pad_token_id = get_or<int64_t>(j, "pad_token_id", a.family == EncoderFamily::kRoberta ? 1 : 0);
  BREADTH_CHECK_FORMAT(a.pad_token_id >= 0 && a.pad_token_id < p.vocab_size,
                       "{}: pad_token_id {} is outside the vocabulary ({})", where, a.pad_token_id, p.vocab_size);
  a.layer_norm_eps = get_or<double>(j, "layer_norm_eps", a.deberta() ? 1e-7 : 1e-12);
  a.hidden_act = get_or<std::string>(j, "hidden_act", "gelu");
  if (!known_activation(a.hidden_act))
    fail<Unsupported>("{}: hidden_act '{}' is not supported", where, a.hidden_act);

  if (!a.deberta()) {
    std::string pe = get_or<std::string>(j, "position_embedding_type", "absolute");
    if (pe != "absolute")
      fail<Unsupported>("{}: position_embedding_type '{}' is not supported (only 'absolute')", where, pe);
  }
  if (a.family == EncoderFamily::kRoberta) {
    // Positions start at pad_token_id + 1, so the usable length is two less than the table.
    BREADTH_CHECK_FORMAT(p.max_position > a.pad_token_id + 1,
                         "{}: max_position_embeddings {} leaves no room after the padding offset {}", where,
                         p.max_position, a.pad_token_id + 1);
  }

  if (a.deberta()) {
    const bool v1 = a.family == EncoderFamily::kDeberta;
    if (v1 && get_or<bool>(j, "talking_head", false))
      fail<Unsupported>("{}: DeBERTa talking_head attention is not supported", where);
    a.relative_attention = get_or<bool>(j, "relative_attention", false);
    a.max_relative_positions = get_or<int64_t>(j, "max_relative_positions", -1);
    if (a.max_relative_positions < 1) a.max_relative_positions = p.max_position;
    // v1 has no log buckets: its span min(T, max_relative_positions) over the table's middle is the
    // clamp at max_relative_positions of the whole table.
    a.position_buckets = v1 ? -1 : get_or<int64_t>(j, "position_buckets", -1);
    a.att_span = a.position_buckets > 0 ? a.position_buckets : a.max_relative_positions;
    BREADTH_CHECK_FORMAT(a.att_span <= (int64_t{1} << 20), "{}: relative attention span {} is out of range", where,
                         a.att_span);
    a.share_att_key = !v1 && get_or<bool>(j, "share_att_key", false);
    std::vector<std::string> types;
    if (j.contains("pos_att_type") && j["pos_att_type"].is_string()) {
      std::string s = j["pos_att_type"].get<std::string>();
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t start = 0;
      while (start <= s.size()) {
        size_t bar = s.find('|', start);
        std::string t = s.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
        t.erase(0, t.find_first_not_of(' '));
        t.erase(t.find_last_not_of(' ') + 1);
        types.push_back(t);
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
    } else if (j.contains("pos_att_type") && j["pos_att_type"].is_array()) {
      for (const auto& t : j["pos_att_type"]) types.push_back(t.get<std::string>());
    }
    for (const auto& t : types) {
      if (t == "c2p") a.c2p = true;
      else if (t == "p2c") a.p2c = true;
      else if (!t.empty() && t != "none")
        fail<Unsupported>("{}: pos_att_type '{}' is not supported (c2p, p2c)", where, t);
    }
    a.position_biased_input = get_or<bool>(j, "position_biased_input", true);
    std::string norm = get_or<std::string>(j, "norm_rel_ebd", "none");
    std::transform(norm.begin(), norm.end(), norm.begin(), [](unsigned char c) { return std::tolower(c); });
    a.norm_rel_ebd = !v1 && norm.find("layer_norm") != std::string::npos;
    a.embedding_size = get_or<int64_t>(j, "embedding_size", p.hidden_size);
    BREADTH_CHECK_FORMAT(a.embedding_size > 0 && a.embedding_size <= (int64_t{1} << 24),
                         "{}: embedding_size {} out of range", where, a.embedding_size);
    a.conv_kernel_size = v1 ? 0 : get_or<int64_t>(j, "conv_kernel_size", 0);
    a.conv_groups = get_or<int64_t>(j, "conv_groups", 1);
    a.conv_act = get_or<std::string>(j, "conv_act", "tanh");
    BREADTH_CHECK_FORMAT(a.conv_kernel_size >= 0 && a.conv_kernel_size < 64 && a.conv_groups > 0 &&
                             p.hidden_size % a.conv_groups == 0,
                         "{}: conv_kernel_size/conv_groups are out of range", where);
    if (a.conv_kernel_size > 0 && !known_activation(a.conv_act))
      fail<Unsupported>("{}: conv_act '{}' is not supported", where, a.conv_act);
    a.pooler_act = get_or<std::string>(j, "pooler_hidden_act", "gelu");
    a.pooler_hidden_size = get_or<int64_t>(j, "pooler_hidden_size", p.hidden_size);
    if (a.head == EncoderHead::kDebertaPooler) {
      if (!known_activation(a.pooler_act))
        fail<Unsupported>("{}: pooler_hidden_act '{}' is not supported", where, a.pooler_act);
      BREADTH_CHECK_FORMAT(a.pooler_hidden_size == p.hidden_size,
                           "{}: pooler_hidden_size {} must equal hidden_size {} (as transformers requires)",
                           where, a.pooler_hidden_size, p.hidden_size);
    }
  }

  // Labels: id2label by index when given, else num_labels (transformers' default: 2).
  if (a.head != EncoderHead::kNone) {
    std::map<int64_t, std::string> names;
    if (j.contains("id2label") && j["id2label"].is_object()) {
      for (auto it = j["id2label"].begin(); it != j["id2label"].end(); ++it) {
        char* end = nullptr;
        long long k = std::strtoll(it.key().c_str(), &end, 10);
        BREADTH_CHECK_FORMAT(end && *end == '\0' && k >= 0 && k < 4096 && it.value().is_string(),
                             "{}: id2label entry '{}' is not index -> name", where, it.key());
        names[k] = it.value().get<std::string>();
      }
    }
    int64_t n = names.empty() ? get_or<int64_t>(j, "num_labels", 2) : static_cast<int64_t>(names.size());
    if (j.contains("num_labels") && j["num_labels"].is_number_integer() && names.empty())
      n = j["num_labels"].get<int64_t>();
    BREADTH_CHECK_FORMAT(n > 0 && n < 4096, "{}: {} labels is out of range", where, n);
    for (int64_t i = 0; i < n; ++i) {
      auto it = names.find(i);
      BREADTH_CHECK_FORMAT(names.empty() || it != names.end(), "{}: id2label has no entry for label {}", where, i);
      p.labels.push_back(it != names.end() ? it->second : "LABEL_" + std::to_string(i));
    }
    p.num_labels = n;
  }
  return a;
}

namespace {

DenseSpec read_dense(const std::string& module_dir, const std::string& where) {
  const std::string cfg = files::join(module_dir, "config.json");
  if (!files::exists(cfg)) fail<IoError>("'{}': the Dense module has no config.json", module_dir);
  auto j = read_json_file(cfg);
  BREADTH_CHECK_FORMAT(j.is_object(), "'{}' must be a JSON object", cfg);
  DenseSpec d;
  d.dir = module_dir;
  d.in_features = require_positive(j, "in_features", cfg);
  d.out_features = require_positive(j, "out_features", cfg);
  d.bias = get_or<bool>(j, "bias", true);
  d.residual = get_or<bool>(j, "use_residual", false);
  const std::string input = get_or<std::string>(j, "module_input_name", "sentence_embedding");
  if (input != "sentence_embedding")
    fail<Unsupported>("'{}': a Dense module on '{}' is not supported (only on the pooled sentence_embedding)",
                      cfg, input);
  // sentence-transformers stores the activation's class path; absent means its default, Tanh.
  const std::string act = get_or<std::string>(j, "activation_function", "torch.nn.modules.activation.Tanh");
  const std::string cls = act.substr(act.rfind('.') + 1);
  static const std::map<std::string, std::string> kActs = {{"Identity", "identity"}, {"Tanh", "tanh"},
                                                           {"ReLU", "relu"},         {"GELU", "gelu"},
                                                           {"Sigmoid", "sigmoid"},   {"SiLU", "silu"}};
  auto it = kActs.find(cls);
  if (act.rfind("torch.", 0) != 0 || it == kActs.end())
    fail<Unsupported>("'{}': Dense activation '{}' is not supported (torch.nn Identity, Tanh, ReLU, GELU, "
                      "Sigmoid, SiLU)",
                      cfg, act);
  d.activation = it->second;
  (void)where;
  return d;
}

}  // namespace

SentenceTransformerModules read_sentence_transformers(const std::string& dir, EncoderConfig& config) {
  const std::string& root = dir;
  SentenceTransformerModules st;
  if (files::exists(files::join(root, "sentence_bert_config.json"))) {
    auto j = read_json_file(files::join(root, "sentence_bert_config.json"));
    if (j.is_object() && j.contains("max_seq_length") && j["max_seq_length"].is_number_integer())
      st.max_seq_length = j["max_seq_length"].get<int64_t>();
  }
  if (!files::exists(files::join(root, "modules.json"))) return st;
  const std::string modules_path = files::join(root, "modules.json");
  auto modules = read_json_file(modules_path);
  BREADTH_CHECK_FORMAT(modules.is_array(), "'{}' must be a list of modules", modules_path);
  bool pooled = false;
  for (const auto& m : modules) {
    BREADTH_CHECK_FORMAT(m.is_object() && m.contains("type") && m["type"].is_string(),
                         "'{}': every module needs a 'type'", modules_path);
    const std::string type = m["type"].get<std::string>();
    const std::string path = m.contains("path") && m["path"].is_string() ? m["path"].get<std::string>() : "";
    BREADTH_CHECK_FORMAT(path.find("..") == std::string::npos, "'{}': module path '{}' leaves the directory",
                         modules_path, path);
    auto ends_with = [&](const std::string& s) {
      return type.size() >= s.size() && type.compare(type.size() - s.size(), s.size(), s) == 0;
    };
    if (ends_with(".Normalize")) {
      config.normalize = true;
      st.steps.push_back({PostPoolStep::kNormalize, 0});
    } else if (ends_with(".Pooling")) {
      pooled = true;
      const std::string cfg = files::join(files::join(root, path), "config.json");
      if (!files::exists(cfg)) continue;  // sentence-transformers' defaults: mean pooling
      auto pj = read_json_file(cfg);
      BREADTH_CHECK_FORMAT(pj.is_object(), "'{}' must be a JSON object", cfg);
      std::vector<std::string> modes;
      if (pj.contains("pooling_mode") && pj["pooling_mode"].is_string()) {
        modes.push_back(pj["pooling_mode"].get<std::string>());
      } else if (pj.contains("pooling_mode") && pj["pooling_mode"].is_array()) {
        for (const auto& v : pj["pooling_mode"]) modes.push_back(v.is_string() ? v.get<std::string>() : "?");
      } else {
        const std::pair<const char*, const char*> keys[] = {{"pooling_mode_cls_token", "cls"},
                                                            {"pooling_mode_mean_tokens", "mean"},
                                                            {"pooling_mode_max_tokens", "max"},
                                                            {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"},
                                                            {"pooling_mode_weightedmean_tokens", "weightedmean"},
                                                            {"pooling_mode_lasttoken", "lasttoken"}};
        for (auto [k, name] : keys)
          if (pj.contains(k) && pj[k].is_boolean() && pj[k].get<bool>()) modes.push_back(name);
      }
      if (modes.empty()) modes.push_back("mean");  // sentence-transformers' default
      if (modes.size() == 1 && modes[0] == "mean_sqrt_len_tokens") modes[0] = "mean_sqrt_len";
      if (modes.size() != 1 || (modes[0] != "cls" && modes[0] != "mean" && modes[0] != "max" &&
                                modes[0] != "mean_sqrt_len" && modes[0] != "lasttoken")) {
        std::string all;
        for (const auto& s : modes) all += (all.empty() ? "" : "+") + s;
        fail<Unsupported>("'{}': pooling '{}' is not supported (exactly one of cls, mean, max, mean_sqrt_len, "
                          "lasttoken)",
                          cfg, all.empty() ? "none" : all);
      }
      if (get_or<bool>(pj, "include_prompt", true) == false)
        fail<Unsupported>("'{}': include_prompt = false is not supported", cfg);
      config.pooling = modes[0];
    } else if (ends_with(".Dense")) {
      if (!pooled)
        fail<Unsupported>("'{}': a Dense module before pooling is not supported", modules_path);
      st.dense.push_back(read_dense(files::join(root, path), modules_path));
      st.steps.push_back({PostPoolStep::kDense, st.dense.size() - 1});
    } else if (ends_with(".Transformer")) {
      // the checkpoint itself
    } else if (ends_with(".LayerNorm") || ends_with(".WeightedLayerPooling") ||
               ends_with(".CNN") || ends_with(".LSTM")) {
      fail<Unsupported>("'{}': sentence-transformers module '{}' is not supported (Transformer, Pooling, "
                        "Dense and Normalize are)",
                        modules_path, type);
    }
  }
  // Each Dense must take what the previous step gives.
  int64_t width = config.hidden_size;
  for (const auto& d : st.dense) {
    BREADTH_CHECK_FORMAT(d.in_features == width, "'{}': Dense in_features {} but the embedding before it has {}",
                         d.dir, d.in_features, width);
    width = d.out_features;
  }
  config.embedding_size = width;
  return st;
}

}  // namespace breadth::model
