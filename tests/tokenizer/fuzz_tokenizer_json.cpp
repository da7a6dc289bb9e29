// Fuzz target: a tokenizer.json from arbitrary bytes. Parsing and building must end in a tokenizer
// or a breadth::Error; a built tokenizer must encode, decode and stream without crashing.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "breadth/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    std::shared_ptr<const breadth::Tokenizer> t = breadth::tok::HfTokenizer::from_json(j, "fuzz.json");
    for (const char* text : {"Hello world! It's 2024.", "  x\t\n y ", "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80", "a\xFF" "b"}) {
      const auto ids = t->encode(text, true);
      (void)t->decode(ids, false);
      (void)t->decode(ids, true);
      breadth::IncrementalDecoder d(t);
      for (int32_t id : ids) (void)d.push(id);
      (void)d.flush();
      for (int32_t id : ids) (void)t->token_bytes(id);
    }
  } catch (const breadth::Error&) {
    // a clean rejection (or an encode-time error such as a missing unk token)
  }
  return 0;
}
