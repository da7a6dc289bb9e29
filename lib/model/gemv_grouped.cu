// gemv_grouped and dequantize_grouped on a CUDA device (model/gemv.hpp): the same layout, the same
// weights (fmaf(q, scale, offset), rounded once: the float path's dequantized values exactly) and
// float32 sums, so a GGUF model keeps its file's size in GPU memory too. Built only with
// BREADTH_CUDA; written and compiled without a GPU at hand, verified by the "gpu" tests
// (tests/model/test_quantized_gpu.cpp) on a machine that has one.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "model/gemv.hpp"
#include "model/grouped_form.hpp"

namespace breadth::model {
namespace {

constexpr int kChunk = 32;
constexpr int kWarps = 8;  // output rows per block of the decode kernel, one warp each

// The plain-old-data view a kernel receives by value.
struct DeviceWeight {
  const uint8_t* codes;
  const void* scale;
  const void* offset;
  const float* super_scale;
  const float* super_offset;
  const int8_t* sub_scale;
  const int8_t* sub_offset;
  int scales;  // GroupedWeight::Scales
  int64_t in, out, groups, supers, row_bytes;
};

DeviceWeight device_view(const GroupedWeight& w) {
  return {w.codes,        w.scale,         w.offset,        w.super_scale,
          w.super_offset, w.sub_scale,     w.sub_offset,    static_cast<int>(w.scales),
          w.in,           w.out,           w.in / w.group,  w.in / GroupedWeight::kSuper,
          w.row_bytes()};
}

// Scale and offset of group g of row o (the floats io::split_groups gives; two-level products exact).
__device__ inline void group_scale(const DeviceWeight& w, int64_t o, int64_t g, int per_super, float& s, float& z) {
  const int64_t i = o * w.groups + g;
  if (w.scales == static_cast<int>(GroupedWeight::Scales::kHalf)) {
    s = __half2float(static_cast<const __half*>(w.scale)[i]);
    z = __half2float(static_cast<const __half*>(w.offset)[i]);
  } else if (w.scales == static_cast<int>(GroupedWeight::Scales::kFloat)) {
    s = static_cast<const float*>(w.scale)[i];
    z = static_cast<const float*>(w.offset)[i];
  } else {
    const int64_t sup = o * w.supers + g / per_super;
    s = w.super_scale[sup] * static_cast<float>(w.sub_scale[i]);
    z = w.super_offset[sup] * static_cast<float>((w.sub_offset ? w.sub_offset : w.sub_scale)[i]);
  }
}

// The 32 weights of chunk c of row o, as GroupedWeight lays out its codes (a chunk is 4 * BITS
// bytes, so it starts on a 4-byte boundary and is read as words).
template <int BITS, int SPLIT>
__device__ inline void chunk_weights(const DeviceWeight& w, int64_t o, int64_t c, float (&v)[kChunk]) {
  const auto* p = reinterpret_cast<const uint32_t*>(w.codes + o * w.row_bytes + c * (4 * BITS));
  int q[kChunk];
  if constexpr (BITS == 8) {
#pragma unroll
    for (int j = 0; j < kChunk; ++j) q[j] = static_cast<int8_t>((p[j / 4] >> (8 * (j % 4))) & 0xff);
  } else {
    constexpr int kBase = BITS < 4 ? 2 : 4;
    if constexpr (kBase == 4) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const uint32_t byte = (p[j / 4] >> (8 * (j % 4))) & 0xff;
        q[j] = byte & 15;
        q[j + 16] = byte >> 4;
      }
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const uint32_t byte = (p[j / 4] >> (8 * (j % 4))) & 0xff;
#pragma unroll
        for (int i = 0; i < 4; ++i) q[8 * i + j] = (byte >> (2 * i)) & 3;
      }
    }
#pragma unroll
    for (int h = 0; h < BITS - kBase; ++h) {
      const uint32_t plane = p[kBase + h];
#pragma unroll
      for (int j = 0; j < kChunk; ++j) q[j] |= static_cast<int>((plane >> j) & 1u) << (kBase + h);
    }
  }
  const int per_super = static_cast<int>(GroupedWeight::kSuper / (kChunk / SPLIT));
  float s0, z0, s1, z1;
  group_scale(w, o, c * SPLIT, per_super, s0, z0);
  if constexpr (SPLIT == 2) {
    group_scale(w, o, c * SPLIT + 1, per_super, s1, z1);
  } else {
    s1 = s0;
    z1 = z0;
  }
#pragma unroll
  for (int j = 0; j < kChunk; ++j)
    v[j] = j < 16 ? fmaf(static_cast<float>(q[j]), s0, z0) : fmaf(static_cast<float>(q[j]), s1, z1);
}

__device__ inline float load(const float* p) { return *p; }
__device__ inline float load(const uint16_t* p) { return __uint_as_float(static_cast<uint32_t>(*p) << 16); }
__device__ inline void store(float v, float* p) { *p = v; }
__device__ inline void store(float v, uint16_t* p) { *p = __bfloat16_as_ushort(__float2bfloat16_rn(v)); }

