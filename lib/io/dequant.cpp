#include "io/dequant.hpp"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "core/check.hpp"

// Block layouts follow ggml-common.h. The arithmetic mirrors ggml's reference dequantizers
// operation by operation (and this file is compiled with -ffp-contract=off), so results are
// bit-identical to ggml and to gguf-py's numpy port of it.

namespace breadth::io {

namespace {

constexpr int kQK = 32;    // elements per block of the legacy formats
constexpr int kQKK = 256;  // elements per super-block of the K-quants

inline uint16_t ld16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t ld32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      uint32_t e = 113;  // 127 - 15 + 1
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --e;
      }
      bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// 256 KiB table, built once: a lookup beats bit twiddling in the hot loops.
const float* half_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = half_bits_to_float(static_cast<uint16_t>(i));
    return t;
  }();
  return table.data();
}

inline float h2f(const float* T, const uint8_t* p) { return T[ld16(p)]; }

// ------------------------------------------------------------------ plain types
// Kernels take __restrict pointers: without them a uint8_t source may alias the output and the
// compiler keeps every loop scalar.
void deq_f32(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * 4);
}

void deq_f16(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  const float* T = half_table();
  for (int64_t i = 0; i < n; ++i) y[i] = T[ld16(x + 2 * i)];
}

void deq_bf16(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits = static_cast<uint32_t>(ld16(x + 2 * i)) << 16;
    std::memcpy(y + i, &bits, 4);
  }
}

template <typename T>
void deq_cast(const uint8_t* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, x + sizeof(T) * i, sizeof(T));
    y[i] = static_cast<float>(v);
  }
}

// ------------------------------------------------------------------ legacy 32-element blocks
// block_q4_0 { half d; uint8 qs[16]; }: x = (nibble - 8) * d; low nibbles are elements 0..15.
void deq_q4_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 18, y += kQK) {
    const float d = h2f(T, x);
    const uint8_t* qs = x + 2;
    // Separate loops for the two halves vectorize; interleaved stores do not.
    for (int j = 0; j < 16; ++j) y[j] = static_cast<float>((qs[j] & 0x0f) - 8) * d;
    for (int j = 0; j < 16; ++j) y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// block_q4_1 { half d, m; uint8 qs[16]; }: x = nibble * d + m.
void deq_q4_1(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 20, y += kQK) {
    const float d = h2f(T, x), m = h2f(T, x + 2);
    const uint8_t* qs = x + 4;
    for (int j = 0; j < 16; ++j) y[j] = static_cast<float>(qs[j] & 0x0f) * d + m;
    for (int j = 0; j < 16; ++j) y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

// block_q5_0 { half d; uint32 qh; uint8 qs[16]; }: bit j of qh is the 5th bit of element j.
void deq_q5_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 22, y += kQK) {
    const float d = h2f(T, x);
    const uint32_t qh = ld32(x + 2);
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16; ++j)
      y[j] = static_cast<float>(static_cast<int>((qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4)) - 16) * d;
    for (int j = 0; j < 16; ++j)
      y[j + 16] = static_cast<float>(static_cast<int>((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16) * d;
  }
}

// block_q5_1 { half d, m; uint32 qh; uint8 qs[16]; }
void deq_q5_1(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 24, y += kQK) {
    const float d = h2f(T, x), m = h2f(T, x + 2);
    const uint32_t qh = ld32(x + 4);
    const uint8_t* qs = x + 8;
    for (int j = 0; j < 16; ++j)
      y[j] = static_cast<float>((qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4)) * d + m;
    for (int j = 0; j < 16; ++j)
      y[j + 16] = static_cast<float>((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) * d + m;
  }
}

// block_q8_0 { half d; int8 qs[32]; }
void deq_q8_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 34, y += kQK) {
    const float d = h2f(T, x);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(qs[j]) * d;
  }
}

// block_iq4_nl { half d; uint8 qs[16]; }: nibbles index a fixed non-linear table.
constexpr int8_t kIQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

void deq_iq4_nl(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 18, y += kQK) {
    const float d = h2f(T, x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(kIQ4NL[qs[j] & 0x0f]);
      y[j + 16] = d * static_cast<float>(kIQ4NL[qs[j] >> 4]);
    }
  }
}

// block_mxfp4 { uint8 e; uint8 qs[16]; }: e2m1 values (doubled) times half of 2^(e-127).
constexpr int8_t kMXFP4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

