// Hand-worked blocks for the dequantizers: the expected values below are worked out from the block
// definitions in ggml-common.h, not produced by breadth. (test_gguf compares every type against
// gguf-py on random blocks.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "breadth/error.hpp"
#include "io/dequant.hpp"

using namespace breadth::io;

namespace {

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32f(uint8_t* p, float v) { std::memcpy(p, &v, 4); }

std::vector<float> run(GgmlType t, const std::vector<uint8_t>& block, int64_t numel) {
  std::vector<float> out(static_cast<size_t>(numel), -999.f);
  dequantize(t, block.data(), out.data(), numel);
  return out;
}

}  // namespace

TEST_CASE("fp16 and bf16 conversions", "[dequant]") {
  CHECK(fp16_to_fp32(0x3c00) == 1.0f);
  CHECK(fp16_to_fp32(0xc000) == -2.0f);
  CHECK(fp16_to_fp32(0x3555) == 0.333251953125f);
  CHECK(fp16_to_fp32(0x7bff) == 65504.0f);  // largest half
  CHECK(fp16_to_fp32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(fp16_to_fp32(0x03ff) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(fp16_to_fp32(0x0400) == std::ldexp(1.0f, -14));  // smallest normal
  CHECK(std::signbit(fp16_to_fp32(0x8000)));
  CHECK(fp16_to_fp32(0x8000) == 0.0f);
  CHECK(fp16_to_fp32(0x7c00) == std::numeric_limits<float>::infinity());
  CHECK(fp16_to_fp32(0xfc00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(fp16_to_fp32(0x7e00)));
  CHECK(bf16_to_fp32(0x3f80) == 1.0f);
  CHECK(bf16_to_fp32(0xc040) == -3.0f);
  CHECK(bf16_to_fp32(0x3e20) == 0.15625f);
}

TEST_CASE("Q4_0 block: (nibble - 8) * d, low nibbles first", "[dequant]") {
  std::vector<uint8_t> b(18);
  put16(b.data(), 0x3800);  // d = 0.5
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto y = run(GgmlType::Q4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == 0.5f * static_cast<float>(j - 8));
    CHECK(y[16 + j] == 0.5f * static_cast<float>(7 - j));
  }
}

TEST_CASE("Q4_1 block: nibble * d + m", "[dequant]") {
  std::vector<uint8_t> b(20);
  put16(b.data(), 0x4000);      // d = 2
  put16(b.data() + 2, 0xbc00);  // m = -1
  for (int j = 0; j < 16; ++j) b[4 + j] = 0xf3;  // low 3, high 15
  auto y = run(GgmlType::Q4_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == 5.0f);        // 3*2 - 1
    CHECK(y[16 + j] == 29.0f);  // 15*2 - 1
  }
}

TEST_CASE("Q5_0 block: qh bit j is element j's fifth bit", "[dequant]") {
  std::vector<uint8_t> b(22);
  put16(b.data(), 0x3c00);  // d = 1
  const uint32_t qh = (1u << 0) | (1u << 17);  // elements 0 and 17 get +16
  std::memcpy(b.data() + 2, &qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = 0x21;  // low 1, high 2
  auto y = run(GgmlType::Q5_0, b, 32);
  CHECK(y[0] == 1.0f);    // (1 | 16) - 16
  CHECK(y[1] == -15.0f);  // 1 - 16
  CHECK(y[16] == -14.0f);  // 2 - 16
  CHECK(y[17] == 2.0f);   // (2 | 16) - 16
}

TEST_CASE("Q5_1 block", "[dequant]") {
  std::vector<uint8_t> b(24);
  put16(b.data(), 0x3800);      // d = 0.5
  put16(b.data() + 2, 0x4200);  // m = 3
  const uint32_t qh = 0x80000000u;  // element 31
  std::memcpy(b.data() + 4, &qh, 4);
  for (int j = 0; j < 16; ++j) b[8 + j] = 0xff;
  auto y = run(GgmlType::Q5_1, b, 32);
  CHECK(y[0] == 10.5f);   // 15*0.5 + 3
  CHECK(y[30] == 10.5f);
  CHECK(y[31] == 18.5f);  // 31*0.5 + 3
}

TEST_CASE("Q8_0 block", "[dequant]") {
  std::vector<uint8_t> b(34);
  put16(b.data(), 0x3400);  // d = 0.25
  for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128));
  auto y = run(GgmlType::Q8_0, b, 32);
  for (int j = 0; j < 32; ++j) CHECK(y[j] == 0.25f * static_cast<float>(j * 8 - 128));
}

