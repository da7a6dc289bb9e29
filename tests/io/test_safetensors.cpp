// safetensors reader and writer against the reference `safetensors` library (make_safetensors_fixtures.py
// writes, check_written_safetensors.py reads what breadth writes), and corrupt input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "io/dequant.hpp"
#include "io/safetensors.hpp"

using breadth::FormatError;
using namespace breadth::io;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) {
  return breadth::test::fixtures_dir() + "/io_safetensors/" + name;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double element(const TensorView& t, int64_t i) {
  const uint8_t* p = t.data + i * static_cast<int64_t>(dtype_size(t.dtype));
  switch (t.dtype) {
    case DType::F64: return load<double>(p);
    case DType::F32: return load<float>(p);
    case DType::F16: return fp16_to_fp32(load<uint16_t>(p));
    case DType::BF16: return bf16_to_fp32(load<uint16_t>(p));
    case DType::I64: return static_cast<double>(load<int64_t>(p));
    case DType::I32: return load<int32_t>(p);
    case DType::I16: return load<int16_t>(p);
    case DType::I8: return load<int8_t>(p);
    case DType::U8: return load<uint8_t>(p);
    case DType::BOOL: return load<uint8_t>(p);
  }
  return 0;
}

void check_against_expected(const SafetensorsFile& f) {
  std::ifstream in(fixture("expected.json"));
  const json exp = json::parse(in);
  REQUIRE(f.tensors().size() == exp["tensors"].size());
  for (const auto& [name, e] : exp["tensors"].items()) {
    INFO("tensor " << name);
    const TensorView& t = f.at(name);
    CHECK(dtype_name(t.dtype) == e["dtype"].get<std::string>());
    CHECK(t.shape == e["shape"].get<std::vector<int64_t>>());
    const auto& vals = e["values"];
    REQUIRE(t.numel() == static_cast<int64_t>(vals.size()));
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (t.dtype == DType::I64)
        CHECK(load<int64_t>(t.data + 8 * i) == vals[static_cast<size_t>(i)].get<int64_t>());
      else
        CHECK(element(t, i) == vals[static_cast<size_t>(i)].get<double>());
    }
  }
  CHECK(f.metadata() == exp["metadata"].get<std::map<std::string, std::string>>());
}

/// Parses `bytes` from an exactly-sized copy; true on success, false on breadth's errors.
bool parse(const std::string& bytes) {
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  try {
    SafetensorsFile f(copy.data(), copy.size(), "corrupt.safetensors");
    for (const auto& [n, t] : f.tensors())
      for (uint64_t i = 0; i < t.nbytes; ++i) (void)*(volatile const uint8_t*)(t.data + i);
    return true;
  } catch (const FormatError&) {
    return false;
  } catch (const breadth::Unsupported&) {
    return false;
  }
}

/// A file with the given JSON header and `body` bytes of data.
std::string with_header(const std::string& header, size_t body) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(&s[0], &n, 8);
  return s + header + std::string(body, '\x01');
}

}  // namespace

TEST_CASE("safetensors: every dtype reads back as the reference library wrote it", "[safetensors]") {
  SafetensorsFile f(fixture("values.safetensors"));
  check_against_expected(f);
  CHECK(f.find("nope") == nullptr);
  CHECK_THROWS_AS(f.at("nope"), FormatError);
  CHECK(f.at("scalar").shape.empty());
  CHECK(f.at("scalar").numel() == 1);
  CHECK(f.at("empty").numel() == 0);
}

TEST_CASE("safetensors: what breadth writes, the reference library reads", "[safetensors]") {
  SafetensorsFile src(fixture("values.safetensors"));
  std::vector<TensorToWrite> out;
  for (const auto& [name, t] : src.tensors()) out.push_back({name, t.dtype, t.shape, t.data, t.nbytes});
  const std::string path = breadth::test::binary_dir() + "/io_safetensors_written.safetensors";
  write_safetensors(path, out, src.metadata());
  // Read back by breadth...
  check_against_expected(SafetensorsFile(path));
  // ...and by the reference implementation.
  const std::string cmd = breadth::test::python() + " " + breadth::test::source_dir() +
                          "/tests/io/check_written_safetensors.py " + path + " " + fixture("expected.json");
  CHECK(std::system(cmd.c_str()) == 0);
  std::remove(path.c_str());

  TensorToWrite bad{"x", DType::F32, {3}, out[0].data, 8};
  CHECK_THROWS_AS(write_safetensors(path, {bad}), breadth::InvalidArgument);
  CHECK_THROWS_AS(write_safetensors("/nonexistent-dir/x.safetensors", {}), breadth::IoError);
}

TEST_CASE("safetensors: every truncation is rejected cleanly", "[safetensors][bad]") {
  const auto bytes = read_bytes(fixture("values.safetensors"));
  const std::string s(bytes.begin(), bytes.end());
  REQUIRE(parse(s));
  for (size_t cut = 0; cut < s.size(); ++cut)
    if (parse(s.substr(0, cut))) FAIL("a file cut at byte " << cut << " of " << s.size() << " parsed");
}

TEST_CASE("safetensors: corrupt headers", "[safetensors][bad]") {
  SECTION("the control case parses") {
    CHECK(parse(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8)));
  }
  SECTION("header length beyond the file") {
    std::string s = with_header("{}", 0);
    const uint64_t huge = ~uint64_t{0} - 4;
    std::memcpy(&s[0], &huge, 8);
    CHECK_FALSE(parse(s));
  }
  SECTION("not JSON, not an object, malformed entries") {
    for (const char* h : {"{", "not json", "[]", "3", R"({"a":5})", R"({"a":{"dtype":"F32"}})",
                          R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})",
                          R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,7]}})",
                          R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})"}) {
      INFO(h);
      CHECK_FALSE(parse(with_header(h, 8)));
    }
  }
  SECTION("unknown dtype is Unsupported") {
    std::string s = with_header(R"({"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2);
    CHECK_THROWS_AS(SafetensorsFile(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "x"),
                    breadth::Unsupported);
  }
  SECTION("offsets outside the data, reversed, or not matching the shape") {
    for (const char* h : {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                          R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,8]}})"}) {
      INFO(h);
      CHECK_FALSE(parse(with_header(h, 8)));
    }
  }
  SECTION("absurd shapes") {
    for (const char* h :
         {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})",
          R"({"a":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}})",
          R"({"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})"}) {
      INFO(h);
      CHECK_FALSE(parse(with_header(h, 0)));
    }
  }
  SECTION("deeply nested JSON does not exhaust the stack") {
    std::string deep = R"({"__metadata__":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    (void)parse(with_header(deep, 0));  // either answer is fine; it must not crash
    std::string open = std::string(200000, '[');
    CHECK_FALSE(parse(with_header(open, 0)));
  }
}