void deq_mxfp4(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 17, y += kQK) {
    const uint32_t e = x[0];
    const uint32_t bits = e < 2 ? (0x00200000u << e) : ((e - 1) << 23);
    float d;
    std::memcpy(&d, &bits, 4);
    const uint8_t* qs = x + 1;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(kMXFP4[qs[j] & 0x0f]);
      y[j + 16] = d * static_cast<float>(kMXFP4[qs[j] >> 4]);
    }
  }
}

// ------------------------------------------------------------------ K-quants (256-element super-blocks)
// block_q2_K { uint8 scales[16]; uint8 qs[64]; half d, dmin; }: 16 groups of 16, each with a 4-bit
// scale (low nibble) and 4-bit min (high nibble); 2-bit quants, four per byte across 32-byte rows.
void deq_q2_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 84) {
    const uint8_t* sc = x;
    const uint8_t* q = x + 16;
    const float d = h2f(T, x + 80), dmin = h2f(T, x + 82);
    int is = 0;
    for (int n = 0; n < kQKK; n += 128) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t s = sc[is++];
          const float dl = d * static_cast<float>(s & 0x0f);
          const float ml = dmin * static_cast<float>(s >> 4);
          for (int l = 0; l < 16; ++l)
            *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
      q += 32;
    }
  }
}