TEST_CASE("Q8_K block: float d times int8", "[dequant]") {
  std::vector<uint8_t> b(292);
  put32f(b.data(), 0.125f);
  for (int j = 0; j < 256; ++j) b[4 + j] = static_cast<uint8_t>(j);  // int8: j for j<128, j-256 after
  auto y = run(GgmlType::Q8_K, b, 256);
  CHECK(y[0] == 0.0f);
  CHECK(y[127] == 15.875f);
  CHECK(y[128] == -16.0f);
  CHECK(y[255] == -0.125f);
}

TEST_CASE("Q4_K block: 6-bit scales and mins, the high 2 bits of groups 4..7 packed apart", "[dequant]") {
  std::vector<uint8_t> b(144, 0);
  put16(b.data(), 0x3c00);      // d = 1
  put16(b.data() + 2, 0x3800);  // dmin = 0.5
  uint8_t* s = b.data() + 4;
  // groups 0..3: scale = s[j] & 63, min = s[j+4] & 63
  s[0] = 2;  s[4] = 4;                 // group 0: scale 2, min 4
  // group 4: scale = (s[8] & 15) | (s[0] >> 6) << 4 ; min = (s[8] >> 4) | (s[4] >> 6) << 4
  s[0] |= 1 << 6;                       // scale high bits 01 -> +16
  s[4] |= 2 << 6;                       // min high bits 10 -> +32
  s[8] = 0x31;                          // scale low 1, min low 3  => scale 17, min 35
  uint8_t* q = b.data() + 16;
  for (int l = 0; l < 32; ++l) q[l] = 0x5a;        // elements 0..31 nibble 10, 32..63 nibble 5
  for (int l = 0; l < 32; ++l) q[64 + l] = 0x07;   // group 4 = elements 128..159, low nibble 7
  auto y = run(GgmlType::Q4_K, b, 256);
  CHECK(y[0] == 2.0f * 10 - 0.5f * 4);   // 18
  CHECK(y[31] == 18.0f);
  // group 1: scale s[1] = 0, min s[5] = 0
  CHECK(y[32] == 0.0f);
  CHECK(y[128] == 17.0f * 7 - 0.5f * 35);  // 101.5
  CHECK(y[160] == 0.0f);                   // group 5: nothing set
}

TEST_CASE("Q6_K block: ql low/high nibbles, two qh bits, int8 scales", "[dequant]") {
  std::vector<uint8_t> b(210, 0);
  uint8_t* ql = b.data();
  uint8_t* qh = b.data() + 128;
  int8_t* sc = reinterpret_cast<int8_t*>(b.data() + 192);
  put16(b.data() + 208, 0x3800);  // d = 0.5
  for (int i = 0; i < 16; ++i) sc[i] = static_cast<int8_t>(i - 8);
  ql[0] = 0x95;   // element 0 low nibble 5; element 64 high nibble 9
  qh[0] = 0xe2;   // bits 0-1 = 2 -> element 0; 2-3 = 0 -> element 32; 4-5 = 2 -> 64; 6-7 = 3 -> 96
  auto y = run(GgmlType::Q6_K, b, 256);
  CHECK(y[0] == 0.5f * -8 * ((5 | (2 << 4)) - 32));    // scale 0 = -8: -20
  CHECK(y[32] == 0.5f * -6 * (0 - 32));                // scale 2 = -6: 96
  CHECK(y[64] == 0.5f * -4 * ((9 | (2 << 4)) - 32));   // scale 4 = -4: -18
  CHECK(y[96] == 0.5f * -2 * ((0 | (3 << 4)) - 32));   // scale 6 = -2: -16
  CHECK(y[255] == 0.5f * 7 * -32);                     // scale 15 = 7: -112
}

