#include "model/projection.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#ifdef BREADTH_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include "core/check.hpp"
#include "model/gemv.hpp"

namespace breadth::model {

namespace {

constexpr int64_t kChunk = GroupedWeight::kChunk;

// Float16 when every value survives the round trip (a GGUF's Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 scales are
// float16 to begin with, and their offsets -8 d, -16 d, m too), else float32.
torch::Tensor compact(const torch::Tensor& v) {
  auto h = v.to(torch::kHalf);
  return h.to(torch::kFloat32).equal(v) ? h.contiguous() : v.to(torch::kFloat32).contiguous();
}

// q [n, k] (codes in [0, 2^bits), or int8 for 8 bits) in GroupedWeight's layout: per chunk of 32,
// the low bits' plane, then one uint32 per higher bit.
torch::Tensor pack_codes(const torch::Tensor& q, int bits) {
  const int64_t n = q.size(0), k = q.size(1), chunks = k / kChunk;
  if (bits == 8) return q.to(torch::kInt8).contiguous();
  const int base = bits < 4 ? 2 : 4;
  auto u = q.to(torch::kInt32).reshape({n, chunks, kChunk});
  std::vector<torch::Tensor> parts;
  if (base == 4) {
    auto low = u.bitwise_and(15);
    parts.push_back(low.narrow(2, 0, 16).bitwise_or(low.narrow(2, 16, 16).bitwise_left_shift(4)));
  } else {
    auto low = u.bitwise_and(3).reshape({n, chunks, 4, 8});  // [.., i, j]: q_{8i+j}, to bits 2i of byte j
    auto byte = torch::zeros({n, chunks, 8}, torch::kInt32);
    for (int i = 0; i < 4; ++i) byte.bitwise_or_(low.select(2, i).bitwise_left_shift(2 * i));
    parts.push_back(byte);
  }
  // Bit base + h of every code as a little-endian uint32: byte b holds codes 8b..8b+7's.
  const auto weights = torch::pow(2, torch::arange(8, torch::kInt32)).to(torch::kInt32);
  for (int h = 0; h < bits - base; ++h) {
    auto bit = u.bitwise_right_shift(base + h).bitwise_and(1).reshape({n, chunks, 4, 8});
    parts.push_back((bit * weights).sum(-1).to(torch::kInt32));
  }
  return torch::cat(parts, 2).to(torch::kUInt8).reshape({n, chunks * 4 * bits}).contiguous();
}

// The most weight elements dequantized at once for a prompt: on the CPU 8 MiB in float32, large
// enough that the multiplication runs at GEMM speed, small enough to stay near the caches; on a GPU
// 64 MiB (a whole projection of most models), from libtorch's caching allocator.
constexpr int64_t kScratchElems = int64_t{1} << 21;
constexpr int64_t kScratchElemsCuda = int64_t{1} << 24;

// The grouped kernels of the weight's device: gemv_grouped.cpp's on the CPU, gemv_grouped.cu's on a
// CUDA device (CUDA builds), launched on its current stream.
class GroupedKernels {
 public:
  explicit GroupedKernels(const torch::Device& d) : cuda_(d.is_cuda()) {
#ifdef BREADTH_WITH_CUDA
    if (cuda_) stream_ = at::cuda::getCurrentCUDAStream(d.index()).stream();
#endif
  }
  bool cuda() const { return cuda_; }
  template <typename X, typename Y>
  bool gemv(const X* x, int64_t rows, const GroupedWeight& w, Y* y) const {
#ifdef BREADTH_WITH_CUDA
    if (cuda_) return gemv_grouped_cuda(x, rows, w, y, stream_);
#endif
    return gemv_grouped(x, rows, w, y);
  }
  void dequantize(const GroupedWeight& w, int64_t begin, int64_t end, float* out) const {
#ifdef BREADTH_WITH_CUDA
    if (cuda_) return dequantize_grouped_cuda(w, begin, end, out, stream_);
#endif
    dequantize_grouped(w, begin, end, out);
  }
  void dequantize(const GroupedWeight& w, int64_t begin, int64_t end, c10::BFloat16* out) const {
#ifdef BREADTH_WITH_CUDA
    if (cuda_) return dequantize_grouped_cuda(w, begin, end, reinterpret_cast<uint16_t*>(out), stream_);
#endif
    dequantize_grouped(w, begin, end, out);
  }