// block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d; }: 16 six-bit signed scales,
// 2 low bits per quant in qs, the 3rd bit in hmask (a clear bit subtracts 4).
void deq_q3_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const uint8_t* hm = x;
    const uint8_t* q = x + 32;
    const uint8_t* s = x + 96;
    const float d_all = h2f(T, x + 108);
    int8_t scales[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
      const int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
      scales[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < kQKK; n += 128) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(scales[is++]);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
        m = static_cast<uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

// The 12 scale bytes of Q4_K/Q5_K pack 8 six-bit scales and 8 six-bit mins.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// block_q4_K { half d, dmin; uint8 scales[12]; uint8 qs[128]; }: 8 groups of 32.
void deq_q4_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 144) {
    const float d = h2f(T, x), dmin = h2f(T, x + 2);
    const uint8_t* sc = x + 4;
    const uint8_t* q = x + 16;
    int is = 0;
    for (int j = 0; j < kQKK; j += 64) {
      uint8_t s, m;
      scale_min_k4(is + 0, sc, &s, &m);
      const float d1 = d * static_cast<float>(s), m1 = dmin * static_cast<float>(m);
      scale_min_k4(is + 1, sc, &s, &m);
      const float d2 = d * static_cast<float>(s), m2 = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

// block_q5_K { half d, dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }
void deq_q5_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 176) {
    const float d = h2f(T, x), dmin = h2f(T, x + 2);
    const uint8_t* sc = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQKK; j += 64) {
      uint8_t s, m;
      scale_min_k4(is + 0, sc, &s, &m);
      const float d1 = d * static_cast<float>(s), m1 = dmin * static_cast<float>(m);
      scale_min_k4(is + 1, sc, &s, &m);
      const float d2 = d * static_cast<float>(s), m2 = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

// block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }: 6-bit quants minus 32.
void deq_q6_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = h2f(T, x + 208);
    for (int n = 0; n < kQKK; n += 128) {
      // Four 32-element rows per 128; each row is two 16-element groups with one scale. Row k takes
      // its low 4 bits from ql[l] or ql[l + 32] (k odd), low or high nibble (k >= 2), and bits
      // 2k..2k+1 of qh[l]. One loop per group keeps the scale constant and the loop vectorizable.
      for (int k = 0; k < 4; ++k) {
        const uint8_t* lo = ql + ((k & 1) ? 32 : 0);
        const int nib = k >= 2 ? 4 : 0;
        for (int h = 0; h < 2; ++h) {
          const float dl = d * static_cast<float>(sc[h + 2 * k]);
          for (int l = 16 * h; l < 16 * h + 16; ++l) {
            const int q = static_cast<int>(((lo[l] >> nib) & 0x0f) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
            y[32 * k + l] = dl * static_cast<float>(q);
          }
        }
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

// block_q8_K { float d; int8 qs[256]; int16 bsums[16]; } (bsums only serve dot products).
void deq_q8_k(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 292, y += kQKK) {
    float d;
    std::memcpy(&d, x, 4);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 4);
    for (int j = 0; j < kQKK; ++j) y[j] = d * static_cast<float>(qs[j]);
  }
}

// block_iq4_xs { half d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]; }: 8 groups of 32 with
// 6-bit signed scales over the IQ4_NL table.
void deq_iq4_xs(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 136) {
    const float d = h2f(T, x);
    const uint16_t sh = ld16(x + 2);
    const uint8_t* sl = x + 4;
    const uint8_t* qs = x + 8;
    for (int ib = 0; ib < 8; ++ib, qs += 16, y += 32) {
      const int ls = ((sl[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((sh >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * static_cast<float>(kIQ4NL[qs[j] & 0x0f]);
        y[j + 16] = dl * static_cast<float>(kIQ4NL[qs[j] >> 4]);
      }
    }
  }
}

// block_tq2_0 { uint8 qs[64]; half d; }: ternary {-1, 0, 1} in 2 bits.
void deq_tq2_0(const uint8_t* __restrict x, float* __restrict y, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 66) {
    const float d = h2f(T, x + 64);
    for (int j = 0; j < 64; j += 32)
      for (int shift = 0; shift < 8; shift += 2)
        for (int l = 0; l < 32; ++l)
          *y++ = d * static_cast<float>(static_cast<int>((x[j + l] >> shift) & 3) - 1);
  }
}

// ---------------------------------------------------------------------------------- i-quants, TQ1_0
// Codebooks: ggml's grids, packed as gguf-py packs them (iq_grids.inc), unpacked once to floats.
#include "io/iq_grids.inc"

struct Grid {
  int cols = 0;
  std::vector<float> v;  // rows x cols
  const float* row(uint32_t i) const { return v.data() + static_cast<size_t>(i) * cols; }
};

Grid unpack_grid(const int8_t* map, int bits, int rows, int cols, const char* hex) {
  Grid g;
  g.cols = cols;
  g.v.reserve(static_cast<size_t>(rows) * cols);
  const int per_byte = 8 / bits;
  const int step = 8 / per_byte;
  auto nibble = [](char c) {
    const int x = static_cast<unsigned char>(c);
    return (x > 0x40 ? x + 9 : x) & 0x0f;
  };
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
    const int byte = (nibble(hex[i]) << 4) | nibble(hex[i + 1]);
    for (int k = 0; k < per_byte; ++k)
      g.v.push_back(static_cast<float>(map[(byte >> (k * step)) & ((1 << bits) - 1)]));
  }
  if (g.v.size() != static_cast<size_t>(rows) * cols)
    fail<FormatError>("i-quant grid has {} entries, not {}", g.v.size(), rows * cols);
  return g;
}

#define BREADTH_GRID(fn, N)                                                          \
  const Grid& fn() {                                                                 \
    static const Grid g = unpack_grid(k##N##Map, k##N##Bits, k##N##Rows, k##N##Cols, \
                                      k##N##Hex);                                    \
    return g;                                                                        \
  }
BREADTH_GRID(grid_iq2xxs, Iq2xxs)
BREADTH_GRID(grid_iq2xs, Iq2xs)
BREADTH_GRID(grid_iq2s, Iq2s)
BREADTH_GRID(grid_iq3xxs, Iq3xxs)
BREADTH_GRID(grid_iq3s, Iq3s)
BREADTH_GRID(grid_iq1s, Iq1s)
#undef BREADTH_GRID

// ggml's ksigns_iq2xs: 7 stored sign bits, the 8th makes the count of minus signs even.
inline uint8_t ksigns(uint32_t i) {
  i &= 127;
  return static_cast<uint8_t>(i | ((__builtin_popcount(i) & 1) << 7));
}
inline float sign_of(uint32_t signs, int bit) { return (signs >> bit) & 1 ? -1.0f : 1.0f; }

constexpr float kIq1Delta = 0.125f;

// d f16; qs: per 32 values two u32, the first 4 grid indices (8 values each), the second 4 x 7 sign
// bits and a 4-bit scale. value = d * (0.5 + s) * 0.25 * grid * sign.
void deq_iq2_xxs(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq2xxs();
  for (int64_t i = 0; i < nb; ++i, x += 66) {
    const float d = half_table()[ld16(x)];
    for (int ib = 0; ib < kQKK / 32; ++ib) {
      const uint32_t a0 = ld32(x + 2 + 8 * ib), a1 = ld32(x + 2 + 8 * ib + 4);
      const float db = d * (0.5f + static_cast<float>(a1 >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const float* g = grid.row((a0 >> (8 * l)) & 0xff);
        const uint8_t signs = ksigns(a1 >> (7 * l));
        for (int j = 0; j < 8; ++j) *y++ = db * g[j] * sign_of(signs, j);
      }
    }
  }
}

// d f16; qs u16[32]: 9-bit grid index, 7 sign bits; scales[8]: a nibble per 16 values.
void deq_iq2_xs(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq2xs();
  for (int64_t i = 0; i < nb; ++i, x += 74) {
    const float d = half_table()[ld16(x)];
    const uint8_t* qs = x + 2;
    const uint8_t* scales = x + 2 + 64;
    for (int k = 0; k < 32; ++k) {
      const uint16_t q = ld16(qs + 2 * k);
      const int s = k / 2;
      const float db = d * (0.5f + static_cast<float>((scales[s / 2] >> (4 * (s % 2))) & 0x0f)) * 0.25f;
      const float* g = grid.row(q & 511);
      const uint8_t signs = ksigns(q >> 9);
      for (int j = 0; j < 8; ++j) *y++ = db * g[j] * sign_of(signs, j);
    }
  }
}

// d f16; qs[32] low 8 index bits; signs[32] one byte per 8 values; qh[8] 2 high index bits each;
// scales[8] a nibble per 16 values.
void deq_iq2_s(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq2s();
  for (int64_t i = 0; i < nb; ++i, x += 82) {
    const float d = half_table()[ld16(x)];
    const uint8_t* qs = x + 2;
    const uint8_t* signs = qs + 32;
    const uint8_t* qh = signs + 32;
    const uint8_t* scales = qh + 8;
    for (int k = 0; k < 32; ++k) {
      const int s = k / 2;
      const float db = d * (0.5f + static_cast<float>((scales[s / 2] >> (4 * (s % 2))) & 0x0f)) * 0.25f;
      const uint32_t idx = qs[k] | (((qh[k / 4] >> (2 * (k % 4))) & 3u) << 8);
      const float* g = grid.row(idx);
      for (int j = 0; j < 8; ++j) *y++ = db * g[j] * sign_of(signs[k], j);
    }
  }
}

// d f16; qs[64] indices of 4-value grid rows; u32[8]: 4 x 7 sign bits and a 4-bit scale per 32.
void deq_iq3_xxs(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq3xxs();
  for (int64_t i = 0; i < nb; ++i, x += 98) {
    const float d = half_table()[ld16(x)];
    const uint8_t* qs = x + 2;
    const uint8_t* sc = x + 2 + 64;
    for (int ib = 0; ib < kQKK / 32; ++ib) {
      const uint32_t aux = ld32(sc + 4 * ib);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = ksigns(aux >> (7 * l));
        const float* g1 = grid.row(qs[8 * ib + 2 * l]);
        const float* g2 = grid.row(qs[8 * ib + 2 * l + 1]);
        for (int j = 0; j < 4; ++j) *y++ = db * g1[j] * sign_of(signs, j);
        for (int j = 0; j < 4; ++j) *y++ = db * g2[j] * sign_of(signs, j + 4);
      }
    }
  }
}

// d f16; qs[64] low index bits; qh[8] the 9th bit; signs[32]; scales[4] a nibble per 32 values:
// value = d * (1 + 2 s) * grid * sign.
void deq_iq3_s(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq3s();
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const float d = half_table()[ld16(x)];
    const uint8_t* qs = x + 2;
    const uint8_t* qh = qs + 64;
    const uint8_t* signs = qh + 8;
    const uint8_t* scales = signs + 32;
    for (int ib = 0; ib < 8; ++ib) {
      const float db = d * static_cast<float>(1 + 2 * ((scales[ib / 2] >> (4 * (ib % 2))) & 0x0f));
      for (int k = 0; k < 8; ++k) {  // 8 rows of 4 values
        const int q = 8 * ib + k;
        const uint32_t idx = qs[q] | (((qh[q / 8] >> (q % 8)) & 1u) << 8);
        const float* g = grid.row(idx);
        const uint8_t sb = signs[q / 2];
        for (int j = 0; j < 4; ++j) *y++ = db * g[j] * sign_of(sb, 4 * (q % 2) + j);
      }
    }
  }
}

// d f16; qs[32] low index bits; qh u16[8]: 4 x 3 high index bits, a 3-bit scale and the delta's
// sign per 32 values. value = d * (2 s + 1) * (grid + delta).
void deq_iq1_s(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq1s();
  for (int64_t i = 0; i < nb; ++i, x += 50) {
    const float d = half_table()[ld16(x)];
    const uint8_t* qs = x + 2;
    const uint8_t* qh = x + 2 + 32;
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t h = ld16(qh + 2 * ib);
      const float dl = d * static_cast<float>(2 * ((h >> 12) & 7) + 1);
      const float delta = (h & 0x8000) ? -kIq1Delta : kIq1Delta;
      for (int l = 0; l < 4; ++l) {
        const uint32_t idx = qs[4 * ib + l] | (((h >> (3 * l)) & 7u) << 8);
        const float* g = grid.row(idx);
        for (int j = 0; j < 8; ++j) *y++ = dl * (g[j] + delta);
      }
    }
  }
}

// qs[32]; qh[16]: a nibble per 8 values (3 high index bits, the delta's sign); scales u16[4]: 3-bit
// scales per 16 values, and the top nibbles of the four together are the f16 d.
void deq_iq1_m(const uint8_t* x, float* y, int64_t nb) {
  const Grid& grid = grid_iq1s();
  for (int64_t i = 0; i < nb; ++i, x += 56) {
    const uint8_t* qs = x;
    const uint8_t* qh = x + 32;
    const uint8_t* sc = x + 48;
    uint16_t s[4];
    for (int k = 0; k < 4; ++k) s[k] = ld16(sc + 2 * k);
    const uint16_t dbits = static_cast<uint16_t>(((s[0] & 0xf000) >> 12) | ((s[1] & 0xf000) >> 8) |
                                                 ((s[2] & 0xf000) >> 4) | (s[3] & 0xf000));
    const float d = half_table()[dbits];
    for (int ib = 0; ib < 8; ++ib) {
      for (int half = 0; half < 2; ++half) {
        const int si = 2 * ib + half;
        const float dl = d * static_cast<float>(2 * ((s[si / 4] >> (3 * (si % 4))) & 7) + 1);
        for (int l = 0; l < 2; ++l) {
          const int q = 4 * ib + 2 * half + l;
          const int nib = (qh[q / 2] >> (4 * (q % 2))) & 0x0f;
          const uint32_t idx = qs[q] | (static_cast<uint32_t>(nib & 7) << 8);
          const float delta = (nib & 8) ? -kIq1Delta : kIq1Delta;
          const float* g = grid.row(idx);
          for (int j = 0; j < 8; ++j) *y++ = dl * (g[j] + delta);
        }
      }
    }
  }
}

// Ternary, five trits per byte (qs[48]) and four per byte (qh[4]) as fixed-point fractions of 243,
// then d f16: trit = ((uint8(q * 3^k) * 3) >> 8) - 1.
void deq_tq1_0(const uint8_t* x, float* y, int64_t nb) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  auto trit = [](uint8_t q, int k) {
    const uint8_t v = static_cast<uint8_t>(q * kPow3[k]);
    return static_cast<float>(static_cast<int>((static_cast<uint16_t>(v) * 3) >> 8) - 1);
  };
  for (int64_t i = 0; i < nb; ++i, x += 54) {
    const uint8_t* qs = x;
    const uint8_t* qh = x + 48;
    const float d = half_table()[ld16(x + 52)];
    for (int k = 0; k < 5; ++k)
      for (int j = 0; j < 32; ++j) *y++ = d * trit(qs[j], k);
    for (int k = 0; k < 5; ++k)
      for (int j = 0; j < 16; ++j) *y++ = d * trit(qs[32 + j], k);
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 4; ++j) *y++ = d * trit(qh[j], k);
  }
}

using Kernel = void (*)(const uint8_t*, float*, int64_t);

// For plain types the kernel's count is elements; for block types it is blocks.
Kernel kernel_for(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return deq_f32;
    case GgmlType::F16: return deq_f16;
    case GgmlType::BF16: return deq_bf16;
    case GgmlType::F64: return deq_cast<double>;
    case GgmlType::I8: return deq_cast<int8_t>;
    case GgmlType::I16: return deq_cast<int16_t>;
    case GgmlType::I32: return deq_cast<int32_t>;
    case GgmlType::I64: return deq_cast<int64_t>;
    case GgmlType::Q4_0: return deq_q4_0;
    case GgmlType::Q4_1: return deq_q4_1;
    case GgmlType::Q5_0: return deq_q5_0;
    case GgmlType::Q5_1: return deq_q5_1;
    case GgmlType::Q8_0: return deq_q8_0;
    case GgmlType::Q2_K: return deq_q2_k;
    case GgmlType::Q3_K: return deq_q3_k;
    case GgmlType::Q4_K: return deq_q4_k;
    case GgmlType::Q5_K: return deq_q5_k;
    case GgmlType::Q6_K: return deq_q6_k;
    case GgmlType::Q8_K: return deq_q8_k;
    case GgmlType::IQ4_NL: return deq_iq4_nl;
    case GgmlType::IQ4_XS: return deq_iq4_xs;
    case GgmlType::TQ2_0: return deq_tq2_0;
    case GgmlType::TQ1_0: return deq_tq1_0;
    case GgmlType::IQ2_XXS: return deq_iq2_xxs;
    case GgmlType::IQ2_XS: return deq_iq2_xs;
    case GgmlType::IQ2_S: return deq_iq2_s;
    case GgmlType::IQ3_XXS: return deq_iq3_xxs;
    case GgmlType::IQ3_S: return deq_iq3_s;
    case GgmlType::IQ1_S: return deq_iq1_s;
    case GgmlType::IQ1_M: return deq_iq1_m;
    case GgmlType::MXFP4: return deq_mxfp4;
    default: return nullptr;
  }
}

