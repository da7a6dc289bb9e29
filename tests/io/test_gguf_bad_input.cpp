// Corrupt GGUF input gives FormatError or Unsupported, never a crash, an out-of-bounds read (run under
// ASan/UBSan with `ctest -L sanitize`) or a huge allocation.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "io/dequant.hpp"
#include "io/gguf.hpp"
#include "io/gguf_builder.hpp"

using breadth::FormatError;
using breadth::Unsupported;
using breadth::io::GgufFile;
using breadth::test::GgufBuilder;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// Parses `bytes` from an exactly-sized heap copy (so ASan sees a read past the end) and dequantizes
/// every tensor it can. Returns true on success; breadth's errors return false; anything else fails.
bool parse_all(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> copy(bytes);
  try {
    GgufFile g(copy.data(), copy.size(), "corrupt");
    std::vector<float> out;
    for (const auto& t : g.tensors()) {
      if (!breadth::io::ggml_can_dequantize(t.type)) continue;
      out.resize(static_cast<size_t>(t.numel()));
      g.dequantize(t, out.data());
    }
    for (const auto& k : g.keys()) {
      (void)g.type_of(k);
      if (g.type_of(k) == breadth::io::GgufValueType::ARRAY &&
          g.array_type_of(k) == breadth::io::GgufValueType::STRING)
        (void)g.get_string_array(k);
    }
    return true;
  } catch (const FormatError&) {
    return false;
  } catch (const Unsupported&) {
    return false;
  }
}

