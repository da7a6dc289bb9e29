// SentencePiece .model files (trained at test time by the Python sentencepiece package) against
// Python sentencepiece: ids and decodes on held-out real text, and streaming decode.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "breadth/chat_template.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"

using namespace breadth;

TEST_CASE("SentencePiece models encode and decode like Python sentencepiece", "[tokenizer][sentencepiece]") {
  const std::string dir = test::fixtures_dir() + "/tokenizer_sp";
  std::vector<std::string> corpus;
  {
    std::ifstream f(dir + "/corpus.jsonl");
    std::string line;
    while (std::getline(f, line)) corpus.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  REQUIRE(corpus.size() > 500);
  for (const std::string name : {"bpe_bytefallback", "unigram"}) {
    INFO("model " << name);
    std::shared_ptr<const Tokenizer> tok = Tokenizer::load(dir + "/" + name + ".model");
    std::ifstream f(dir + "/ref_" + name + ".jsonl");
    std::string line;
    size_t i = 0, bad = 0, bad_stream = 0;
    std::string report;
    while (std::getline(f, line)) {
      const auto j = nlohmann::json::parse(line);
      const auto want = j.at("ids").get<std::vector<int32_t>>();
      const auto want_text = j.at("decode").get<std::string>();
      const auto got = tok->encode(corpus[i], false);
      const auto text = tok->decode(want);
      if ((got != want || text != want_text) && ++bad <= 5)
        report += fmt::format("\nline {}: {:?}: encode {} decode {:?} vs {:?}", i, corpus[i], got == want ? "ok" : "differs",
                              text, want_text);
      // BOS in front with add_special.
      auto with_bos = tok->encode(corpus[i], true);
      CHECK(with_bos.size() == got.size() + 1);
      CHECK(with_bos.front() == *tok->bos_id());
      // Streaming gives the same text as decode (the dummy-prefix space of the first piece dropped).
      if (want_text.find("\xEF\xBF\xBD") == std::string::npos && want_text.find("\xE2\x81\x87") == std::string::npos) {
        IncrementalDecoder d(tok);
        std::string s;
        for (int32_t id : want) s += d.push(id);
        s += d.flush();
        if (s != want_text && ++bad_stream <= 3) report += fmt::format("\nline {}: streamed {:?} vs {:?}", i, s, want_text);
      }
      ++i;
    }
    INFO(report);
    CHECK(i == corpus.size());
    CHECK(bad == 0);
    CHECK(bad_stream == 0);
  }
}

TEST_CASE("a directory with tokenizer.model reads tokenizer_config.json like transformers", "[tokenizer][sentencepiece]") {
  const std::string dir = test::fixtures_dir() + "/tokenizer_sp";
  std::ifstream f(dir + "/sp_dirs.json");
  REQUIRE(f.good());
  const auto facts = nlohmann::json::parse(f);
  REQUIRE(facts.size() == 2);
  for (const auto& d : facts) {
    INFO("directory " << d.at("name").get<std::string>());
    const auto tok = Tokenizer::load(d.at("path").get<std::string>());
    REQUIRE(tok->bos_id().has_value());
    CHECK(*tok->bos_id() == d.at("bos_id").get<int32_t>());
    // transformers' eos_token, then generation_config.json's ids; breadth may add known end tokens after.
    const auto want_eos = d.at("eos_ids").get<std::vector<int32_t>>();
    REQUIRE(tok->eos_ids().size() >= want_eos.size());
    CHECK(std::vector<int32_t>(tok->eos_ids().begin(), tok->eos_ids().begin() + want_eos.size()) == want_eos);
    if (d.at("pad_id").is_null()) CHECK_FALSE(tok->pad_id().has_value());
    else CHECK(tok->pad_id() == std::optional<int32_t>(d.at("pad_id").get<int32_t>()));
    REQUIRE(tok->chat_template() != nullptr);
    CHECK(tok->chat_template()->render_user_turn("Hi there") == d.at("chat").get<std::string>());
    for (const auto& line : d.at("lines")) {
      INFO("text " << line.at("text").get<std::string>());
      CHECK(tok->encode(line.at("text").get<std::string>(), true) == line.at("ids_special").get<std::vector<int32_t>>());
    }
  }
}
