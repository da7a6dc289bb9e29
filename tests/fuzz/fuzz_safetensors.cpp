// Fuzz target: SafetensorsFile from memory, then every byte of every tensor it hands out (so a span
// outside the input is an ASan report) and its metadata.
#include <cstddef>
#include <cstdint>

#include "breadth/error.hpp"
#include "io/safetensors.hpp"

using namespace breadth::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    SafetensorsFile f(data, size, "fuzz-input.safetensors");
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : f.tensors()) {
      uint8_t acc = 0;
      for (uint64_t i = 0; i < t.nbytes; ++i) acc ^= t.data[i];
      sink = sink ^ acc;
      if (static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype) != t.nbytes) __builtin_trap();
      if (f.find(name) != &t) __builtin_trap();
      for (int64_t d : t.shape)
        if (d < 0) __builtin_trap();
    }
    for (const auto& [k, v] : f.metadata()) sink = sink ^ static_cast<uint8_t>(k.size() + v.size());
    (void)sink;
  } catch (const breadth::Error&) {
  }
  return 0;
}