// ------------------------------------------------------------------ integers and group scales
// The same blocks as the deq_* kernels above, split into one integer per element and (scale,
// offset) per group instead of multiplied out: value = scale * q + offset. Every product is exact (a
// half times a small integer, or a half times two: at most 11 + 8 + 6 significant bits), so the
// values equal theirs (a zero may differ in sign). Codes of fewer than 8 bits are unsigned: a signed
// format's q + 2^(bits-1) with its offset -2^(bits-1) scale, as Q4_0's (q - 8) d is d q - 8 d.
void split_q4_0(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 18, q += kQK) {
    const float d = h2f(T, x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) q[j] = qs[j] & 0x0f;
    for (int j = 0; j < 16; ++j) q[j + 16] = qs[j] >> 4;
    scale[i] = d;
    offset[i] = -8.0f * d;
  }
}
void split_q4_1(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 20, q += kQK) {
    const uint8_t* qs = x + 4;
    for (int j = 0; j < 16; ++j) q[j] = qs[j] & 0x0f;
    for (int j = 0; j < 16; ++j) q[j + 16] = qs[j] >> 4;
    scale[i] = h2f(T, x);
    offset[i] = h2f(T, x + 2);
  }
}

// Where the K types' two-level scales go as they are read (GroupFactors, or nowhere): one call per
// super-block, then one per group.
struct FactorSink {
  const GroupFactors* f;
  int64_t super = 0, group = 0;
  void block(float d, float m) {
    if (!f) return;
    f->super_scale[super] = d;
    f->super_offset[super++] = m;
  }
  void sub(int s, int m) {
    if (!f) return;
    f->sub_scale[group] = static_cast<int8_t>(s);
    if (f->sub_offset) f->sub_offset[group] = static_cast<int8_t>(m);
    ++group;
  }
};

