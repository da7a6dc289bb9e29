// Tokenizer::load: picks the implementation from what the path holds, then reads special ids and
// the chat template from the configuration files beside it.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "core/files.hpp"
#include "io/gguf.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/gguf_tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/sp_tokenizer.hpp"

namespace breadth {

namespace {

std::optional<nlohmann::json> read_json(const std::string& p) {
  if (!files::is_regular_file(p)) return std::nullopt;
  std::ifstream f(p, std::ios::binary);
  if (!f) fail<IoError>("cannot read '{}'", p);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", p, e.what());
  }
}

// A token entry of tokenizer_config.json: a string, or an AddedToken object with "content".
std::optional<std::string> token_text(const nlohmann::json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && it->at("content").is_string())
    return it->at("content").get<std::string>();
  return std::nullopt;
}

// eos_token_id of config.json / generation_config.json: an int or a list of ints.
void collect_ids(const nlohmann::json& j, const char* key, std::vector<int32_t>& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  auto add = [&](const nlohmann::json& v) {
    if (!v.is_number_integer()) return;
    const auto id = v.get<int32_t>();
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (it->is_array())
    for (const auto& v : *it) add(v);
  else
    add(*it);
}

// GPT-2's original files: encoder.json (token -> id) and vocab.bpe (merges), read as
// transformers' GPT2Tokenizer reads them.
std::shared_ptr<tok::HfTokenizer> load_gpt2_files(const std::string& vocab, const std::string& merges_path) {
  auto v = read_json(vocab);
  BREADTH_CHECK_FORMAT(v && v->is_object(), "{}: expected a JSON object of token -> id", vocab);
  std::ifstream f(merges_path, std::ios::binary);
  if (!f) fail<IoError>("cannot read '{}'", merges_path);
  nlohmann::json merges = nlohmann::json::array();
  std::string line;
  bool first = true;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && line.rfind("#version", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    merges.push_back(line);
  }
  nlohmann::json j;
  j["model"] = {{"type", "BPE"}, {"vocab", std::move(*v)}, {"merges", std::move(merges)},
                {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false}};
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  j["decoder"] = {{"type", "ByteLevel"}};
  j["added_tokens"] = nlohmann::json::array();
  const auto& mv = j["model"]["vocab"];
  if (mv.contains("<|endoftext|>"))
    j["added_tokens"].push_back({{"id", mv.at("<|endoftext|>")}, {"content", "<|endoftext|>"}, {"special", true},
                                 {"normalized", false}});
  return tok::HfTokenizer::from_json(j, vocab);
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Fills bos/eos/pad and the chat template of a tokenizer loaded from a directory. What the files do
// not name keeps the value the tokenizer came with (a SentencePiece model's own <s>, </s>, <pad>).
// Returns tokenizer_config.json (an empty object when there is none).
nlohmann::json apply_configs(tok::ConfigurableTokenizer& t, const std::string& dir) {
  auto cfg = read_json(files::join(dir, "tokenizer_config.json")).value_or(nlohmann::json::object());
  if (!cfg.is_object()) cfg = nlohmann::json::object();
  auto stm = read_json(files::join(dir, "special_tokens_map.json")).value_or(nlohmann::json::object());
  if (!stm.is_object()) stm = nlohmann::json::object();
  auto text_of = [&](const char* key) {
    auto v = token_text(cfg, key);
    return v ? v : token_text(stm, key);
  };
  auto id_of = [&](const std::optional<std::string>& s) -> std::optional<int32_t> {
    return s ? t.token_to_id(*s) : std::nullopt;
  };
  // The text of a special the tokenizer already has (for the chat template's bos_token/eos_token).
  auto text_for = [&](std::optional<int32_t> id) -> std::optional<std::string> {
    if (!id || *id < 0 || *id >= t.vocab_size()) return std::nullopt;
    return t.token_bytes(*id);
  };
  const std::optional<int32_t> own_bos = t.bos_id(), own_pad = t.pad_id();
  const std::vector<int32_t> own_eos = t.eos_ids();
  auto bos_text = text_of("bos_token"), eos_text = text_of("eos_token");
  std::optional<int32_t> bos = id_of(bos_text);
  if (!bos_text) {
    bos = own_bos;
    bos_text = text_for(own_bos);
  }
  std::vector<int32_t> eos;
  if (auto id = id_of(eos_text)) eos.push_back(*id);
  if (!eos_text && !own_eos.empty()) eos_text = text_for(own_eos.front());
  for (const char* f : {"generation_config.json", "config.json"})
    if (auto j = read_json(files::join(dir, f)); j && j->is_object()) collect_ids(*j, "eos_token_id", eos);
  for (int32_t id : own_eos)
    if (std::find(eos.begin(), eos.end(), id) == eos.end()) eos.push_back(id);
  tok::add_known_end_tokens(t, eos);
  const auto pad_text = text_of("pad_token");
  const std::optional<int32_t> pad = pad_text ? id_of(pad_text) : own_pad;
  t.set_specials(bos, eos, pad);

  std::optional<std::string> tmpl;
  if (auto it = cfg.find("chat_template"); it != cfg.end()) {
    if (it->is_string()) {
      tmpl = it->get<std::string>();
    } else if (it->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const auto& e : *it)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e.at("template").is_string())
          tmpl = e.at("template").get<std::string>();
    }
  }
  if (!tmpl) {
    std::ifstream f(files::join(dir, "chat_template.jinja"), std::ios::binary);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      tmpl = ss.str();
    }
  }
  if (tmpl) t.set_chat_template_source(*tmpl, bos_text.value_or(""), eos_text.value_or(""));
  return cfg;
}

