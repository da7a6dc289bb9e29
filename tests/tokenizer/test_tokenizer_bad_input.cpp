// Bad input gives a clear breadth::Error naming the file, never a crash: missing paths, malformed
// tokenizer.json, unknown model/stage types, merges naming missing tokens, bad regexes, and the UTF-8
// repair of invalid text compared with Python's bytes.decode("utf-8", "replace").
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

#include "breadth/error.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "core/utf8.hpp"

using namespace breadth;
using nlohmann::json;

namespace {

std::string scratch() {
  std::string d = files::join(files::temp_dir(), "breadth_tok_bad_" + std::to_string(std::random_device{}()));
  files::make_dirs(d);
  return d;
}

std::string write(const std::string& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

json minimal() {
  return {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}}};
}

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("loading from a bad path is a clear error", "[tokenizer][bad]") {
  const std::string d = scratch();
  CHECK_THROWS_AS(Tokenizer::load(files::join(d, "missing")), IoError);
  files::make_dirs(files::join(d, "empty"));
  CHECK_THROWS_WITH(Tokenizer::load(files::join(d, "empty")), Catch::Contains("holds no tokenizer"));
  CHECK_THROWS_AS(Tokenizer::load(write(files::join(d, "junk.json"), "{not json")), FormatError);
  CHECK_THROWS_AS(Tokenizer::load(write(files::join(d, "junk.model"), "not a sentencepiece model")), FormatError);
  CHECK_THROWS_AS(Tokenizer::load(write(files::join(d, "junk.gguf"), "GGUF")), FormatError);
  CHECK(breadth::test::remove_tree(d));
}

TEST_CASE("malformed tokenizer.json content is a FormatError or Unsupported", "[tokenizer][bad]") {
  CHECK(tok::HfTokenizer::from_json(minimal(), "t")->encode("ab") == std::vector<int32_t>{2});
  auto with = [](const char* key, json v) {
    json j = minimal();
    j[key] = std::move(v);
    return j;
  };
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(json::array(), "t"), FormatError);
  CHECK_THROWS_WITH(tok::HfTokenizer::from_json(json::object(), "t.json"), Catch::Contains("t.json") && Catch::Contains("model"));
  // An empty Unigram vocabulary loads (as in tokenizers); encoding needs an unk_id it lacks.
  const auto empty_unigram = tok::HfTokenizer::from_json(with("model", {{"type", "Unigram"}, {"vocab", json::array()}}), "t");
  CHECK_THROWS_AS(empty_unigram->encode("ab"), FormatError);
  CHECK(empty_unigram->encode("").empty());
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("model", {{"type", "Nope"}}), "t"), Unsupported);
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("normalizer", {{"type", "Precompiled"}}), "t"), FormatError);
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("pre_tokenizer", {{"type", "UnicodeScripts"}}), "t"), Unsupported);
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("decoder", {{"type", "CTC"}}), "t"), Unsupported);
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("normalizer", "NFC"), "t"), FormatError);
  // A merge of tokens the vocabulary lacks, or one without a separating space.
  json bad_merge = minimal();
  bad_merge["model"]["merges"] = {"a c"};
  CHECK_THROWS_WITH(tok::HfTokenizer::from_json(bad_merge, "t"), Catch::Contains("merge #0"));
  bad_merge["model"]["merges"] = {"ab"};
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(bad_merge, "t"), FormatError);
  bad_merge["model"]["merges"] = {json::array({1, 2})};
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(bad_merge, "t"), FormatError);
  // Wrong value types, negative and duplicate ids.
  json bad_vocab = minimal();
  bad_vocab["model"]["vocab"]["a"] = "zero";
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(bad_vocab, "t"), FormatError);
  bad_vocab["model"]["vocab"]["a"] = -3;
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(bad_vocab, "t"), FormatError);
  bad_vocab["model"]["vocab"]["a"] = 1;
  CHECK_THROWS_WITH(tok::HfTokenizer::from_json(bad_vocab, "t"), Catch::Contains("id 1"));
  // A regex that does not compile names the file and the pattern.
  json bad_re = with("pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}});
  CHECK_THROWS_WITH(tok::HfTokenizer::from_json(bad_re, "t.json"), Catch::Contains("t.json") && Catch::Contains("(unclosed"));
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "a"}}},
                                                                     {"behavior", "Sideways"}}),
                                              "t"),
                  FormatError);
  // An added token that is not UTF-8 or has a negative id.
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("added_tokens", {{{"id", 5}, {"content", "\xff"}}}), "t"), FormatError);
  CHECK_THROWS_AS(tok::HfTokenizer::from_json(with("added_tokens", {{{"id", -1}, {"content", "x"}}}), "t"), FormatError);
}

TEST_CASE("decode drops unknown ids; token_bytes rejects them", "[tokenizer][bad]") {
  auto t = tok::HfTokenizer::from_json(minimal(), "t");
  CHECK(t->decode({2, 99, -5, 0}) == "ab a");
  CHECK_THROWS_AS(t->token_bytes(99), InvalidArgument);
}

TEST_CASE("UTF-8 repair matches Python's errors='replace'", "[tokenizer][bad][utf8]") {
  std::ifstream f(test::fixtures_dir() + "/tokenizer_utf8/utf8.jsonl");
  REQUIRE(f.good());
  std::string line;
  size_t n = 0;
  while (std::getline(f, line)) {
    const auto j = json::parse(line);
    const std::string bytes = hex_to_bytes(j.at("hex").get<std::string>());
    INFO("bytes " << j.at("hex").get<std::string>());
    CHECK(tok::sanitize_utf8(bytes) == j.at("text").get<std::string>());
    ++n;
  }
  CHECK(n > 100);
}
