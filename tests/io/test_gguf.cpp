// GGUF reader and dequantizers against gguf-py: files written by GGUFWriter with every metadata type
// and a tensor of each ggml type; reference values from gguf.quants.dequantize (make_gguf_fixtures.py).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "io/dequant.hpp"
#include "io/gguf.hpp"
#include "io/safetensors.hpp"

using breadth::FormatError;
using namespace breadth::io;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) { return breadth::test::fixtures_dir() + "/io_gguf/" + name; }

json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  return json::parse(f);
}

/// Bitwise equality of float arrays (NaN equals NaN); returns the number of mismatches and reports
/// the first.
size_t count_mismatches(const float* got, const float* want, int64_t n, const std::string& what) {
  size_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool same = std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i];
    if (!same && bad++ == 0)
      UNSCOPED_INFO(what << ": first mismatch at " << i << ": got " << got[i] << ", want " << want[i]);
  }
  return bad;
}

const float* as_floats(const TensorView& v) {
  REQUIRE(v.dtype == DType::F32);
  return reinterpret_cast<const float*>(v.data);
}

void check_metadata(const GgufFile& g) {
  const json meta = read_json(fixture("metadata.json"));
  std::vector<std::string> expected_keys;
  for (const auto& m : meta) {
    const std::string key = m["key"];
    expected_keys.push_back(key);
    INFO("key " << key);
    const auto type = static_cast<GgufValueType>(m["type"].get<uint32_t>());
    REQUIRE(g.has(key));
    REQUIRE(g.type_of(key) == type);
    const json& v = m["value"];
    switch (type) {
      case GgufValueType::STRING: CHECK(g.get_string(key) == v.get<std::string>()); break;
      case GgufValueType::BOOL: CHECK(g.get_bool(key) == v.get<bool>()); break;
      case GgufValueType::FLOAT32:
      case GgufValueType::FLOAT64: CHECK(g.get_float(key) == v.get<double>()); break;
      case GgufValueType::UINT64:
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          CHECK_THROWS_AS(g.get_int(key), FormatError);
          CHECK(g.get_float(key) == static_cast<double>(v.get<uint64_t>()));
        } else {
          CHECK(g.get_int(key) == v.get<int64_t>());
        }
        break;
      case GgufValueType::ARRAY: {
        const auto elem = static_cast<GgufValueType>(m["elem"].get<uint32_t>());
        REQUIRE(g.array_type_of(key) == elem);
        CHECK(g.array_size(key) == v.size());
        if (elem == GgufValueType::STRING) {
          CHECK(g.get_string_array(key) == v.get<std::vector<std::string>>());
          CHECK_THROWS_AS(g.get_int_array(key), FormatError);
        } else if (elem == GgufValueType::FLOAT32 || elem == GgufValueType::FLOAT64) {
          CHECK(g.get_float_array(key) == v.get<std::vector<double>>());
          CHECK_THROWS_AS(g.get_int_array(key), FormatError);
        } else if (elem == GgufValueType::BOOL) {
          std::vector<int64_t> want;
          for (bool b : v.get<std::vector<bool>>()) want.push_back(b ? 1 : 0);
          CHECK(g.get_int_array(key) == want);
        } else if (elem == GgufValueType::ARRAY) {
          // Nested arrays are validated and skipped; no flat getter applies.
          CHECK_THROWS_AS(g.get_int_array(key), FormatError);
          CHECK_THROWS_AS(g.get_string_array(key), FormatError);
        } else if (elem == GgufValueType::UINT64) {
          std::vector<int64_t> want;
          for (uint64_t u : v.get<std::vector<uint64_t>>()) want.push_back(static_cast<int64_t>(u));
          CHECK(g.get_int_array(key) == want);
        } else {
          CHECK(g.get_int_array(key) == v.get<std::vector<int64_t>>());
          std::vector<double> as_double;
          for (int64_t i : v.get<std::vector<int64_t>>()) as_double.push_back(static_cast<double>(i));
          CHECK(g.get_float_array(key) == as_double);
        }
        CHECK_THROWS_AS(g.get_string(key), FormatError);
        break;
      }
      default:  // the integer types
        CHECK(g.get_int(key) == v.get<int64_t>());
        CHECK(g.get_float(key) == static_cast<double>(v.get<int64_t>()));
        CHECK_THROWS_AS(g.get_string(key), FormatError);
        CHECK_THROWS_AS(g.get_bool(key), FormatError);
        break;
    }
  }
  // general.alignment is only in aligned64.gguf; types.gguf holds exactly the keys written.
  if (!g.has("general.alignment")) CHECK(g.keys() == expected_keys);
  CHECK(g.architecture() == "testarch");
}

