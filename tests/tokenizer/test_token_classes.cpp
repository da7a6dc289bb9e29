// Token classes: hand-worked cases on a fake vocabulary, and every id of real vocabularies (Qwen3,
// Llama-3.1, Llama-2, SmolLM2's GGUF) against an independent Python computation over the same text
// with unicodedata (fixture token_classes).
#include <catch2/catch.hpp>

#include <map>

#include "breadth/tokenizer.hpp"
#include "common/fixture_json.hpp"
#include "common/require_input.hpp"
#include "common/test_env.hpp"
#include "tokenizer/token_classes.hpp"

using breadth::tok::classify_token_text;
using Json = nlohmann::ordered_json;

namespace {

// A vocabulary given as (bytes, special) pairs; only what compute_token_classes reads is real.
class FakeTokenizer : public breadth::Tokenizer {
 public:
  explicit FakeTokenizer(std::vector<std::pair<std::string, bool>> vocab) : vocab_(std::move(vocab)) {}
  std::vector<int32_t> encode(std::string_view, bool) const override { return {}; }
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::string out;
    for (int32_t id : ids)
      if (!(skip_special && is_special(id))) out += token_bytes(id);
    return out;
  }
  std::string token_bytes(int32_t id) const override { return vocab_.at(static_cast<size_t>(id)).first; }
  std::optional<int32_t> token_to_id(std::string_view t) const override {
    for (size_t i = 0; i < vocab_.size(); ++i)
      if (vocab_[i].first == t) return static_cast<int32_t>(i);
    return std::nullopt;
  }
  int32_t vocab_size() const override { return static_cast<int32_t>(vocab_.size()); }
  bool is_special(int32_t id) const override { return vocab_.at(static_cast<size_t>(id)).second; }

 private:
  std::vector<std::pair<std::string, bool>> vocab_;
};

struct Expect {
  const char* text;
  bool special, starts, punct, ends, function_word;
};

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("token classes: hand-worked cases") {
  // text, special, starts_word, is_punctuation, ends_word, is_function_word
  const Expect cases[] = {
      {",", false, true, true, true, false},
      {"$", false, true, true, true, false},             // Sc: a symbol counts as punctuation/formatting
      {"\xF0\x9F\x8E\x89", false, true, true, true, false},  // 🎉 So
      {" ", false, true, true, true, false},             // whitespace only
      {"\n\n", false, true, true, true, false},
      {"\t", false, true, true, true, false},
      {"", false, true, true, true, false},              // nothing left once whitespace is removed
      {" \xC2\xA0", false, true, true, true, false},     // NBSP is whitespace
      {"...", false, true, true, true, false},
      {" (", false, true, true, true, false},
      {"\xE3\x80\x82", false, true, true, true, false},  // 。 Po
      {"<|im_end|>", true, true, true, true, false},     // special tokens count as formatting
      {"<|im_end|>", false, true, false, true, false},   // the same text as an ordinary token: '<' starts... no
      {" the", false, true, false, false, true},         // Ġthe, decoded
      {"\xE2\x96\x81the", false, true, false, false, true},  // ▁the, SentencePiece's marker kept
      {"the", false, false, false, false, true},         // a function word wherever it stands
      {"The", false, false, false, false, true},
      {" AND", false, true, false, false, true},
      {" I", false, true, false, false, true},
      {" theory", false, true, false, false, false},
      {"ing", false, false, false, false, false},
      {"end.", false, false, false, true, false},
      {" it's", false, true, false, false, true},        // the word it starts is "it"
      {"x\n", false, false, false, true, false},
      {"\xE4\xBD\xA0\xE5\xA5\xBD", false, false, false, false, false},  // 你好: CJK has no spaces
      {"\xE4\xBD", false, false, false, false, false},   // half a character: no class
      {" \xE4", false, true, false, false, false},
      {"\xA0", false, false, false, false, false},       // a stray continuation byte
      {"9", false, false, false, false, false},
      {" 2024", false, true, false, false, false},
      {"\x01", false, false, false, false, false},       // a control character is not whitespace
  };
  for (const auto& e : cases) {
    INFO("token text: '" << e.text << "' special=" << e.special);
    const auto c = classify_token_text(e.text, e.special);
    // `<|im_end|>` as ordinary text: starts with '<' (Sm) but has letters, so it is not punctuation;
    // it does not begin with whitespace, hence does not start a word; it ends with '>' (Sm).
    if (std::string(e.text) == "<|im_end|>" && !e.special) {
      CHECK_FALSE(c.starts_word);
      CHECK_FALSE(c.is_punctuation);
      CHECK(c.ends_word);
      continue;
    }
    CHECK(c.starts_word == e.starts);
    CHECK(c.is_punctuation == e.punct);
    CHECK(c.ends_word == e.ends);
    CHECK(c.is_function_word == e.function_word);
  }
  CHECK(classify_token_text(" It's", false).word == "it");
  CHECK(classify_token_text("\xE2\x96\x81\xC3\x89t\xC3\xA9", false).word == "\xC3\xA9t\xC3\xA9");  // ▁Été -> été
}

