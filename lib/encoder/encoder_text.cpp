#include "encoder/encoder_text.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "core/check.hpp"
#include "core/files.hpp"

namespace breadth::model {

int64_t SegmentTemplate::added(bool is_pair) const {
  int64_t n = 0;
  for (const auto& it : is_pair ? pair : single)
    if (it.seq < 0) n += static_cast<int64_t>(it.ids.size());
  return n;
}

void SegmentTemplate::assemble(const std::vector<int32_t>& a, const std::vector<int32_t>* b,
                               std::vector<int64_t>& ids, std::vector<int64_t>& types) const {
  for (const auto& it : b ? pair : single) {
    const std::vector<int32_t>* src = it.seq < 0 ? &it.ids : it.seq == 0 ? &a : b;
    for (int32_t id : *src) {
      ids.push_back(id);
      types.push_back(it.type_id);
    }
  }
}

SegmentTemplate bert_template(int32_t cls, int32_t sep) {
  SegmentTemplate t;
  t.single = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}};
  t.pair = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}, {1, {}, 1}, {-1, {sep}, 1}};
  return t;
}

SegmentTemplate roberta_template(int32_t cls, int32_t sep) {
  SegmentTemplate t;
  t.single = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}};
  t.pair = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}, {-1, {sep}, 0}, {1, {}, 0}, {-1, {sep}, 0}};
  return t;
}

namespace {

nlohmann::json read_json_or_null(const std::string& p) {
  if (!files::is_regular_file(p)) return nullptr;
  std::ifstream in(p);
  if (!in) fail<IoError>("cannot read '{}'", p);
  auto j = nlohmann::json::parse(in, nullptr, false);
  BREADTH_CHECK_FORMAT(!j.is_discarded(), "'{}' is not valid JSON", p);
  return j;
}

// ["[SEP]", 102] of Bert/RobertaProcessing.
int32_t processing_token(const nlohmann::json& pp, const char* key, const std::string& where) {
  BREADTH_CHECK_FORMAT(pp.contains(key) && pp[key].is_array() && pp[key].size() == 2 && pp[key][1].is_number_integer(),
                       "{}: post_processor.{} must be [token, id]", where, key);
  int64_t id = pp[key][1].get<int64_t>();
  BREADTH_CHECK_FORMAT(id >= 0 && id < (int64_t{1} << 31), "{}: post_processor.{} id {} out of range", where, key, id);
  return static_cast<int32_t>(id);
}

std::vector<SegmentTemplate::Item> template_items(const nlohmann::json& pp, const char* key, const std::string& where) {
  BREADTH_CHECK_FORMAT(pp.contains(key) && pp[key].is_array(), "{}: TemplateProcessing has no '{}' list", where, key);
  const auto& specials = pp.contains("special_tokens") && pp["special_tokens"].is_object()
                             ? pp["special_tokens"]
                             : nlohmann::json::object();
  std::vector<SegmentTemplate::Item> out;
  for (const auto& it : pp[key]) {
    SegmentTemplate::Item item;
    if (it.contains("Sequence") && it["Sequence"].is_object()) {
      const auto& s = it["Sequence"];
      std::string id = s.value("id", "A");
      BREADTH_CHECK_FORMAT(id == "A" || id == "B", "{}: TemplateProcessing sequence '{}' (A or B)", where, id);
      item.seq = id == "A" ? 0 : 1;
      item.type_id = s.value("type_id", int64_t{0});
    } else if (it.contains("SpecialToken") && it["SpecialToken"].is_object()) {
      const auto& s = it["SpecialToken"];
      std::string id = s.value("id", "");
      BREADTH_CHECK_FORMAT(specials.contains(id) && specials[id].contains("ids") && specials[id]["ids"].is_array(),
                           "{}: TemplateProcessing uses '{}', missing from special_tokens", where, id);
      for (const auto& v : specials[id]["ids"]) {
        BREADTH_CHECK_FORMAT(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < (int64_t{1} << 31),
                             "{}: special token '{}' has an invalid id", where, id);
        item.ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
      }
      item.type_id = s.value("type_id", int64_t{0});
    } else {
      fail<FormatError>("{}: TemplateProcessing item must be 'Sequence' or 'SpecialToken'", where);
    }
    BREADTH_CHECK_FORMAT(item.type_id >= 0 && item.type_id < 1024, "{}: type_id {} out of range", where, item.type_id);
    out.push_back(std::move(item));
  }
  return out;
}

// A post_processor entry, looking inside a Sequence for the one that places special tokens.
const nlohmann::json* find_processor(const nlohmann::json& pp) {
  if (!pp.is_object()) return nullptr;
  const std::string type = pp.value("type", "");
  if (type == "TemplateProcessing" || type == "BertProcessing" || type == "RobertaProcessing") return &pp;
  if (type == "Sequence" && pp.contains("processors") && pp["processors"].is_array())
    for (const auto& p : pp["processors"])
      if (auto* f = find_processor(p)) return f;
  return nullptr;
}

// cls_token / sep_token as named in the tokenizer's config files (a string or {"content": ...}).
std::string config_token(const std::string& dir, const char* key) {
  for (const char* file : {"special_tokens_map.json", "tokenizer_config.json"}) {
    auto j = read_json_or_null(files::join(dir, file));
    if (!j.is_object() || !j.contains(key)) continue;
    const auto& v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  }
  return "";
}

}  // namespace

