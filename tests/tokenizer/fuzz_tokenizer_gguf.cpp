// Fuzz target: a GGUF vocabulary from arbitrary bytes. Parsing the file and building its tokenizer
// (gpt2 with any tokenizer.ggml.pre, llama, gemma4, bert) must end in a tokenizer or a
// breadth::Error; a built tokenizer must encode, decode and stream without crashing.
#include <cstddef>
#include <cstdint>

#include "breadth/error.hpp"
#include "io/gguf.hpp"
#include "tokenizer/gguf_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const breadth::io::GgufFile g(data, size, "fuzz.gguf");
    std::shared_ptr<const breadth::Tokenizer> t = breadth::tok::load_gguf_tokenizer(g);
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
    // a clean rejection
  }
  return 0;
}