TEST_CASE("token classes: computed over a whole (fake) vocabulary") {
  FakeTokenizer tok({{"<s>", true}, {" the", false}, {"cat", false}, {".", false}, {"\n", false}, {"s", false}});
  const breadth::TokenClasses c = breadth::compute_token_classes(tok);
  REQUIRE(c.starts_word.size() == 6);
  CHECK(c.is_special == std::vector<uint8_t>{1, 0, 0, 0, 0, 0});
  CHECK(c.is_punctuation == std::vector<uint8_t>{1, 0, 0, 1, 1, 0});
  CHECK(c.starts_word == std::vector<uint8_t>{1, 1, 0, 1, 1, 0});
  CHECK(c.ends_word == std::vector<uint8_t>{1, 0, 0, 1, 1, 0});
  CHECK(c.is_function_word == std::vector<uint8_t>{0, 1, 0, 0, 0, 0});
  // Tokenizer::token_classes() computes once and caches.
  CHECK(&tok.token_classes() == &tok.token_classes());
  CHECK(tok.token_classes().is_function_word[1] == 1);
}

TEST_CASE("function-word list is closed-class English, lowercased") {
  const auto& w = breadth::tok::function_words();
  for (const char* x : {"the", "a", "of", "and", "is", "would", "she", "which", "not", "to"}) CHECK(w.count(x) == 1);
  for (const char* x : {"cat", "run", "blue", "quickly", "The", ""}) CHECK(w.count(x) == 0);
  CHECK(w.size() > 150);
}

TEST_CASE("token classes of real vocabularies match an independent Python computation") {
  const Json data = breadth::test::read_fixture_json("token_classes", "token_classes.json");
  // Every vocabulary the fixture was built for; SmolLM2's GGUF may be absent only under the explicit
  // opt-out (common/require_input.hpp), and then the fixture says so.
  for (const char* want : {"qwen3", "llama3_1", "llama2", "smollm2-gguf"}) {
    if (std::string(want) == "smollm2-gguf" && !data.contains(want) &&
        !BREADTH_REQUIRE_INPUT(breadth::test::models_dir() + "/smollm2-135m-instruct.gguf"))
      continue;
    INFO("vocabulary " << want << " (fixture token_classes)");
    CHECK(data.contains(want));
  }
  for (auto it = data.begin(); it != data.end(); ++it) {
    const std::string name = it.key();
    const Json& e = it.value();
    INFO("vocabulary " << name);
    const size_t n = e["n"].get<size_t>();
    std::vector<uint8_t> skip(n, 0);
    for (const auto& i : e["hole"]) skip[i.get<size_t>()] = 1;
    for (const auto& i : e["uncertain"]) skip[i.get<size_t>()] = 1;
    const auto& bytes = e["bytes"];
    const auto& special = e["special"];
    const char* const kFields[] = {"is_punctuation", "starts_word", "ends_word", "is_function_word"};

    // 1. The classification of each token's text, given the text Python rebuilt from the vocabulary.
    size_t mismatches = 0;
    for (size_t id = 0; id < n; ++id) {
      if (skip[id]) continue;
      const auto c = classify_token_text(hex_to_bytes(bytes[id].get<std::string>()), special[id].get<int>() != 0);
      const bool got[] = {c.is_punctuation, c.starts_word, c.ends_word, c.is_function_word};
      for (int f = 0; f < 4; ++f) {
        if (got[f] != (e[kFields[f]][id].get<int>() != 0) && ++mismatches <= 10)
          FAIL_CHECK(name << " id " << id << " bytes " << bytes[id] << ": " << kFields[f] << " " << got[f]);
      }
    }
    CHECK(mismatches == 0);

    // 2. End to end: breadth's own tokenizer (token_bytes, is_special) and compute_token_classes.
    std::shared_ptr<breadth::Tokenizer> tok;
    try {
      tok = breadth::Tokenizer::load(e["path"].get<std::string>());
    } catch (const std::exception& ex) {
      FAIL_CHECK("Tokenizer::load(" << e["path"] << ") failed: " << ex.what());
      continue;
    }
    REQUIRE(static_cast<size_t>(tok->vocab_size()) >= n);
    const breadth::TokenClasses& tc = tok->token_classes();
    const std::vector<uint8_t>* arrays[] = {&tc.is_punctuation, &tc.starts_word, &tc.ends_word, &tc.is_function_word};
    size_t byte_diffs = 0, special_diffs = 0, class_diffs = 0;
    for (size_t id = 0; id < n; ++id) {
      if (skip[id]) continue;
      const std::string expect_bytes = hex_to_bytes(bytes[id].get<std::string>());
      const bool expect_special = special[id].get<int>() != 0;
      if (tok->token_bytes(static_cast<int32_t>(id)) != expect_bytes && ++byte_diffs <= 5)
        FAIL_CHECK(name << " id " << id << ": token_bytes differs from the vocabulary's text " << bytes[id]);
      if (tok->is_special(static_cast<int32_t>(id)) != expect_special && ++special_diffs <= 5)
        FAIL_CHECK(name << " id " << id << ": is_special differs (expected " << expect_special << ")");
      for (int f = 0; f < 4; ++f)
        if (((*arrays[f])[id] != 0) != (e[kFields[f]][id].get<int>() != 0) && ++class_diffs <= 5)
          FAIL_CHECK(name << " id " << id << " bytes " << bytes[id] << ": " << kFields[f] << " differs");
    }
    CHECK(byte_diffs == 0);
    CHECK(special_diffs == 0);
    CHECK(class_diffs == 0);
  }
}