// Q4_K/Q5_K: the scales and offsets of groups g and g + 1 (d * sc, -dmin * m), advancing the outputs.
inline void k4_groups(int g, const uint8_t* sc, float d, float dmin, float*& scale, float*& offset,
                      FactorSink& f) {
  for (int j = g; j < g + 2; ++j) {
    uint8_t s, m;
    scale_min_k4(j, sc, &s, &m);
    *scale++ = d * static_cast<float>(s);
    *offset++ = -dmin * static_cast<float>(m);
    f.sub(s, m);
  }
}
// Q5_0/Q5_1: 32 five-bit values from 16 bytes of low nibbles and 32 high bits.
inline void unpack_q5(const uint8_t* qs, uint32_t qh, uint8_t* q) {
  for (int j = 0; j < 16; ++j) q[j] = static_cast<uint8_t>((qs[j] & 0x0fu) | (((qh >> j) & 1u) << 4));
  for (int j = 0; j < 16; ++j) q[j + 16] = static_cast<uint8_t>((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
}
void split_q4_k(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb, FactorSink f) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 144) {
    const float d = h2f(T, x), dmin = h2f(T, x + 2);
    f.block(d, -dmin);
    const uint8_t* sc = x + 4;
    const uint8_t* qs = x + 16;
    for (int g = 0; g < 8; g += 2, qs += 32, q += 64) {
      k4_groups(g, sc, d, dmin, scale, offset, f);
      for (int l = 0; l < 32; ++l) q[l] = qs[l] & 0x0f;
      for (int l = 0; l < 32; ++l) q[l + 32] = qs[l] >> 4;
    }
  }
}
// The 5-bit types, q in [0, 31]: Q5_0's (q - 16) d is d q + (-16 d) (both exact), Q5_1's d q + m
// and Q5_K's d1 q - m1 are what their dequantization computes.
void split_q5_0(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 22, q += kQK) {
    const uint32_t qh = ld32(x + 2);
    const uint8_t* qs = x + 6;
    unpack_q5(qs, qh, q);
    scale[i] = h2f(T, x);
    offset[i] = -16.0f * scale[i];
  }
}
void split_q5_1(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 24, q += kQK) {
    const uint32_t qh = ld32(x + 4);
    const uint8_t* qs = x + 8;
    unpack_q5(qs, qh, q);
    scale[i] = h2f(T, x);
    offset[i] = h2f(T, x + 2);
  }
}
void split_q5_k(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb, FactorSink f) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 176) {
    const float d = h2f(T, x), dmin = h2f(T, x + 2);
    f.block(d, -dmin);
    const uint8_t* sc = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int g = 0; g < 8; g += 2, ql += 32, q += 64) {
      k4_groups(g, sc, d, dmin, scale, offset, f);
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0));
      for (int l = 0; l < 32; ++l) q[l + 32] = static_cast<uint8_t>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0));
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}
// The K types with groups of 16, in element order: the same loops as their dequantization, writing
// q and d * sc instead of products.
void split_q6_k(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb, FactorSink f) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = h2f(T, x + 208);
    f.block(d, -32.0f * d);  // the offset -32 d sc: the shared integer sc times -32 d
    for (int n = 0; n < kQKK; n += 128, q += 128, ql += 64, qh += 32, sc += 8) {
      for (int k = 0; k < 4; ++k) {
        const uint8_t* lo = ql + ((k & 1) ? 32 : 0);
        const int nib = k >= 2 ? 4 : 0;
        for (int l = 0; l < 32; ++l)
          q[32 * k + l] = static_cast<uint8_t>(((lo[l] >> nib) & 0x0f) | (((qh[l] >> (2 * k)) & 3) << 4));  // q + 32
      }
      for (int j = 0; j < 8; ++j) {
        *scale++ = d * static_cast<float>(sc[j]);
        *offset++ = -32.0f * (d * static_cast<float>(sc[j]));
        f.sub(sc[j], sc[j]);
      }
    }
  }
}
void split_q3_k(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb, FactorSink f) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const uint8_t* hm = x;
    const uint8_t* qs = x + 32;
    const uint8_t* s = x + 96;
    const float d_all = h2f(T, x + 108);
    f.block(d_all, -4.0f * d_all);  // the offset -4 d sc: the shared integer sc times -4 d
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
      const int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
      const int sc = (lo | (hi << 4)) - 32;
      *scale++ = d_all * static_cast<float>(sc);
      *offset++ = -4.0f * (d_all * static_cast<float>(sc));
      f.sub(sc, sc);
    }
    uint8_t m = 1;
    for (int n = 0; n < kQKK; n += 128, qs += 32)
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1))
        for (int l = 0; l < 32; ++l)
          *q++ = static_cast<uint8_t>(((qs[l] >> shift) & 3) | ((hm[l] & m) ? 4 : 0));  // q + 4
  }
}
void split_q2_k(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb, FactorSink f) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 84) {
    const uint8_t* sc = x;
    const uint8_t* qs = x + 16;
    const float d = h2f(T, x + 80), dmin = h2f(T, x + 82);
    f.block(d, -dmin);
    for (int j = 0; j < 16; ++j) {
      *scale++ = d * static_cast<float>(sc[j] & 0x0f);
      *offset++ = -dmin * static_cast<float>(sc[j] >> 4);
      f.sub(sc[j] & 0x0f, sc[j] >> 4);
    }
    for (int n = 0; n < kQKK; n += 128, qs += 32)
      for (int shift = 0; shift < 8; shift += 2)
        for (int l = 0; l < 32; ++l) *q++ = static_cast<uint8_t>((qs[l] >> shift) & 3);
  }
}
void split_q8_0(const uint8_t* x, uint8_t* q, float* scale, float* offset, int64_t nb) {
  const float* T = half_table();
  for (int64_t i = 0; i < nb; ++i, x += 34, q += kQK) {
    std::memcpy(q, x + 2, kQK);  // int8 quants, stored as the bytes they are
    scale[i] = h2f(T, x);
    offset[i] = 0.0f;
  }
}

}  // namespace

