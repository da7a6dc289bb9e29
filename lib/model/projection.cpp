#include "model/projection.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "core/check.hpp"
#include "model/gemv.hpp"

namespace breadth::model {

namespace {

constexpr int64_t kChunk = GroupedWeight::kChunk;

// Float16 when every value survives the round trip (a GGUF's Q4_0/Q4_1/Q8_0 scales are float16 to
// begin with, and Q4_0's offset -8 d is too), else float32 (Q4_K's products of two scales).
torch::Tensor compact(const torch::Tensor& v) {
  auto h = v.to(torch::kHalf);
  return h.to(torch::kFloat32).equal(v) ? h.contiguous() : v.to(torch::kFloat32).contiguous();
}

// The most weight elements dequantized at once for a prompt (8 MiB in float32): large enough that
// the multiplication runs at GEMM speed, small enough to stay near the caches.
constexpr int64_t kScratchElems = int64_t{1} << 21;

}  // namespace

Projection Projection::dense(torch::Tensor weight, torch::Tensor bias) {
  Projection l;
  l.out_ = weight.size(0);
  l.in_ = weight.size(1);
  l.weight_ = std::move(weight);
  l.bias_ = std::move(bias);
  return l;
}

Projection Projection::grouped(const GroupQuantized& g, torch::Tensor bias) {
  const int64_t n = g.q.size(0), k = g.q.size(1);
  BREADTH_CHECK_ARG(g.bits == 4 || g.bits == 8, "Projection::grouped: {} bits (4 or 8)", g.bits);
  BREADTH_CHECK_ARG(g.group == kChunk || (g.group == 16 && g.bits == 8),
                    "Projection::grouped: groups of {} with {} bits (32, or 16 with 8 bits)", g.group, g.bits);
  BREADTH_CHECK_ARG(k % kChunk == 0, "Projection::grouped: {} inputs are not whole chunks of {}", k, kChunk);
  Projection l;
  l.out_ = n;
  l.in_ = k;
  l.bits_ = g.bits;
  l.group_ = g.group;
  l.bias_ = std::move(bias);
  if (g.bits == 4) {
    auto q = g.q.to(torch::kUInt8).reshape({n, k / kChunk, 2, kChunk / 2});
    l.codes_ = q.select(2, 0).bitwise_or(q.select(2, 1).bitwise_left_shift(4)).reshape({n, k / 2}).contiguous();
  } else {
    l.codes_ = g.q.to(torch::kInt8).contiguous();
  }
  auto s = compact(g.scale), z = compact(g.offset);
  if (s.scalar_type() != z.scalar_type()) {
    s = s.to(torch::kFloat32);
    z = z.to(torch::kFloat32);
  }
  l.scale_ = std::move(s);
  l.offset_ = std::move(z);
  return l;
}

GroupedWeight Projection::view() const {
  GroupedWeight w;
  w.bits = bits_;
  w.group = group_;
  w.codes = static_cast<const uint8_t*>(codes_.data_ptr());
  w.scale = scale_.data_ptr();
  w.offset = offset_.data_ptr();
  w.half = scale_.scalar_type() == torch::kHalf;
  w.in = in_;
  w.out = out_;
  return w;
}

torch::Tensor Projection::run_grouped(const torch::Tensor& x) const {
  BREADTH_CHECK_ARG(x.is_cpu(), "a GGUF's grouped weights run on the CPU; input is on {}", x.device().str());
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
      if (gemv_grouped(xb, rows, w, reinterpret_cast<uint16_t*>(yb.data_ptr()))) return yb.reshape(shape);
    } else {
      auto y = torch::empty({rows, out_}, x2.options().dtype(torch::kFloat32));
      const bool ok = ct == torch::kBFloat16 ? gemv_grouped(xb, rows, w, y.data_ptr<float>())
                                             : gemv_grouped(x2.data_ptr<float>(), rows, w, y.data_ptr<float>());
      if (ok) return finish(y);
    }
  }
  // Many rows (or a CPU without AVX-512): a slice of W's rows at a time, dequantized into this
  // thread's scratch, then one GEMM for the slice.
  thread_local std::vector<float> scratch;
  const int64_t chunk = std::min(out_, std::max<int64_t>(16, kScratchElems / std::max<int64_t>(in_, 1) / 16 * 16));
  scratch.resize(static_cast<size_t>(chunk * in_));
  auto y = torch::empty({rows, out_}, x2.options());
  for (int64_t o = 0; o < out_; o += chunk) {
    const int64_t c = std::min(chunk, out_ - o);
    auto wt = torch::from_blob(scratch.data(), {c, in_}, x2.options());
    if (ct == torch::kBFloat16)
      dequantize_grouped(w, o, o + c, reinterpret_cast<c10::BFloat16*>(scratch.data()));
    else
      dequantize_grouped(w, o, o + c, scratch.data());
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
  return bytes(weight_) + bytes(codes_) + bytes(scale_) + bytes(offset_) + bytes(bias_);
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
