// Text hand-off between vocabularies: a fragment re-tokenized for the other model spells exactly
// the same bytes, also for tokenizers that prepend a space marker (Llama-2's SentencePiece BPE).
#include <catch2/catch.hpp>

#include "baco/handoff.hpp"
#include "common/test_env.hpp"

using namespace breadth;

namespace {
std::string bytes(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string s;
  for (auto id : ids) s += t.token_bytes(id);
  return s;
}
}  // namespace

TEST_CASE("fragments re-tokenize to exactly their bytes") {
  auto llama2 = Tokenizer::load(breadth::test::shared_dir() + "/data/tokenizers/llama2");
  auto gpt2 = Tokenizer::load(breadth::test::fixtures_dir() + "/baco_pairs/shared/base");
  const std::vector<std::string> pieces = {
      " world", "Hello", " two  spaces", "\nNew line", ",", " 1984.", " naïve café", " 🎉 party",
      "   ", " don't", "x"};
  for (const auto& tok : {llama2, gpt2}) {
    baco::FragmentEncoder enc(tok);
    for (const auto& p : pieces) {
      INFO("'" << p << "'");
      auto ids = enc.encode(p);
      CHECK(bytes(*tok, ids) == p);
    }
  }
  // Where the canonical encoding is exact it is the one used.
  baco::FragmentEncoder g(gpt2);
  CHECK(g.encode(" world") == gpt2->encode(" world"));
  // Llama-2 spells " world" as the single piece "▁world", not "▁" + "▁world".
  baco::FragmentEncoder l(llama2);
  auto w = l.encode(" world");
  REQUIRE(w.size() == 1);
  CHECK(llama2->token_bytes(w[0]) == " world");
}

TEST_CASE("vocabulary identity decides whether ids pass directly") {
  auto a = Tokenizer::load(breadth::test::fixtures_dir() + "/baco_pairs/shared/base");
  auto b = Tokenizer::load(breadth::test::fixtures_dir() + "/baco_pairs/shared/aligned");
  auto c = Tokenizer::load(breadth::test::shared_dir() + "/data/tokenizers/llama2");
  CHECK(baco::same_vocabulary(*a, *b));
  CHECK_FALSE(baco::same_vocabulary(*a, *c));
}