float fp16_to_fp32(uint16_t h) { return half_table()[h]; }

float bf16_to_fp32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

bool ggml_can_dequantize(GgmlType t) { return kernel_for(t) != nullptr; }

void dequantize_blocks(GgmlType t, const uint8_t* src, float* dst, int64_t n_blocks) {
  Kernel k = kernel_for(t);
  if (!k) fail<Unsupported>("dequantizing ggml type {} is not supported by breadth", ggml_type_name(t));
  if (n_blocks > 0) k(src, dst, n_blocks);
}

void dequantize(GgmlType t, const uint8_t* src, float* dst, int64_t numel, int max_threads) {
  Kernel k = kernel_for(t);
  if (!k) fail<Unsupported>("dequantizing ggml type {} is not supported by breadth", ggml_type_name(t));
  const GgmlBlockInfo bi = ggml_block_info(t);
  BREADTH_CHECK_ARG(numel >= 0 && numel % bi.block_elems == 0,
                    "dequantize: {} elements are not a whole number of {}-element {} blocks", numel,
                    bi.block_elems, ggml_type_name(t));
  const int64_t nb = numel / bi.block_elems;
  if (nb == 0) return;
  // Below ~1M elements a thread costs more than it saves.
  constexpr int64_t kMinElemsPerThread = int64_t{1} << 20;
  int threads = max_threads > 0 ? max_threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(threads, numel / kMinElemsPerThread), 1, 64));
  if (threads == 1) {
    k(src, dst, nb);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads - 1));
  const int64_t per = (nb + threads - 1) / threads;
  auto run = [&](int64_t b0) {
    const int64_t b1 = std::min(nb, b0 + per);
    if (b0 < b1) k(src + b0 * bi.block_bytes, dst + b0 * bi.block_elems, b1 - b0);
  };
  for (int i = 1; i < threads; ++i) pool.emplace_back(run, per * i);
  run(0);
  for (auto& th : pool) th.join();
}