TEST_CASE("dequantize rejects partial blocks and unsupported types", "[dequant]") {
  std::vector<uint8_t> b(34);
  std::vector<float> y(64);
  CHECK_THROWS_AS(dequantize(GgmlType::Q8_0, b.data(), y.data(), 31), breadth::InvalidArgument);
  CHECK_THROWS_AS(dequantize(GgmlType::Q8_1, b.data(), y.data(), 32), breadth::Unsupported);
  CHECK_THROWS_AS(dequantize(static_cast<GgmlType>(99), b.data(), y.data(), 32), breadth::Unsupported);
  CHECK_FALSE(ggml_can_dequantize(GgmlType::Q8_1));
  CHECK(ggml_type_name(static_cast<GgmlType>(99)) == "type#99");
  CHECK(ggml_block_info(GgmlType::Q4_K).block_bytes == 144);
}

TEST_CASE("multi-threaded dequantization equals single-threaded", "[dequant]") {
  for (GgmlType t : {GgmlType::Q4_1, GgmlType::Q6_K, GgmlType::F16}) {
    const auto bi = ggml_block_info(t);
    const int64_t numel = int64_t{3} << 20;  // 3 Mi elements: several 1 Mi chunks
    std::vector<uint8_t> src(static_cast<size_t>(numel / bi.block_elems * bi.block_bytes));
    std::mt19937 rng(7);
    for (auto& x : src) x = static_cast<uint8_t>(rng());
    // keep scales finite so that NaN != NaN cannot hide a mismatch
    if (t == GgmlType::Q4_1)
      for (size_t i = 0; i < src.size(); i += 20) put16(&src[i], 0x3c00), put16(&src[i + 2], 0x3800);
    if (t == GgmlType::Q6_K)
      for (size_t i = 0; i < src.size(); i += 210) put16(&src[i + 208], 0x3000);
    if (t == GgmlType::F16)
      for (size_t i = 1; i < src.size(); i += 2) src[i] &= 0x3f;
    std::vector<float> one(static_cast<size_t>(numel)), many(static_cast<size_t>(numel));
    dequantize(t, src.data(), one.data(), numel, 1);
    dequantize(t, src.data(), many.data(), numel, 4);
    CHECK(std::memcmp(one.data(), many.data(), one.size() * 4) == 0);
  }
}

