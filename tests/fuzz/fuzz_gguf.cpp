// Fuzz target: GgufFile from memory, every metadata getter that applies, and dequantization of every
// tensor. Only breadth's errors may escape the reader; anything else (a crash, a sanitizer report, a
// std::bad_alloc from a size taken on trust) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "breadth/error.hpp"
#include "io/dequant.hpp"
#include "io/gguf.hpp"

using namespace breadth::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    GgufFile g(data, size, "fuzz-input.gguf");
    for (const std::string& key : g.keys()) {
      try {
        switch (*g.type_of(key)) {
          case GgufValueType::STRING: (void)g.get_string(key); break;
          case GgufValueType::BOOL: (void)g.get_bool(key); break;
          case GgufValueType::FLOAT32:
          case GgufValueType::FLOAT64: (void)g.get_float(key); break;
          case GgufValueType::ARRAY:
            switch (*g.array_type_of(key)) {
              case GgufValueType::STRING: (void)g.get_string_array(key); break;
              case GgufValueType::ARRAY: (void)g.get_int_array(key); break;  // throws: nested
              case GgufValueType::FLOAT32:
              case GgufValueType::FLOAT64: (void)g.get_float_array(key); break;
              default: (void)g.get_int_array(key); (void)g.get_float_array(key); break;
            }
            break;
          default: (void)g.get_int(key); (void)g.get_float(key); break;
        }
      } catch (const breadth::FormatError&) {
        // wrong-type or out-of-range values are reported, not crashed on
      }
    }
    (void)g.find_string("general.architecture");
    std::vector<float> out;
    for (const GgufTensorInfo& t : g.tensors()) {
      if (!ggml_can_dequantize(t.type)) continue;
      out.resize(static_cast<size_t>(t.numel()));  // bounded: the reader checked it against the input
      g.dequantize(t, out.data());
    }
  } catch (const breadth::Error&) {
  }
  return 0;
}
