// GGUF SentencePiece-style vocabularies (tokenizer.ggml.model = "llama"/"gemma4"): the merges derived
// from scores against transformers' own derivation, hand-worked merge orders, special ids, the chat
// template and malformed files. Ids on the corpus are checked by tokenizer_corpus (same fixture).
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "breadth/chat_template.hpp"
#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "tokenizer/corpus_refs.hpp"
#include "tokenizer/spm_merges.hpp"

using namespace breadth;
using Merges = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string gguf_dir() { return test::tokenizer_fixture_dir() + "/gguf"; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

}  // namespace

TEST_CASE("merges from scores: hand-worked order", "[tokenizer][gguf]") {
  // Per token: its splits into two known parts, ordered by the parts' ids; then all merges stably
  // sorted by (score, left length, right length), descending.
  //   "ab" -> (a,b) @-1;  "abc" -> (a,bc) (ids 0,5), (ab,c) (ids 2,3) @-2;  "bc" -> (b,c) @-1
  //   score -1: (a,b), (b,c) in token order; score -2: (ab,c) before (a,bc) (longer left part).
  const std::vector<std::string> tokens = {"a", "b", "ab", "c", "abc", "bc"};
  const std::vector<double> scores = {0, 0, -1, 0, -2, -1};
  CHECK(tok::merges_from_scores(tokens, scores) == Merges{{"a", "b"}, {"b", "c"}, {"ab", "c"}, {"a", "bc"}});

  // Splits fall between code points, never inside a UTF-8 sequence; lengths count code points:
  // (é,éa) has left length 1 and (éé,a) left length 2, so at equal scores (éé,a) comes first.
  CHECK(tok::merges_from_scores({"\xC3\xA9", "a", "\xC3\xA9\xC3\xA9", "\xC3\xA9" "a", "\xC3\xA9\xC3\xA9" "a"},
                                {0, 0, -3, -3, -1}) ==
        Merges{{"\xC3\xA9\xC3\xA9", "a"}, {"\xC3\xA9", "\xC3\xA9" "a"}, {"\xC3\xA9", "\xC3\xA9"}, {"\xC3\xA9", "a"}});

  // A repeated token keeps its first position and its last score (Python dict semantics): "xy"
  // scores -9 through its repeat, so (x,z) at -2 comes first (with its first score, -1, it would not).
  CHECK(tok::merges_from_scores({"x", "y", "z", "xy", "xz", "xy"}, {0, 0, 0, -1, -2, -9}) ==
        Merges{{"x", "z"}, {"x", "y"}});
  CHECK_THROWS_AS(tok::merges_from_scores({"a", "b"}, {0, NAN}), InvalidArgument);
  CHECK_THROWS_AS(tok::merges_from_scores({"a", "b"}, {0}), InvalidArgument);
  CHECK_THROWS_AS(tok::merges_from_scores({"a", "\xFF"}, {0, 0}), InvalidArgument);
}

TEST_CASE("merges from scores equal transformers' on the Llama-2 vocabulary", "[tokenizer][gguf]") {
  const auto j = read_json(gguf_dir() + "/llama2_gguf_scores.merges.json");
  const auto tokens = j.at("tokens").get<std::vector<std::string>>();
  const auto scores = j.at("scores").get<std::vector<double>>();
  Merges want;
  for (const auto& m : j.at("merges")) want.emplace_back(m.at(0).get<std::string>(), m.at(1).get<std::string>());
  const Merges got = tok::merges_from_scores(tokens, scores);
  REQUIRE(want.size() > 50000);
  size_t k = 0;
  while (k < got.size() && k < want.size() && got[k] == want[k]) ++k;
  INFO(fmt::format("{} merges (reference {}); first difference at {}", got.size(), want.size(), k));
  CHECK(k == want.size());
  CHECK(got.size() == want.size());
}