void check_tensors(const GgufFile& g, bool compare_table) {
  const json table = read_json(fixture("tensors.json"));
  const SafetensorsFile ref(fixture("reference.safetensors"));
  if (compare_table) {
    REQUIRE(g.tensors().size() == table.size());
    for (size_t i = 0; i < table.size(); ++i) {
      const GgufTensorInfo& t = g.tensors()[i];
      INFO("tensor " << t.name);
      CHECK(t.name == table[i]["name"].get<std::string>());
      CHECK(t.shape == table[i]["shape"].get<std::vector<int64_t>>());
      CHECK(static_cast<uint32_t>(t.type) == table[i]["type"].get<uint32_t>());
      CHECK(t.nbytes == table[i]["nbytes"].get<uint64_t>());
      CHECK(g.find(t.name) == &t);
      CHECK(&g.at(t.name) == &t);
    }
  }
  int compared = 0;
  for (const GgufTensorInfo& t : g.tensors()) {
    INFO("tensor " << t.name << " (" << ggml_type_name(t.type) << ")");
    CHECK(static_cast<uint64_t>(t.data - g.tensors()[0].data) % g.alignment() == 0);
    const TensorView* r = ref.find(t.name);
    if (!r) {  // written to exercise the Unsupported path
      CHECK_FALSE(ggml_can_dequantize(t.type));
      std::vector<float> out(static_cast<size_t>(t.numel()));
      CHECK_THROWS_AS(g.dequantize(t, out.data()), breadth::Unsupported);
      continue;
    }
    REQUIRE(ggml_can_dequantize(t.type));
    REQUIRE(r->numel() == t.numel());
    // numpy's shape is ggml's reversed.
    std::vector<int64_t> reversed(t.shape.rbegin(), t.shape.rend());
    CHECK(r->shape == reversed);
    std::vector<float> out(static_cast<size_t>(t.numel()), -12345.f);
    g.dequantize(t, out.data());
    CHECK(count_mismatches(out.data(), as_floats(*r), t.numel(), t.name) == 0);
    ++compared;
  }
  CHECK(compared == static_cast<int>(ref.tensors().size()));
}

}  // namespace

TEST_CASE("GGUF v3 metadata reads back every value type as written by gguf-py", "[gguf]") {
  GgufFile g(fixture("types.gguf"));
  CHECK(g.version() == 3);
  CHECK(g.alignment() == 32);
  check_metadata(g);
}

TEST_CASE("GGUF v2 reads like v3", "[gguf]") {
  GgufFile g(fixture("types_v2.gguf"));
  CHECK(g.version() == 2);
  check_metadata(g);
  check_tensors(g, true);
}

TEST_CASE("GGUF tensor table and dequantization equal gguf-py's for every type", "[gguf]") {
  GgufFile g(fixture("types.gguf"));
  check_tensors(g, true);
}

TEST_CASE("GGUF honours general.alignment", "[gguf]") {
  GgufFile g(fixture("aligned64.gguf"));
  CHECK(g.alignment() == 64);
  CHECK(g.get_int("general.alignment") == 64);
  check_metadata(g);
  check_tensors(g, true);
}