// y[m, o] for m < rows <= MAX_ROWS: warp k of a block takes output row blockIdx.x * kWarps + k, its
// lanes consecutive chunks (so a warp reads 32 chunks' contiguous bytes at a time), each lane's
// products summed in float32, then the lanes' sums by shuffles.
template <int BITS, int SPLIT, int MAX_ROWS, typename X, typename Y>
__global__ void __launch_bounds__(32 * kWarps) gemv_kernel(const X* x, int rows, DeviceWeight w, Y* y) {
  const int lane = threadIdx.x % 32;
  const int64_t o = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (o >= w.out) return;
  float acc[MAX_ROWS];
#pragma unroll
  for (int m = 0; m < MAX_ROWS; ++m) acc[m] = 0.f;
  const int64_t chunks = w.in / kChunk;
  for (int64_t c = lane; c < chunks; c += 32) {
    float v[kChunk];
    chunk_weights<BITS, SPLIT>(w, o, c, v);
#pragma unroll
    for (int m = 0; m < MAX_ROWS; ++m) {
      if (m >= rows) break;
      const X* xr = x + m * w.in + c * kChunk;
#pragma unroll
      for (int j = 0; j < kChunk; ++j) acc[m] = fmaf(v[j], load(xr + j), acc[m]);
    }
  }
#pragma unroll
  for (int m = 0; m < MAX_ROWS; ++m) {
    if (m >= rows) break;
    float a = acc[m];
#pragma unroll
    for (int d = 16; d > 0; d /= 2) a += __shfl_down_sync(0xffffffffu, a, d);
    if (lane == 0) store(a, y + m * w.out + o);
  }
}

// One thread per chunk: rows [begin, end) of W into out [end - begin, in].
template <int BITS, int SPLIT, typename Out>
__global__ void dequantize_kernel(DeviceWeight w, int64_t begin, int64_t end, Out* out) {
  const int64_t chunks = w.in / kChunk;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= (end - begin) * chunks) return;
  const int64_t o = begin + i / chunks, c = i % chunks;
  float v[kChunk];
  chunk_weights<BITS, SPLIT>(w, o, c, v);
  Out* dst = out + (o - begin) * w.in + c * kChunk;
#pragma unroll
  for (int j = 0; j < kChunk; ++j) store(v[j], dst + j);
}

template <typename X, typename Y>
bool run(const X* x, int64_t rows, const GroupedWeight& w, Y* y, void* stream) {
  if (rows < 1 || rows > kGemvMaxRows) return false;
  const DeviceWeight d = device_view(w);
  const dim3 grid(static_cast<unsigned>((w.out + kWarps - 1) / kWarps)), block(32 * kWarps);
  auto s = static_cast<cudaStream_t>(stream);
  const int r = static_cast<int>(rows);
  with_form(w, [&](auto bits, auto split) {
    constexpr int B = decltype(bits)::value, S = decltype(split)::value;
    if (rows == 1)
      gemv_kernel<B, S, 1><<<grid, block, 0, s>>>(x, r, d, y);
    else if (rows <= 4)
      gemv_kernel<B, S, 4><<<grid, block, 0, s>>>(x, r, d, y);
    else
      gemv_kernel<B, S, kGemvMaxRows><<<grid, block, 0, s>>>(x, r, d, y);
  });
  return cudaGetLastError() == cudaSuccess;
}

template <typename Out>
void dequantize(const GroupedWeight& w, int64_t begin, int64_t end, Out* out, void* stream) {
  const int64_t n = (end - begin) * (w.in / kChunk);
  if (n <= 0) return;
  const DeviceWeight d = device_view(w);
  const unsigned threads = 256, blocks = static_cast<unsigned>((n + threads - 1) / threads);
  with_form(w, [&](auto bits, auto split) {
    constexpr int B = decltype(bits)::value, S = decltype(split)::value;
    dequantize_kernel<B, S><<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(d, begin, end, out);
  });
}

}  // namespace

bool gemv_grouped_cuda(const float* x, int64_t rows, const GroupedWeight& w, float* y, void* stream) {
  return run(x, rows, w, y, stream);
}
bool gemv_grouped_cuda(const uint16_t* x, int64_t rows, const GroupedWeight& w, float* y, void* stream) {
  return run(x, rows, w, y, stream);
}
bool gemv_grouped_cuda(const uint16_t* x, int64_t rows, const GroupedWeight& w, uint16_t* y, void* stream) {
  return run(x, rows, w, y, stream);
}
void dequantize_grouped_cuda(const GroupedWeight& w, int64_t begin, int64_t end, float* out, void* stream) {
  dequantize(w, begin, end, out, stream);
}
void dequantize_grouped_cuda(const GroupedWeight& w, int64_t begin, int64_t end, uint16_t* out, void* stream) {
  dequantize(w, begin, end, out, stream);
}

}  // namespace breadth::model