TEST_CASE("GGUF SentencePiece vocabularies: special ids, size and chat template as transformers", "[tokenizer][gguf]") {
  const auto facts = read_json(gguf_dir() + "/facts.json");
  REQUIRE(facts.size() == 5);
  for (const auto& f : facts) {
    const std::string name = f.at("name").get<std::string>();
    INFO("GGUF " << name);
    const auto t = Tokenizer::load(f.at("path").get<std::string>());
    CHECK(t->vocab_size() == f.at("vocab_size").get<int32_t>());
    REQUIRE(t->bos_id().has_value());
    CHECK(*t->bos_id() == f.at("bos_id").get<int32_t>());
    REQUIRE(!t->eos_ids().empty());
    CHECK(t->eos_ids()[0] == f.at("eos_id").get<int32_t>());
    if (f.at("pad_id").is_null()) CHECK_FALSE(t->pad_id().has_value());
    else CHECK(t->pad_id() == std::optional<int32_t>(f.at("pad_id").get<int32_t>()));
    for (int32_t id : f.at("special_ids").get<std::vector<int32_t>>()) CHECK(t->is_special(id));
    if (f.at("chat").is_string()) {
      REQUIRE(t->chat_template() != nullptr);
      CHECK(t->chat_template()->render_user_turn("Hi there") == f.at("chat").get<std::string>());
    } else {
      CHECK(t->chat_template() == nullptr);
    }
  }
}