int ggml_group_bits(GgmlType t) {
  switch (t) {
    case GgmlType::Q2_K: return 2;
    case GgmlType::Q3_K: return 3;
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q4_K: return 4;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q5_K: return 5;
    case GgmlType::Q6_K: return 6;
    case GgmlType::Q8_0: return 8;
    default: return 0;
  }
}

int ggml_group_elems(GgmlType t) {
  switch (t) {
    case GgmlType::Q6_K:
    case GgmlType::Q3_K:
    case GgmlType::Q2_K: return 16;
    default: return ggml_group_bits(t) > 0 ? 32 : 0;
  }
}

GroupFactoring ggml_group_factoring(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q2_K: return GroupFactoring::kSeparate;
    case GgmlType::Q6_K:
    case GgmlType::Q3_K: return GroupFactoring::kShared;
    default: return GroupFactoring::kNone;
  }
}

void split_groups(GgmlType t, const uint8_t* src, int64_t numel, uint8_t* q, float* scale, float* offset,
                  const GroupFactors* factors) {
  const GgmlBlockInfo b = ggml_block_info(t);
  BREADTH_CHECK_ARG(numel % b.block_elems == 0, "split_groups: {} elements are not whole {} blocks",
                    numel, ggml_type_name(t));
  const GroupFactoring factoring = ggml_group_factoring(t);
  BREADTH_CHECK_ARG(!factors || factoring != GroupFactoring::kNone,
                    "split_groups: {} has no two-level scales; pass factors = nullptr", ggml_type_name(t));
  BREADTH_CHECK_ARG(!factors || (factors->super_scale && factors->super_offset && factors->sub_scale &&
                                 (factors->sub_offset != nullptr) == (factoring == GroupFactoring::kSeparate)),
                    "split_groups: {}'s factors need super_scale, super_offset and sub_scale, and {}",
                    ggml_type_name(t),
                    factoring == GroupFactoring::kSeparate ? "sub_offset" : "no sub_offset (it shares sub_scale)");
  const int64_t nb = numel / b.block_elems;
  const FactorSink f{factors};
  switch (t) {
    case GgmlType::Q4_0: return split_q4_0(src, q, scale, offset, nb);
    case GgmlType::Q4_1: return split_q4_1(src, q, scale, offset, nb);
    case GgmlType::Q4_K: return split_q4_k(src, q, scale, offset, nb, f);
    case GgmlType::Q5_0: return split_q5_0(src, q, scale, offset, nb);
    case GgmlType::Q5_1: return split_q5_1(src, q, scale, offset, nb);
    case GgmlType::Q5_K: return split_q5_k(src, q, scale, offset, nb, f);
    case GgmlType::Q8_0: return split_q8_0(src, q, scale, offset, nb);
    case GgmlType::Q6_K: return split_q6_k(src, q, scale, offset, nb, f);
    case GgmlType::Q3_K: return split_q3_k(src, q, scale, offset, nb, f);
    case GgmlType::Q2_K: return split_q2_k(src, q, scale, offset, nb, f);
    default:
      fail<InvalidArgument>("split_groups: {} is not stored as integers with group scales",
                            ggml_type_name(t));
  }
}

}  // namespace breadth::io