TEST_CASE("split_groups: integers and group scales give dequantize's floats exactly", "[dequant]") {
  // dequantize is checked against gguf-py (test_gguf) and the hand-worked blocks above; the split
  // form (value = scale * q + offset per group; for the K types also from their two-level scales)
  // must reproduce it exactly on random blocks, with finite half-precision scales of both signs.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> mag(-3.f, 3.f);
  auto half_of = [&](float target) {
    // The nearest representable half by search over normal halves' bit patterns near the target.
    uint16_t best = 0;
    float err = 1e30f;
    for (uint32_t h = 0; h < 0x7c00; h += 7) {
      for (uint16_t s : {uint16_t(0), uint16_t(0x8000)}) {
        float v = fp16_to_fp32(static_cast<uint16_t>(h | s));
        if (std::fabs(v - target) < err) { err = std::fabs(v - target); best = static_cast<uint16_t>(h | s); }
      }
    }
    return best;
  };
  std::vector<uint16_t> halves;
  for (int i = 0; i < 16; ++i) halves.push_back(half_of(std::ldexp(mag(rng), -byte(rng) % 8)));
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q4_K, GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q5_1,
                     GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q3_K, GgmlType::Q2_K}) {
    INFO(ggml_type_name(t));
    const bool five = t == GgmlType::Q5_0 || t == GgmlType::Q5_1 || t == GgmlType::Q5_K;
    const bool sixteen = t == GgmlType::Q6_K || t == GgmlType::Q3_K || t == GgmlType::Q2_K;
    const int64_t group = sixteen ? 16 : 32;
    REQUIRE(ggml_group_elems(t) == group);
    const auto b = ggml_block_info(t);
    const int64_t blocks = 24, numel = blocks * b.block_elems;
    std::vector<uint8_t> raw(static_cast<size_t>(blocks * b.block_bytes));
    for (auto& x : raw) x = static_cast<uint8_t>(byte(rng));
    // The half-precision fields at the start of each block: d (and m / dmin) from the finite set.
    for (int64_t i = 0; i < blocks; ++i) {
      uint8_t* blk = raw.data() + i * b.block_bytes;
      // Where each type keeps its half-precision d (and dmin / m).
      std::vector<int> at{0, 2};
      if (t == GgmlType::Q4_0 || t == GgmlType::Q8_0 || t == GgmlType::Q5_0) at = {0};
      if (t == GgmlType::Q6_K) at = {208};
      if (t == GgmlType::Q3_K) at = {108};
      if (t == GgmlType::Q2_K) at = {80, 82};
      for (int a : at) put16(blk + a, halves[static_cast<size_t>(byte(rng)) % halves.size()]);
    }
    std::vector<float> want(static_cast<size_t>(numel));
    dequantize(t, raw.data(), want.data(), numel, 1);
    std::vector<uint8_t> q(static_cast<size_t>(numel));
    const int64_t groups = numel / group, supers = numel / kGroupSuperElems;
    std::vector<float> scale(static_cast<size_t>(groups)), offset(static_cast<size_t>(groups));
    // ggml's bits per integer (ggml-common.h): Q2_K's 2, Q3_K's 3, ..., Q8_0's 8.
    const int bits = t == GgmlType::Q2_K   ? 2
                     : t == GgmlType::Q3_K ? 3
                     : t == GgmlType::Q6_K ? 6
                     : t == GgmlType::Q8_0 ? 8
                     : five                ? 5
                                           : 4;
    REQUIRE(ggml_group_bits(t) == bits);
    // The K types' scales also in two levels: a float per super-block times a byte per group.
    const bool k_type = t == GgmlType::Q4_K || t == GgmlType::Q5_K || sixteen;
    const bool shared = t == GgmlType::Q6_K || t == GgmlType::Q3_K;
    REQUIRE(ggml_group_factoring(t) == (!k_type  ? GroupFactoring::kNone
                                        : shared ? GroupFactoring::kShared
                                                 : GroupFactoring::kSeparate));
    std::vector<float> super_scale(static_cast<size_t>(supers)), super_offset(static_cast<size_t>(supers));
    std::vector<int8_t> sub_scale(static_cast<size_t>(groups)), sub_offset(static_cast<size_t>(groups));
    GroupFactors factors{super_scale.data(), super_offset.data(), sub_scale.data(),
                         shared ? nullptr : sub_offset.data()};
    split_groups(t, raw.data(), numel, q.data(), scale.data(), offset.data(), k_type ? &factors : nullptr);
    int mismatches = 0, factor_mismatches = 0;
    for (int64_t i = 0; i < numel; ++i) {
      const float qi = bits == 8 ? static_cast<float>(static_cast<int8_t>(q[i])) : static_cast<float>(q[i]);
      if (bits < 8) REQUIRE(q[i] < (1 << bits));
      const auto g = static_cast<size_t>(i / group);
      const float got = scale[g] * qi + offset[g];
      // Equal as numbers (bit for bit but for the sign of zero: (q - 8) d with q = 8 and a
      // negative d is -0, d q - 8 d is +0).
      mismatches += got != want[static_cast<size_t>(i)];
      if (k_type) {
        const auto s = static_cast<size_t>(i / kGroupSuperElems);
        const float fs = super_scale[s] * static_cast<float>(sub_scale[g]);
        const float fz = super_offset[s] * static_cast<float>(shared ? sub_scale[g] : sub_offset[g]);
        factor_mismatches += fs * qi + fz != want[static_cast<size_t>(i)];
      }
    }
    CHECK(mismatches == 0);
    CHECK(factor_mismatches == 0);
    // Factors for a type without two levels, or with the wrong offset array, are refused.
    if (!k_type) CHECK_THROWS_AS(split_groups(t, raw.data(), numel, q.data(), scale.data(), offset.data(), &factors),
                                 breadth::InvalidArgument);
    if (k_type) {
      GroupFactors wrong = factors;
      wrong.sub_offset = shared ? sub_offset.data() : nullptr;
      CHECK_THROWS_AS(split_groups(t, raw.data(), numel, q.data(), scale.data(), offset.data(), &wrong),
                      breadth::InvalidArgument);
    }
  }
  CHECK(ggml_group_bits(GgmlType::IQ4_NL) == 0);
  CHECK(ggml_group_bits(GgmlType::F32) == 0);
  CHECK(ggml_group_elems(GgmlType::F32) == 0);
  std::vector<uint8_t> q(32);
  std::vector<float> s(1), o(1);
  std::vector<uint8_t> raw(18);
  CHECK_THROWS_AS(split_groups(GgmlType::IQ4_NL, raw.data(), 32, q.data(), s.data(), o.data()),
                  breadth::InvalidArgument);
}