 private:
  bool cuda_;
  void* stream_ = nullptr;
};

}  // namespace

Projection Projection::dense(torch::Tensor weight, torch::Tensor bias) {
  Projection l;
  l.out_ = weight.size(0);
  l.in_ = weight.size(1);
  l.weight_ = std::move(weight);
  l.bias_ = std::move(bias);
  return l;
}

Projection Projection::grouped(const GroupQuantized& g, torch::Tensor bias, const torch::Device& device) {
  const int64_t n = g.q.size(0), k = g.q.size(1);
  BREADTH_CHECK_ARG((g.bits >= 2 && g.bits <= 6) || g.bits == 8, "Projection::grouped: {} bits (2 to 6, or 8)",
                    g.bits);
  BREADTH_CHECK_ARG(g.group == kChunk || g.group == 16, "Projection::grouped: groups of {} (32 or 16)", g.group);
  BREADTH_CHECK_ARG(k % kChunk == 0, "Projection::grouped: {} inputs are not whole chunks of {}", k, kChunk);
  Projection l;
  l.out_ = n;
  l.in_ = k;
  l.bits_ = g.bits;
  l.group_ = g.group;
  l.bias_ = std::move(bias);
  l.codes_ = pack_codes(g.q, g.bits);
  // The smallest exact form of the scales: float16 per group where the file's scales are float16,
  // else its two levels (the K types: a float per 256 elements and a byte per group), else float32.
  auto s = compact(g.scale), z = compact(g.offset);
  if (s.scalar_type() == torch::kHalf && z.scalar_type() == torch::kHalf) {
    l.scales_ = GroupedWeight::Scales::kHalf;
    l.scale_ = std::move(s);
    l.offset_ = std::move(z);
  } else if (g.factored() && k % GroupedWeight::kSuper == 0) {
    l.scales_ = GroupedWeight::Scales::kFactored;
    l.super_scale_ = g.super_scale.to(torch::kFloat32).contiguous();
    l.super_offset_ = g.super_offset.to(torch::kFloat32).contiguous();
    l.sub_scale_ = g.sub_scale.to(torch::kInt8).contiguous();
    if (g.sub_offset.defined()) l.sub_offset_ = g.sub_offset.to(torch::kInt8).contiguous();
  } else {
    l.scales_ = GroupedWeight::Scales::kFloat;
    l.scale_ = g.scale.to(torch::kFloat32).contiguous();
    l.offset_ = g.offset.to(torch::kFloat32).contiguous();
  }
  if (!device.is_cpu()) {
#ifndef BREADTH_WITH_CUDA
    fail<Unsupported>("Projection::grouped: device {} needs a CUDA build of breadth (-DBREADTH_CUDA=ON)",
                      device.str());
#endif
    BREADTH_CHECK_ARG(device.is_cuda(), "Projection::grouped: grouped weights run on the CPU or CUDA, not {}",
                      device.str());
    for (torch::Tensor* t : {&l.codes_, &l.scale_, &l.offset_, &l.super_scale_, &l.super_offset_, &l.sub_scale_,
                             &l.sub_offset_, &l.bias_})
      if (t->defined()) *t = t->to(device);
  }
  return l;
}

GroupedWeight Projection::view() const {
  GroupedWeight w;
  w.bits = bits_;
  w.group = group_;
  w.codes = static_cast<const uint8_t*>(codes_.data_ptr());
  w.scales = scales_;
  if (scales_ == GroupedWeight::Scales::kFactored) {
    w.super_scale = super_scale_.data_ptr<float>();
    w.super_offset = super_offset_.data_ptr<float>();
    w.sub_scale = sub_scale_.data_ptr<int8_t>();
    w.sub_offset = sub_offset_.defined() ? sub_offset_.data_ptr<int8_t>() : nullptr;
  } else {
    w.scale = scale_.data_ptr();
    w.offset = offset_.data_ptr();
  }
  w.in = in_;
  w.out = out_;
  return w;
}

torch::Tensor Projection::run_grouped(const torch::Tensor& x) const {
  BREADTH_CHECK_ARG(x.device() == codes_.device(), "a GGUF's grouped weights are on {}; input is on {}",
                    codes_.device().str(), x.device().str());
#ifdef BREADTH_WITH_CUDA
  std::optional<c10::cuda::CUDAGuard> on_device;
  if (x.is_cuda()) on_device.emplace(x.device());
#endif
  const GroupedKernels kernels(x.device());
  auto shape = x.sizes().vec();
  shape.back() = out_;
  // bfloat16 activations stay bfloat16 (widened exactly in the kernel); any other dtype computes
  // in float32.
  const auto dt = x.scalar_type();
  const auto ct = dt == torch::kBFloat16 ? torch::kBFloat16 : torch::kFloat32;
  auto x2 = x.reshape({-1, in_}).to(ct).contiguous();
  const int64_t rows = x2.size(0);
  const GroupedWeight w = view();
  auto finish = [&](torch::Tensor y) {
    if (bias_.defined()) y = y.add_(bias_);
    return y.to(dt).reshape(shape);
  };
  if (rows >= 1 && rows <= kGemvMaxRows) {
    const auto* xb = reinterpret_cast<const uint16_t*>(x2.data_ptr());
    if (ct == torch::kBFloat16 && !bias_.defined()) {
      // A bfloat16 model's projection without a bias: rounded to bfloat16 in the kernel.
      auto yb = torch::empty({rows, out_}, x2.options());
      if (kernels.gemv(xb, rows, w, reinterpret_cast<uint16_t*>(yb.data_ptr()))) return yb.reshape(shape);
    } else {
      auto y = torch::empty({rows, out_}, x2.options().dtype(torch::kFloat32));
      const bool ok = ct == torch::kBFloat16 ? kernels.gemv(xb, rows, w, y.data_ptr<float>())
                                             : kernels.gemv(x2.data_ptr<float>(), rows, w, y.data_ptr<float>());
      if (ok) return finish(y);
    }
    if (kernels.cuda()) fail<Error>("the grouped CUDA kernel failed to launch on {}", x.device().str());
  }
  // Many rows (or a CPU without AVX2): a slice of W's rows at a time, dequantized into scratch
  // (this thread's on the CPU, the caching allocator's on a GPU), then one GEMM for the slice.
  const int64_t most = kernels.cuda() ? kScratchElemsCuda : kScratchElems;
  const int64_t chunk = std::min(out_, std::max<int64_t>(16, most / std::max<int64_t>(in_, 1) / 16 * 16));
  thread_local std::vector<float> host_scratch;
  torch::Tensor scratch;
  if (kernels.cuda()) {
    scratch = torch::empty({chunk, in_}, x2.options());
  } else {
    host_scratch.resize(static_cast<size_t>(chunk * in_));
    scratch = torch::from_blob(host_scratch.data(), {chunk, in_}, x2.options());
  }
  auto y = torch::empty({rows, out_}, x2.options());
  for (int64_t o = 0; o < out_; o += chunk) {
    const int64_t c = std::min(chunk, out_ - o);
    auto wt = scratch.narrow(0, 0, c);
    if (ct == torch::kBFloat16)
      kernels.dequantize(w, o, o + c, reinterpret_cast<c10::BFloat16*>(wt.data_ptr()));
    else
      kernels.dequantize(w, o, o + c, wt.data_ptr<float>());
    if (c == out_)
      at::mm_out(y, x2, wt.t());
    else
      y.narrow(1, o, c).copy_(at::mm(x2, wt.t()));
  }
  return finish(y);
}

std::optional<torch::Tensor> Projection::few_rows(const torch::Tensor& x) const {
  // A few rows on the CPU (a decode step): reading the weight is the whole cost, and gemv_* read
  // it faster than libtorch's linear (MKL's sgemv; benchmarks/RESULTS.md).
  const int64_t rows = in_ > 0 ? x.numel() / in_ : 0;
  const auto wt = weight_.scalar_type();
  if (!weight_.is_cpu() || !x.is_cpu() || rows < 1 || rows > kGemvMaxRows || !weight_.is_contiguous() ||
      x.scalar_type() != wt || (wt != torch::kFloat32 && wt != torch::kBFloat16) || x.requires_grad() ||
      weight_.requires_grad())
    return std::nullopt;
  auto shape = x.sizes().vec();
  shape.back() = out_;
  if (wt == torch::kBFloat16) {
    // A bfloat16 model's activations are bfloat16: multiplied as they are where the CPU can, and
    // without a bias the output is rounded in the kernel (the same rounding .to() does).
    auto xb = x.contiguous();
    const auto* xp = reinterpret_cast<const uint16_t*>(xb.data_ptr());
    const auto* wp = reinterpret_cast<const uint16_t*>(weight_.data_ptr());
    if (!bias_.defined()) {
      auto yb = torch::empty(shape, x.options());
      if (gemv_bf16_bf16(xp, rows, wp, in_, out_, reinterpret_cast<uint16_t*>(yb.data_ptr()))) return yb;
    } else {
      auto yf = torch::empty(shape, x.options().dtype(torch::kFloat32));
      if (gemv_bf16_bf16(xp, rows, wp, in_, out_, yf.data_ptr<float>())) return yf.add_(bias_).to(wt);
    }
  }
  auto y = torch::empty(shape, x.options().dtype(torch::kFloat32));
  auto xf = x.to(torch::kFloat32).contiguous();
  const bool ok = wt == torch::kFloat32
                      ? gemv_f32(xf.data_ptr<float>(), rows, weight_.data_ptr<float>(), in_, out_, y.data_ptr<float>())
                      : gemv_bf16(xf.data_ptr<float>(), rows, reinterpret_cast<const uint16_t*>(weight_.data_ptr()),
                                  in_, out_, y.data_ptr<float>());
  if (!ok) return std::nullopt;
  if (bias_.defined()) y.add_(bias_);
  return y.to(wt);
}

torch::Tensor Projection::operator()(const torch::Tensor& x) const {
  if (codes_.defined()) return run_grouped(x);
  if (auto y = few_rows(x)) return *y;
  return torch::nn::functional::linear(x, weight_, bias_);
}

int64_t Projection::weight_bytes() const {
  auto bytes = [](const torch::Tensor& t) { return t.defined() ? static_cast<int64_t>(t.nbytes()) : int64_t{0}; };
  int64_t n = bytes(weight_) + bytes(bias_) + bytes(codes_);
  for (const auto* t : {&scale_, &offset_, &super_scale_, &super_offset_, &sub_scale_, &sub_offset_}) n += bytes(*t);
  return n;
}

TokenEmbedding TokenEmbedding::dense(torch::Tensor table) {
  TokenEmbedding e;
  e.table_ = std::move(table);
  return e;
}

TokenEmbedding TokenEmbedding::encoded(std::shared_ptr<const EncodedRows> rows, torch::ScalarType dtype) {
  TokenEmbedding e;
  e.rows_ = std::move(rows);
  e.dtype_ = dtype;
  return e;
}

torch::Tensor TokenEmbedding::operator()(const torch::Tensor& ids) const {
  if (table_.defined()) return torch::embedding(table_, ids);
  auto flat = ids.to(torch::kCPU, torch::kInt64).contiguous().reshape({-1});
  auto out = torch::empty({flat.numel(), rows_->cols()}, torch::kFloat32);
  rows_->decode(flat.data_ptr<int64_t>(), flat.numel(), out.data_ptr<float>());
  auto shape = ids.sizes().vec();
  shape.push_back(rows_->cols());
  return out.reshape(shape).to(dtype_);
}

}  // namespace breadth::model
