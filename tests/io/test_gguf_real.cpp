// The real SmolLM2-135M-Instruct Q4_1 GGUF against gguf-py's GGUFReader (make_smollm2_refs.py): the
// whole tensor table, every metadata key, and a few dequantized tensors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "common/require_input.hpp"
#include "common/test_env.hpp"
#include "io/gguf.hpp"
#include "io/safetensors.hpp"

using namespace breadth::io;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) { return breadth::test::fixtures_dir() + "/io_smollm2/" + name; }

// The model must be installed (a missing one fails, see common/require_input.hpp); when it is, the
// fixture script has written its references.
bool have_model() {
  if (!BREADTH_REQUIRE_INPUT(breadth::test::models_dir() + "/smollm2-135m-instruct.gguf")) return false;
  REQUIRE(std::ifstream(fixture("smollm2.json")).good());
  return true;
}

}  // namespace

TEST_CASE("SmolLM2 GGUF: tensor table and metadata equal GGUFReader's", "[gguf][real]") {
  if (!have_model()) return;
  std::ifstream f(fixture("smollm2.json"));
  REQUIRE(f.good());
  const json ref = json::parse(f);
  GgufFile g(ref["path"].get<std::string>());
  CHECK(g.version() == ref["version"].get<uint32_t>());
  CHECK(g.architecture() == "llama");

  const json& tensors = ref["tensors"];
  REQUIRE(g.tensors().size() == tensors.size());
  // GGUFReader reports absolute file offsets; ours point into the same mapping.
  const uint8_t* base = g.tensors()[0].data - tensors[0]["offset"].get<uint64_t>();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = g.tensors()[i];
    INFO("tensor " << i << " " << t.name);
    CHECK(t.name == tensors[i]["name"].get<std::string>());
    CHECK(t.shape == tensors[i]["shape"].get<std::vector<int64_t>>());
    CHECK(static_cast<uint32_t>(t.type) == tensors[i]["type"].get<uint32_t>());
    CHECK(t.nbytes == tensors[i]["nbytes"].get<uint64_t>());
    CHECK(static_cast<uint64_t>(t.data - base) == tensors[i]["offset"].get<uint64_t>());
  }

  for (const auto& [key, s] : ref["scalars"].items()) {
    INFO("key " << key);
    REQUIRE(g.has(key));
    const auto type = static_cast<GgufValueType>(s["type"].get<uint32_t>());
    CHECK(g.type_of(key) == type);
    if (type == GgufValueType::STRING)
      CHECK(g.get_string(key) == s["value"].get<std::string>());
    else if (type == GgufValueType::BOOL)
      CHECK(g.get_bool(key) == s["value"].get<bool>());
    else if (type == GgufValueType::FLOAT32 || type == GgufValueType::FLOAT64)
      CHECK(g.get_float(key) == s["value"].get<double>());
    else
      CHECK(g.get_int(key) == s["value"].get<int64_t>());
  }
  for (const auto& [key, a] : ref["arrays"].items()) {
    INFO("key " << key);
    const auto elem = static_cast<GgufValueType>(a["elem"].get<uint32_t>());
    REQUIRE(g.array_type_of(key) == elem);
    const size_t n = a["size"].get<size_t>();
    CHECK(g.array_size(key) == n);
    const json& head = a["head"];
    const json& tail = a["tail"];
    auto check_ends = [&](const auto& got, auto get) {
      REQUIRE(got.size() == n);
      for (size_t i = 0; i < head.size(); ++i) CHECK(got[i] == get(head[i]));
      for (size_t i = 0; i < tail.size(); ++i) CHECK(got[n - tail.size() + i] == get(tail[i]));
    };
    if (elem == GgufValueType::STRING)
      check_ends(g.get_string_array(key), [](const json& j) { return j.get<std::string>(); });
    else if (elem == GgufValueType::FLOAT32 || elem == GgufValueType::FLOAT64)
      check_ends(g.get_float_array(key), [](const json& j) { return j.get<double>(); });
    else
      check_ends(g.get_int_array(key), [](const json& j) { return j.get<int64_t>(); });
  }
  CHECK(g.get_int("llama.block_count") == 30);
  CHECK(g.get_string_array("tokenizer.ggml.tokens").size() == 49152);
}

TEST_CASE("SmolLM2 GGUF: Q4_1, Q8_0 and F32 tensors dequantize like gguf-py", "[gguf][real]") {
  if (!have_model()) return;
  std::ifstream f(fixture("smollm2.json"));
  const json meta = json::parse(f);
  GgufFile g(meta["path"].get<std::string>());
  SafetensorsFile ref(fixture("smollm2_ref.safetensors"));
  auto compare = [](const float* got, const float* want, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) bad += got[i] == want[i] ? 0 : 1;
    return bad;
  };
  int compared = 0;
  for (const auto& [name, view] : ref.tensors()) {
    INFO("tensor " << name);
    const float* want = reinterpret_cast<const float*>(view.data);
    if (name == "token_embd.weight:rows") {
      const GgufTensorInfo& t = g.at("token_embd.weight");
      CHECK(t.type == GgmlType::Q8_0);
      std::vector<float> all(static_cast<size_t>(t.numel()));
      g.dequantize(t, all.data());  // 28 M elements: the multi-threaded path
      const auto rows = meta["token_embd_rows"].get<std::vector<int64_t>>();
      const int64_t width = t.shape[0];
      for (size_t r = 0; r < rows.size(); ++r)
        CHECK(compare(all.data() + rows[r] * width, want + r * width, static_cast<size_t>(width)) == 0);
    } else {
      const GgufTensorInfo& t = g.at(name);
      REQUIRE(t.numel() == view.numel());
      std::vector<float> out(static_cast<size_t>(t.numel()));
      g.dequantize(t, out.data());
      CHECK(compare(out.data(), want, out.size()) == 0);
    }
    ++compared;
  }
  CHECK(compared == 6);
}