SegmentTemplate read_segment_template(const std::string& dir, const Tokenizer& tokenizer, bool roberta_style,
                                      bool plain_default) {
  const std::string& root = dir;
  const std::string where = files::join(root, "tokenizer.json");
  auto tj = read_json_or_null(files::join(root, "tokenizer.json"));
  if (tj.is_object() && tj.contains("post_processor")) {
    if (const auto* pp = find_processor(tj["post_processor"])) {
      const std::string type = pp->value("type", "");
      if (type == "BertProcessing")
        return bert_template(processing_token(*pp, "cls", where), processing_token(*pp, "sep", where));
      if (type == "RobertaProcessing")
        return roberta_template(processing_token(*pp, "cls", where), processing_token(*pp, "sep", where));
      SegmentTemplate t;
      t.single = template_items(*pp, "single", where);
      t.pair = template_items(*pp, "pair", where);
      return t;
    }
  }
  if (plain_default) {
    SegmentTemplate t;
    t.single = {SegmentTemplate::Item{0, {}, 0}};
    t.pair = {SegmentTemplate::Item{0, {}, 0}, SegmentTemplate::Item{1, {}, 0}};
    return t;
  }
  // No usable post-processor (e.g. DeBERTa-v3's spm.model): the family's layout around the
  // tokens the config files name.
  std::string cls = config_token(root, "cls_token"), sep = config_token(root, "sep_token");
  if (cls.empty()) cls = roberta_style ? "<s>" : "[CLS]";
  if (sep.empty()) sep = roberta_style ? "</s>" : "[SEP]";
  auto cls_id = tokenizer.token_to_id(cls), sep_id = tokenizer.token_to_id(sep);
  if (!cls_id || !sep_id)
    fail<FormatError>("'{}': the tokenizer has no '{}' or '{}' token to frame encoder inputs with; add "
                      "cls_token/sep_token to tokenizer_config.json or save the tokenizer with tokenizer.json",
                      dir, cls, sep);
  return roberta_style ? roberta_template(*cls_id, *sep_id) : bert_template(*cls_id, *sep_id);
}

void truncate_longest_first(std::vector<int32_t>& a, std::vector<int32_t>& b, int64_t budget) {
  budget = std::max<int64_t>(budget, 0);
  size_t n1 = a.size(), n2 = b.size();
  if (static_cast<int64_t>(n1 + n2) <= budget) return;
  const size_t max_len = static_cast<size_t>(budget);
  // tokenizers' LongestFirst: the shorter side keeps what it has when it fits in half the budget;
  // otherwise both get half (the longer one the odd token).
  const bool swap = n1 > n2;
  if (swap) std::swap(n1, n2);
  n2 = n1 > max_len ? n1 : std::max(n1, max_len - n1);
  if (n1 + n2 > max_len) {
    n1 = max_len / 2;
    n2 = n1 + max_len % 2;
  }
  if (swap) std::swap(n1, n2);
  if (a.size() > n1) a.resize(n1);
  if (b.size() > n2) b.resize(n2);
}

EncoderBatch pad_rows(const std::vector<EncodedRow>& rows, int64_t pad_id) {
  size_t T = 1;
  for (const auto& r : rows) T = std::max(T, r.ids.size());
  const int64_t B = static_cast<int64_t>(rows.size());
  EncoderBatch out;
  out.ids = torch::full({B, static_cast<int64_t>(T)}, pad_id, torch::kInt64);
  out.mask = torch::zeros({B, static_cast<int64_t>(T)}, torch::kInt64);
  out.type_ids = torch::zeros({B, static_cast<int64_t>(T)}, torch::kInt64);
  auto ia = out.ids.accessor<int64_t, 2>();
  auto ma = out.mask.accessor<int64_t, 2>();
  auto ta = out.type_ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = rows[static_cast<size_t>(b)];
    for (size_t t = 0; t < r.ids.size(); ++t) {
      ia[b][static_cast<int64_t>(t)] = r.ids[t];
      ta[b][static_cast<int64_t>(t)] = r.types[t];
      ma[b][static_cast<int64_t>(t)] = 1;
    }
  }
  return out;
}

}  // namespace breadth::model
