#include "model/projection.hpp"

#include <ATen/ops/_convert_weight_to_int4pack_for_cpu.h>
#include <ATen/ops/_weight_int4pack_mm_for_cpu.h>
#include <torch/torch.h>

#include "core/check.hpp"
#include "model/gemv.hpp"

namespace breadth::model {

namespace {

constexpr int64_t kGroup = GroupQuantized::kGroup;

// One 4-bit half: q in [0, 15] as int32 [N, K], and per-group scale and zero [N, K/32] float32.
Projection::Part pack_part(const torch::Tensor& q, const torch::Tensor& scale, const torch::Tensor& zero) {
  Projection::Part p;
  p.packed = at::_convert_weight_to_int4pack_for_cpu(q.to(torch::kInt32).contiguous(), 1);
  p.scales_zeros = torch::stack({scale.t(), zero.t()}, -1).to(torch::kBFloat16).contiguous();
  return p;
}

}  // namespace

Projection Projection::dense(torch::Tensor weight, torch::Tensor bias) {
  Projection l;
  l.out_ = weight.size(0);
  l.in_ = weight.size(1);
  l.weight_ = std::move(weight);
  l.bias_ = std::move(bias);
  return l;
}

std::optional<Projection> Projection::packed(const GroupQuantized& g, torch::Tensor bias) {
  const int64_t n = g.q.size(0), k = g.q.size(1);
  if (n % 16 != 0 || k % kGroup != 0) return std::nullopt;
  Projection l;
  l.out_ = n;
  l.in_ = k;
  l.bias_ = std::move(bias);
  if (g.bits == 4) {
    l.parts_.push_back(pack_part(g.q, g.scale, g.offset + 8.0 * g.scale));
  } else {
    BREADTH_CHECK_ARG(g.bits == 8, "Projection::packed: {} bits (4 or 8)", g.bits);
    // q + 128 = 16 hi + lo with hi, lo in [0, 15]:  s q + o = (hi - 8)(16 s) + [(lo - 8) s + (o + 8 s)].
    auto u = g.q.to(torch::kInt32) + 128;
    l.parts_.push_back(pack_part(u.div(16, "floor"), 16.0 * g.scale, torch::zeros_like(g.scale)));
    l.parts_.push_back(pack_part(u.remainder(16), g.scale, g.offset + 8.0 * g.scale));
  }
  return l;
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
  if (parts_.empty()) {
    if (auto y = few_rows(x)) return *y;
    return torch::nn::functional::linear(x, weight_, bias_);
  }
  auto shape = x.sizes().vec();
  auto x2 = x.reshape({-1, in_}).to(torch::kBFloat16).contiguous();
  auto y = at::_weight_int4pack_mm_for_cpu(x2, parts_[0].packed, kGroup, parts_[0].scales_zeros);
  for (size_t i = 1; i < parts_.size(); ++i)
    y = y + at::_weight_int4pack_mm_for_cpu(x2, parts_[i].packed, kGroup, parts_[i].scales_zeros);
  y = y.to(x.scalar_type());
  if (bias_.defined()) y = y + bias_;
  shape.back() = out_;
  return y.reshape(shape);
}

int64_t Projection::weight_bytes() const {
  if (parts_.empty()) return weight_.defined() ? static_cast<int64_t>(weight_.nbytes()) : 0;
  int64_t b = 0;
  for (const auto& p : parts_) b += static_cast<int64_t>(p.packed.nbytes() + p.scales_zeros.nbytes());
  return b;
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