TEST_CASE("malformed SentencePiece GGUF vocabularies are rejected clearly", "[tokenizer][gguf]") {
  const std::string bad = gguf_dir() + "/bad/";
  auto message = [](const std::string& path) {
    try {
      Tokenizer::load(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK_THROWS_AS(Tokenizer::load(bad + "no_scores.gguf"), FormatError);
  CHECK_THAT(message(bad + "no_scores.gguf"), Catch::Contains("tokenizer.ggml.scores"));
  CHECK_THROWS_AS(Tokenizer::load(bad + "nan_score.gguf"), FormatError);
  CHECK_THAT(message(bad + "nan_score.gguf"), Catch::Contains("NaN"));
  CHECK_THROWS_AS(Tokenizer::load(bad + "short_scores.gguf"), FormatError);
  CHECK_THROWS_AS(Tokenizer::load(bad + "bos_out_of_range.gguf"), FormatError);
  CHECK_THAT(message(bad + "bos_out_of_range.gguf"), Catch::Contains("bos_token_id"));
  CHECK_THROWS_AS(Tokenizer::load(bad + "unknown_model.gguf"), Unsupported);
  CHECK_THAT(message(bad + "unknown_model.gguf"), Catch::Contains("bert-unknown"));
  // llama.cpp vocabulary values breadth cannot tokenize as the model does: refused, naming the value.
  const std::string bad_pre = test::tokenizer_fixture_dir() + "/gguf_pre/bad/";
  CHECK_THROWS_AS(Tokenizer::load(bad_pre + "unknown_pre.gguf"), Unsupported);
  CHECK_THAT(message(bad_pre + "unknown_pre.gguf"), Catch::Contains("'no-such-pre'"));
  CHECK_THROWS_AS(Tokenizer::load(bad_pre + "plamo2_model.gguf"), Unsupported);
  CHECK_THAT(message(bad_pre + "plamo2_model.gguf"), Catch::Contains("'plamo2'"));
  CHECK_THROWS_AS(Tokenizer::load(bad_pre + "hybriddna_model.gguf"), Unsupported);
  CHECK_THAT(message(bad_pre + "hybriddna_model.gguf"), Catch::Contains("'hybriddna'"));
  CHECK_THROWS_AS(Tokenizer::load(bad_pre + "rwkv_bad_escape.gguf"), FormatError);
  CHECK_THAT(message(bad_pre + "rwkv_bad_escape.gguf"), Catch::Contains("\\x4"));
  CHECK_THROWS_AS(Tokenizer::load(bad_pre + "whitespace_other_pre.gguf"), Unsupported);
  CHECK_THAT(message(bad_pre + "whitespace_other_pre.gguf"), Catch::Contains("'qwen2'"));
}

TEST_CASE("rwkv GGUF vocabularies: greedy longest byte match over the unescaped tokens, hand-worked",
          "[tokenizer][gguf]") {
  // Tokens (ids in order): <s> (control), a, b, ab, abc, \n, \xe4\xbd\xa0, \\, \', ", c, [PAD1] (unused).
  const auto t = Tokenizer::load(test::tokenizer_fixture_dir() + "/gguf_pre/rwkv_small.gguf");
  CHECK(t->vocab_size() == 12);
  using V = std::vector<int32_t>;
  CHECK(t->encode("abcab", false) == V{4, 3});          // longest first: abc, then ab
  CHECK(t->encode("aabcb", false) == V{1, 4, 2});
  CHECK(t->encode("abab\nc", false) == V{3, 3, 5, 10});  // \n escape is the newline byte
  CHECK(t->encode("\xe4\xbd\xa0" "a", false) == V{6, 1});   // \xNN escapes are raw bytes (U+4F60)
  CHECK(t->encode("a\\b'\"", false) == V{1, 7, 2, 8, 9});
  CHECK(t->encode("a<s>b", false) == V{1, 0, 2});       // control tokens are cut out first
  CHECK(t->encode("abd", true) == V{3});                // no token for 'd' and no unknown token: dropped
  CHECK(t->encode("[PAD1]", false).empty());             // unused slots are never matched
  CHECK(t->is_special(0));
  CHECK_FALSE(t->is_special(4));
  CHECK(t->decode(V{4, 5, 6, 7, 8, 9}) == "abc\n\xe4\xbd\xa0\\'\"");
  CHECK(t->decode(V{0, 1}, true) == "a");
  CHECK(t->decode(V{0, 1}, false) == "<s>a");
  CHECK(t->token_bytes(6) == "\xe4\xbd\xa0");
  CHECK(t->token_to_id("abc") == std::optional<int32_t>(4));
}

TEST_CASE("t5 (UGM) GGUF vocabularies: special ids and sentinels as T5Tokenizer; bad files refused",
          "[tokenizer][gguf]") {
  const std::string dir = test::tokenizer_fixture_dir() + "/ugm/gguf/";
  const auto f = read_json(dir + "facts.json");
  const auto t = Tokenizer::load(dir + "t5_gguf.gguf");
  // Every slot of the file (the model's embedding rows), past the tokenizer's own pieces.
  CHECK(t->vocab_size() == f.at("vocab_size").get<int32_t>());
  CHECK_FALSE(t->bos_id().has_value());
  REQUIRE(!t->eos_ids().empty());
  CHECK(t->eos_ids()[0] == f.at("eos_id").get<int32_t>());
  CHECK(t->pad_id() == std::optional<int32_t>(f.at("pad_id").get<int32_t>()));
  const int32_t s0 = f.at("sentinel_0").get<int32_t>();
  CHECK(t->encode("<extra_id_0>", false) == std::vector<int32_t>{s0});
  CHECK(t->is_special(s0));
  CHECK(t->is_special(f.at("unk_id").get<int32_t>()));
  CHECK(t->encode("", true) == std::vector<int32_t>{f.at("eos_id").get<int32_t>()});

  auto message = [](const std::string& path) {
    try {
      Tokenizer::load(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string bad = dir + "bad/";
  CHECK_THROWS_AS(Tokenizer::load(bad + "t5_no_scores.gguf"), FormatError);
  CHECK_THAT(message(bad + "t5_no_scores.gguf"), Catch::Contains("tokenizer.ggml.scores"));
  CHECK_THROWS_AS(Tokenizer::load(bad + "t5_nan_score.gguf"), FormatError);
  CHECK_THAT(message(bad + "t5_nan_score.gguf"), Catch::Contains("NaN"));
  CHECK_THROWS_AS(Tokenizer::load(bad + "t5_no_unk.gguf"), FormatError);
  CHECK_THAT(message(bad + "t5_no_unk.gguf"), Catch::Contains("unknown_token_id"));
  // A truncated charsmap is refused when the tokenizer is built or at the first lookup, never read
  // out of bounds.
  CHECK_THROWS_AS(Tokenizer::load(bad + "t5_bad_charsmap.gguf")->encode("Hello world", false), FormatError);
}