TEST_CASE("GGUF reads the same from memory as from a path", "[gguf]") {
  std::ifstream f(fixture("types.gguf"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  GgufFile mem(bytes.data(), bytes.size(), "in-memory");
  GgufFile file(fixture("types.gguf"));
  REQUIRE(mem.tensors().size() == file.tensors().size());
  CHECK(mem.path() == "in-memory");
  for (size_t i = 0; i < mem.tensors().size(); ++i) {
    const auto& a = mem.tensors()[i];
    const auto& b = file.tensors()[i];
    CHECK(a.offset == b.offset);
    CHECK(a.data - mem.tensors()[0].data == b.data - file.tensors()[0].data);
    CHECK(a.data + a.nbytes <= bytes.data() + bytes.size());
    CHECK(std::memcmp(a.data, b.data, a.nbytes) == 0);
  }
  // Moving keeps the tensor table valid.
  GgufFile moved = std::move(mem);
  CHECK(moved.find("quant.Q4_0") != nullptr);
}

TEST_CASE("GGUF getters: missing keys, wrong types, defaults", "[gguf]") {
  GgufFile g(fixture("types.gguf"));
  SECTION("a missing key names the key and the file") {
    try {
      g.get_int("no.such.key");
      FAIL("no exception");
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("no.such.key") != std::string::npos);
      CHECK(msg.find("types.gguf") != std::string::npos);
    }
    CHECK_THROWS_AS(g.get_string("no.such.key"), FormatError);
    CHECK_THROWS_AS(g.get_float("no.such.key"), FormatError);
    CHECK_THROWS_AS(g.get_bool("no.such.key"), FormatError);
    CHECK_THROWS_AS(g.get_string_array("no.such.key"), FormatError);
    CHECK_THROWS_AS(g.get_int_array("no.such.key"), FormatError);
    CHECK_THROWS_AS(g.get_float_array("no.such.key"), FormatError);
    CHECK_FALSE(g.has("no.such.key"));
    CHECK_FALSE(g.type_of("no.such.key").has_value());
    CHECK(g.array_size("no.such.key") == 0);
  }
  SECTION("a wrong type names the key and both types") {
    try {
      g.get_string("test.u32");
      FAIL("no exception");
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("test.u32") != std::string::npos);
      CHECK(msg.find("uint32") != std::string::npos);
    }
    CHECK_THROWS_AS(g.get_int("test.str"), FormatError);
    CHECK_THROWS_AS(g.get_int("test.f32"), FormatError);  // floats do not silently truncate
    CHECK_THROWS_AS(g.get_float("test.str"), FormatError);
    CHECK_THROWS_AS(g.get_bool("test.u8"), FormatError);
    CHECK_THROWS_AS(g.get_float_array("test.arr_str"), FormatError);
    CHECK_THROWS_AS(g.get_string_array("test.arr_i32"), FormatError);
  }
  SECTION("defaults apply only to missing keys") {
    CHECK(g.get_int("no.such.key", 7) == 7);
    CHECK(g.get_float("no.such.key", 0.5) == 0.5);
    CHECK(g.get_bool("no.such.key", true));
    CHECK(g.get_string("no.such.key", "dflt") == "dflt");
    CHECK(g.get_int("test.i8", 7) == -100);
    CHECK(g.get_string("test.str", "dflt") == "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93");
    CHECK_THROWS_AS(g.get_int("test.str", 7), FormatError);
  }
  SECTION("find_* return nullopt for a missing key") {
    CHECK_FALSE(g.find_int("no.such.key").has_value());
    CHECK_FALSE(g.find_string("no.such.key").has_value());
    CHECK_FALSE(g.find_float("no.such.key").has_value());
    CHECK_FALSE(g.find_bool("no.such.key").has_value());
    CHECK_FALSE(g.find_string_array("no.such.key").has_value());
    CHECK_FALSE(g.find_int_array("no.such.key").has_value());
    CHECK_FALSE(g.find_float_array("no.such.key").has_value());
    CHECK(g.find_int("test.u16") == 60000);
    CHECK(g.find_bool("test.bool_t") == true);
    CHECK(g.find_string_array("test.arr_str")->size() == 4);
    CHECK_THROWS_AS(g.find_int("test.str"), FormatError);
  }
  SECTION("tensors: find and at") {
    CHECK(g.find("no.such.tensor") == nullptr);
    CHECK_THROWS_AS(g.at("no.such.tensor"), FormatError);
    CHECK(g.at("plain.F32").shape == std::vector<int64_t>{64, 3, 2});
    CHECK(g.at("plain.F32").numel() == 384);
  }
}

TEST_CASE("GGUF: a missing file is an IoError", "[gguf]") {
  CHECK_THROWS_AS(GgufFile("/nonexistent/model.gguf"), breadth::IoError);
}