template <typename E>
void expect_error(const GgufBuilder& b, const char* fragment) {
  std::vector<uint8_t> copy(b.bytes);
  try {
    GgufFile g(copy.data(), copy.size(), "hand-built.gguf");
    FAIL("no exception; expected one mentioning '" << fragment << "'");
  } catch (const E& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    CHECK(std::string(e.what()).find("hand-built.gguf") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("a hand-built minimal GGUF parses (the builder is right)", "[gguf][bad]") {
  GgufBuilder b;
  b.header(1, 1).kv_u32("general.alignment", 16).tensor("w", {32, 2}, /*Q8_0*/ 8, 0).data(16, 68, 0);
  GgufFile g(b.bytes.data(), b.bytes.size(), "ok");
  REQUIRE(g.tensors().size() == 1);
  CHECK(g.alignment() == 16);
  CHECK(g.tensors()[0].nbytes == 68);
  CHECK(g.tensors()[0].numel() == 64);
  // A file with no tensors may end right after its metadata.
  GgufBuilder e;
  e.header(0, 1).kv_u32("x", 1);
  GgufFile ge(e.bytes.data(), e.bytes.size(), "ok");
  CHECK(ge.get_int("x") == 1);
  // Empty arrays are valid.
  GgufBuilder a;
  a.header(0, 1).str("arr").u32(9).u32(8).u64(0);
  GgufFile ga(a.bytes.data(), a.bytes.size(), "ok");
  CHECK(ga.get_string_array("arr").empty());
}

TEST_CASE("every truncation of a real GGUF file is rejected cleanly", "[gguf][bad]") {
  const auto bytes = read_file(breadth::test::fixtures_dir() + "/io_gguf/types.gguf");
  GgufFile whole(bytes.data(), bytes.size(), "whole");
  // The end of the last tensor's data: any cut before it must fail.
  size_t data_end = 0, header_end = bytes.size();
  for (const auto& t : whole.tensors()) {
    data_end = std::max<size_t>(data_end, static_cast<size_t>(t.data - bytes.data()) + t.nbytes);
    header_end = std::min<size_t>(header_end, static_cast<size_t>(t.data - bytes.data()));
  }
  size_t cuts = 0;
  for (size_t cut = 0; cut < bytes.size(); cut += cut < header_end + 64 ? 1 : 97) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    const bool ok = parse_all(part);
    if (cut < data_end && ok) FAIL("a file cut at byte " << cut << " of " << bytes.size() << " parsed");
    ++cuts;
  }
  CHECK(cuts > header_end);
}

TEST_CASE("random byte corruption of a real GGUF header never crashes", "[gguf][bad]") {
  const auto bytes = read_file(breadth::test::fixtures_dir() + "/io_gguf/types.gguf");
  GgufFile whole(bytes.data(), bytes.size(), "whole");
  const size_t header_end = static_cast<size_t>(whole.tensors()[0].data - bytes.data());
  std::mt19937_64 rng(42);
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> m(bytes);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % header_end;
      switch (rng() % 3) {
        case 0: m[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: m[at] = static_cast<uint8_t>(rng()); break;
        default: m[at] = 0xff; break;
      }
    }
    rejected += parse_all(m) ? 0 : 1;
  }
  CHECK(rejected > 0);
}

TEST_CASE("GGUF header errors", "[gguf][bad]") {
  SECTION("empty and null input") {
    CHECK_THROWS_AS(GgufFile(nullptr, 0, "null"), FormatError);
    const uint8_t one = 'G';
    CHECK_THROWS_AS(GgufFile(&one, 1, "one byte"), FormatError);
  }
  SECTION("wrong magic") {
    GgufBuilder b;
    b.raw("GGML").u32(3).u64(0).u64(0);
    expect_error<FormatError>(b, "magic");
  }
  SECTION("version 1, a future version, big-endian") {
    GgufBuilder v1, v9, be;
    v1.header(0, 0, 1);
    v9.header(0, 0, 9);
    be.header(0, 0, 0x03000000);
    expect_error<Unsupported>(v1, "version 1");
    expect_error<Unsupported>(v9, "version 9");
    expect_error<Unsupported>(be, "big-endian");
  }
  SECTION("absurd counts are rejected before anything is allocated") {
    GgufBuilder kv, tn;
    kv.header(0, uint64_t{1} << 62);
    tn.header(~uint64_t{0}, 0);
    expect_error<FormatError>(kv, "claims");
    expect_error<FormatError>(tn, "claims");
  }
  SECTION("duplicate key") {
    GgufBuilder b;
    b.header(0, 2).kv_u32("a", 1).kv_u32("a", 2);
    expect_error<FormatError>(b, "twice");
  }
  SECTION("bad alignment") {
    GgufBuilder zero, three, str;
    zero.header(0, 1).kv_u32("general.alignment", 0);
    three.header(0, 1).kv_u32("general.alignment", 3);
    str.header(0, 1).str("general.alignment").u32(8).str("32");
    expect_error<FormatError>(zero, "alignment");
    expect_error<FormatError>(three, "alignment");
    expect_error<FormatError>(str, "alignment");
  }
}

TEST_CASE("GGUF metadata value errors", "[gguf][bad]") {
  SECTION("unknown value type") {
    GgufBuilder b;
    b.header(0, 1).str("k").u32(13).u32(0);
    expect_error<FormatError>(b, "value type 13");
  }
  SECTION("string longer than the file") {
    GgufBuilder b;
    b.header(0, 1).str("k").u32(8).u64(~uint64_t{0} - 3).raw("abc");
    expect_error<FormatError>(b, "truncated");
  }
  SECTION("key longer than the file") {
    GgufBuilder b;
    b.header(0, 1).u64(uint64_t{1} << 40).raw("k").u32(4).u32(0).u64(0).u64(0);
    expect_error<FormatError>(b, "truncated");
  }
  SECTION("array counts beyond the file") {
    GgufBuilder u8s, u64s, strs, arrs;
    u8s.header(0, 1).str("k").u32(9).u32(0).u64(uint64_t{1} << 60).raw("xx");
    u64s.header(0, 1).str("k").u32(9).u32(10).u64(uint64_t{1} << 61).u64(0).u64(0);  // count*8 wraps
    strs.header(0, 1).str("k").u32(9).u32(8).u64(~uint64_t{0}).u64(0).u64(0);
    arrs.header(0, 1).str("k").u32(9).u32(9).u64(uint64_t{1} << 50).u64(0).u64(0);
    expect_error<FormatError>(u8s, "array");
    expect_error<FormatError>(u64s, "array");
    expect_error<FormatError>(strs, "array");
    expect_error<FormatError>(arrs, "array");
  }
  SECTION("arrays nested too deep") {
    GgufBuilder b;
    b.header(0, 1).str("k").u32(9);
    for (int i = 0; i < 100; ++i) b.u32(9).u64(1);
    b.u32(0).u64(0);
    expect_error<FormatError>(b, "nested");
  }
  SECTION("bad element type inside an array") {
    GgufBuilder b;
    b.header(0, 1).str("k").u32(9).u32(77).u64(1).u64(0);
    expect_error<FormatError>(b, "value type 77");
  }
}

TEST_CASE("GGUF tensor description errors", "[gguf][bad]") {
  auto one_tensor = [](std::vector<int64_t> ne, uint32_t type, uint64_t offset, size_t data_bytes) {
    GgufBuilder b;
    b.header(1, 0).tensor("w", std::move(ne), type, offset).data(32, data_bytes);
    return b;
  };
  SECTION("the control case parses") {
    auto b = one_tensor({32, 4}, 0, 0, 512);
    GgufFile g(b.bytes.data(), b.bytes.size(), "ok");
    CHECK(g.tensors()[0].nbytes == 512);
  }
  SECTION("too many dimensions") { expect_error<FormatError>(one_tensor({1, 1, 1, 1, 1}, 0, 0, 4), "dimensions"); }
  SECTION("negative dimension") { expect_error<FormatError>(one_tensor({32, -1}, 0, 0, 4), "shape"); }
  SECTION("element count overflows int64") {
    expect_error<FormatError>(one_tensor({int64_t{1} << 40, int64_t{1} << 40}, 0, 0, 4), "shape");
  }
  SECTION("huge but representable element count") {
    expect_error<FormatError>(one_tensor({int64_t{1} << 30, int64_t{1} << 30}, 0, 0, 4), "needs more bytes");
  }
  SECTION("unknown ggml type") { expect_error<Unsupported>(one_tensor({32}, 99, 0, 128), "99"); }
  SECTION("rows not a whole number of blocks") {
    expect_error<FormatError>(one_tensor({33, 2}, /*Q4_0*/ 2, 0, 64), "multiple");
  }
  SECTION("data past the end of the file") {
    expect_error<FormatError>(one_tensor({32, 4}, 0, 0, 511), "spans");
    expect_error<FormatError>(one_tensor({32, 4}, 0, 32, 512), "spans");
    expect_error<FormatError>(one_tensor({32, 4}, 0, ~uint64_t{0} - 31, 512), "spans");
  }
  SECTION("misaligned offset") { expect_error<FormatError>(one_tensor({8}, 0, 4, 64), "alignment"); }
  SECTION("duplicate tensor name") {
    GgufBuilder b;
    b.header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).data(32, 64);
    expect_error<FormatError>(b, "twice");
  }
  SECTION("tensor name longer than the file") {
    GgufBuilder b;
    b.header(1, 0).u64(uint64_t{1} << 33).raw("w");
    expect_error<FormatError>(b, "truncated");
  }
}
