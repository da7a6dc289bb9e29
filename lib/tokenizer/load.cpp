// Tokenizer::load: picks the implementation from what the path holds, then reads special ids and
// the chat template from the configuration files beside it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "io/gguf.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/gguf_tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/sp_tokenizer.hpp"

namespace fs = std::filesystem;

namespace breadth {

namespace {

std::optional<nlohmann::json> read_json(const fs::path& p) {
  if (!fs::is_regular_file(p)) return std::nullopt;
  std::ifstream f(p, std::ios::binary);
  if (!f) fail<IoError>("cannot read '{}'", p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", p.string(), e.what());
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
std::shared_ptr<tok::HfTokenizer> load_gpt2_files(const fs::path& vocab, const fs::path& merges_path) {
  auto v = read_json(vocab);
  BREADTH_CHECK_FORMAT(v && v->is_object(), "{}: expected a JSON object of token -> id", vocab.string());
  std::ifstream f(merges_path, std::ios::binary);
  if (!f) fail<IoError>("cannot read '{}'", merges_path.string());
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
  return tok::HfTokenizer::from_json(j, vocab.string());
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Fills bos/eos/pad and the chat template of a tokenizer loaded from a directory.
void apply_configs(tok::HfTokenizer& t, const fs::path& dir) {
  const auto cfg = read_json(dir / "tokenizer_config.json").value_or(nlohmann::json::object());
  const auto stm = read_json(dir / "special_tokens_map.json").value_or(nlohmann::json::object());
  auto text_of = [&](const char* key) {
    auto v = token_text(cfg, key);
    return v ? v : token_text(stm, key);
  };
  auto id_of = [&](const std::optional<std::string>& s) -> std::optional<int32_t> {
    return s ? t.token_to_id(*s) : std::nullopt;
  };
  const auto bos_text = text_of("bos_token"), eos_text = text_of("eos_token");
  std::vector<int32_t> eos;
  if (auto id = id_of(eos_text)) eos.push_back(*id);
  for (const char* f : {"generation_config.json", "config.json"})
    if (auto j = read_json(dir / f); j && j->is_object()) collect_ids(*j, "eos_token_id", eos);
  tok::add_known_end_tokens(t, eos);
  std::optional<int32_t> pad = id_of(text_of("pad_token"));
  t.set_specials(id_of(bos_text), eos, pad);

  std::optional<std::string> tmpl;
  if (auto it = cfg.find("chat_template"); it != cfg.end()) {
    if (it->is_string()) {
      tmpl = it->get<std::string>();
    } else if (it->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const auto& e : *it)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template")) tmpl = e.at("template").get<std::string>();
    }
  }
  if (!tmpl) {
    std::ifstream f(dir / "chat_template.jinja", std::ios::binary);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      tmpl = ss.str();
    }
  }
  if (tmpl) t.set_chat_template(tok::make_chat_template(*tmpl, bos_text.value_or(""), eos_text.value_or("")));
}

}  // namespace

std::shared_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  const fs::path p(path);
  if (!fs::exists(p)) fail<IoError>("tokenizer path '{}' does not exist", path);
  if (fs::is_directory(p)) {
    std::shared_ptr<tok::HfTokenizer> t;
    if (fs::is_regular_file(p / "tokenizer.json")) {
      t = tok::HfTokenizer::from_file((p / "tokenizer.json").string());
    } else if (fs::is_regular_file(p / "tokenizer.model")) {
      return tok::load_sentencepiece((p / "tokenizer.model").string());
    } else if (fs::is_regular_file(p / "encoder.json") && fs::is_regular_file(p / "vocab.bpe")) {
      t = load_gpt2_files(p / "encoder.json", p / "vocab.bpe");
    } else if (fs::is_regular_file(p / "vocab.json") && fs::is_regular_file(p / "merges.txt")) {
      t = load_gpt2_files(p / "vocab.json", p / "merges.txt");
    } else {
      fail<IoError>("'{}' holds no tokenizer: expected tokenizer.json, tokenizer.model, or encoder.json + "
                    "vocab.bpe (or vocab.json + merges.txt)",
                    path);
    }
    apply_configs(*t, p);
    return t;
  }
  if (ends_with(path, ".gguf")) {
    const io::GgufFile g(path);
    return tok::load_gguf_tokenizer(g);
  }
  if (ends_with(path, ".model")) return tok::load_sentencepiece(path);
  auto t = tok::HfTokenizer::from_file(path);
  apply_configs(*t, p.parent_path().empty() ? fs::path(".") : p.parent_path());
  return t;
}

}  // namespace breadth