// A directory with tokenizer.model: SentencePiece, with tokenizer_config.json's specials, template
// and add_bos_token / add_eos_token (transformers' defaults: BOS on, EOS off).
std::shared_ptr<Tokenizer> load_sentencepiece_dir(const std::string& dir) {
  auto t = tok::load_sentencepiece(files::join(dir, "tokenizer.model"));
  std::optional<int32_t> eos = t->eos_ids().empty() ? std::nullopt : std::optional<int32_t>(t->eos_ids().front());
  const auto cfg = apply_configs(*t, dir);
  if (auto s = token_text(cfg, "eos_token")) eos = t->token_to_id(*s);
  auto flag = [&](const char* key, bool dflt) {
    auto it = cfg.find(key);
    return it != cfg.end() && it->is_boolean() ? it->get<bool>() : dflt;
  };
  tok::SpAddSpecial add;
  if (flag("add_bos_token", true)) add.bos = t->bos_id();
  if (flag("add_eos_token", false)) add.eos = eos;
  tok::set_sentencepiece_add_special(*t, add);
  return t;
}

}  // namespace

std::shared_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  const std::string& p = path;
  if (!files::exists(p)) fail<IoError>("tokenizer path '{}' does not exist", path);
  if (files::is_directory(p)) {
    std::shared_ptr<tok::HfTokenizer> t;
    if (files::is_regular_file(files::join(p, "tokenizer.json"))) {
      t = tok::HfTokenizer::from_file(files::join(p, "tokenizer.json"));
    } else if (files::is_regular_file(files::join(p, "tokenizer.model"))) {
      return load_sentencepiece_dir(p);
    } else if (files::is_regular_file(files::join(p, "encoder.json")) && files::is_regular_file(files::join(p, "vocab.bpe"))) {
      t = load_gpt2_files(files::join(p, "encoder.json"), files::join(p, "vocab.bpe"));
    } else if (files::is_regular_file(files::join(p, "vocab.json")) && files::is_regular_file(files::join(p, "merges.txt"))) {
      t = load_gpt2_files(files::join(p, "vocab.json"), files::join(p, "merges.txt"));
    } else {
      fail<IoError>("'{}' holds no tokenizer: expected tokenizer.json, tokenizer.model, or encoder.json + "
                    "vocab.bpe (or vocab.json + merges.txt)",
                    path);
    }
    apply_configs(*t, p);
    return t;
  }
  // A GGUF file is known by its magic bytes, whatever its name.
  if (io::is_gguf_file(p)) {
    const io::GgufFile g(path);
    return tok::load_gguf_tokenizer(g);
  }
  if (ends_with(path, ".model")) return tok::load_sentencepiece(path);
  auto t = tok::HfTokenizer::from_file(path);
  apply_configs(*t, files::parent(p).empty() ? std::string(".") : files::parent(p));
  return t;
}

}  // namespace breadth
