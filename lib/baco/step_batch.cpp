// StepBatch <-> StepView packing: the host side of a step, for rules that read one row at a time.
#include <torch/torch.h>

#include "breadth/baco_rules.hpp"
#include "core/check.hpp"

namespace breadth {
namespace {

torch::Tensor bools(const std::vector<StepView>& v, bool StepView::*m) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, torch::kBool);
  auto a = t.accessor<bool, 1>();
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i].*m;
  return t;
}
torch::Tensor floats(const std::vector<StepView>& v, float StepView::*m) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, torch::kFloat32);
  auto a = t.accessor<float, 1>();
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i].*m;
  return t;
}
template <typename T>
torch::Tensor longs(const std::vector<StepView>& v, T StepView::*m) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, torch::kInt64);
  auto a = t.accessor<int64_t, 1>();
  for (size_t i = 0; i < v.size(); ++i) a[i] = static_cast<int64_t>(v[i].*m);
  return t;
}

std::vector<std::string_view> pick(const std::vector<std::string_view>& v, const torch::Tensor& idx) {
  if (v.empty()) return {};
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(idx.size(0)));
  auto a = idx.accessor<int64_t, 1>();
  for (int64_t i = 0; i < idx.size(0); ++i) out.push_back(v.at(static_cast<size_t>(a[i])));
  return out;
}

}  // namespace

std::vector<StepView> StepBatch::views() const {
  const int64_t n = size();
  if (n == 0) return {};
  // One host copy per column, then plain reads: a user rule asks for every field of every row, and
  // one .item() per field would be a device round trip each.
  auto host = [n](const torch::Tensor& t, torch::ScalarType type) {
    BREADTH_CHECK_ARG(t.defined() && t.dim() == 1 && t.size(0) == n,
                      "StepBatch: every column must be a 1-D tensor of {} rows", n);
    return t.to(torch::kCPU, type).contiguous();
  };
  auto has_b = host(has_base, torch::kBool), has_a = host(has_aligned, torch::kBool);
  auto pb = host(p_base_max, torch::kFloat32), pa = host(p_aligned_max, torch::kFloat32);
  auto hb = host(h_base, torch::kFloat32), ha = host(h_aligned, torch::kFloat32);
  auto bc = host(base_candidate, torch::kInt64), ac = host(aligned_candidate, torch::kInt64);
  auto at1 = host(aligned_top1, torch::kInt64);
  auto bcp = host(base_candidate_punct, torch::kBool), bcf = host(base_candidate_function, torch::kBool);
  auto atp = host(aligned_top1_punct, torch::kBool), atf = host(aligned_top1_function, torch::kBool);
  auto uu = host(u, torch::kFloat64);
  auto ps = host(position, torch::kInt64), rw = host(row, torch::kInt64);
  auto text = [](const std::vector<std::string_view>& s, int64_t i) {
    return s.empty() ? std::string_view() : s.at(static_cast<size_t>(i));
  };
  std::vector<StepView> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& v = out[static_cast<size_t>(i)];
    v.has_base = has_b.data_ptr<bool>()[i];
    v.has_aligned = has_a.data_ptr<bool>()[i];
    v.p_base_max = pb.data_ptr<float>()[i];
    v.p_aligned_max = pa.data_ptr<float>()[i];
    v.h_base = hb.data_ptr<float>()[i];
    v.h_aligned = ha.data_ptr<float>()[i];
    v.base_candidate = static_cast<int32_t>(bc.data_ptr<int64_t>()[i]);
    v.aligned_candidate = static_cast<int32_t>(ac.data_ptr<int64_t>()[i]);
    v.aligned_top1 = static_cast<int32_t>(at1.data_ptr<int64_t>()[i]);
    v.base_candidate_punct = bcp.data_ptr<bool>()[i];
    v.base_candidate_function = bcf.data_ptr<bool>()[i];
    v.aligned_top1_punct = atp.data_ptr<bool>()[i];
    v.aligned_top1_function = atf.data_ptr<bool>()[i];
    v.u = uu.data_ptr<double>()[i];
    v.position = ps.data_ptr<int64_t>()[i];
    v.row = rw.data_ptr<int64_t>()[i];
    v.prompt = text(prompt, i);
    v.generated = text(generated, i);
    v.base_candidate_text = text(base_candidate_text, i);
    v.aligned_candidate_text = text(aligned_candidate_text, i);
  }
  return out;
}

StepView StepBatch::view(int64_t i) const {
  BREADTH_CHECK_ARG(i >= 0 && i < size(), "StepBatch::view: row {} is outside the batch of {}", i, size());
  return select(torch::tensor({i}, torch::kInt64)).views().front();
}

StepBatch StepBatch::from_views(const std::vector<StepView>& v) {
  StepBatch b;
  b.has_base = bools(v, &StepView::has_base);
  b.has_aligned = bools(v, &StepView::has_aligned);
  b.p_base_max = floats(v, &StepView::p_base_max);
  b.p_aligned_max = floats(v, &StepView::p_aligned_max);
  b.h_base = floats(v, &StepView::h_base);
  b.h_aligned = floats(v, &StepView::h_aligned);
  b.base_candidate = longs(v, &StepView::base_candidate);
  b.aligned_candidate = longs(v, &StepView::aligned_candidate);
  b.aligned_top1 = longs(v, &StepView::aligned_top1);
  b.base_candidate_punct = bools(v, &StepView::base_candidate_punct);
  b.base_candidate_function = bools(v, &StepView::base_candidate_function);
  b.aligned_top1_punct = bools(v, &StepView::aligned_top1_punct);
  b.aligned_top1_function = bools(v, &StepView::aligned_top1_function);
  b.u = torch::empty({static_cast<int64_t>(v.size())}, torch::kFloat64);
  for (size_t i = 0; i < v.size(); ++i) b.u.accessor<double, 1>()[static_cast<int64_t>(i)] = v[i].u;
  b.position = longs(v, &StepView::position);
  b.row = longs(v, &StepView::row);
  bool any_text = false;
  for (const auto& x : v)
    any_text = any_text || !x.prompt.empty() || !x.generated.empty() ||
               !x.base_candidate_text.empty() || !x.aligned_candidate_text.empty();
  if (any_text) {
    for (const auto& x : v) {
      b.prompt.push_back(x.prompt);
      b.generated.push_back(x.generated);
      b.base_candidate_text.push_back(x.base_candidate_text);
      b.aligned_candidate_text.push_back(x.aligned_candidate_text);
    }
  }
  return b;
}

StepBatch StepBatch::select(const torch::Tensor& idx_in) const {
  auto idx = idx_in.to(device(), torch::kInt64).contiguous();
  StepBatch b;
  for (auto [dst, src] :
       std::initializer_list<std::pair<torch::Tensor*, const torch::Tensor*>>{
           {&b.has_base, &has_base}, {&b.has_aligned, &has_aligned},
           {&b.p_base_max, &p_base_max}, {&b.p_aligned_max, &p_aligned_max},
           {&b.h_base, &h_base}, {&b.h_aligned, &h_aligned},
           {&b.base_candidate, &base_candidate}, {&b.aligned_candidate, &aligned_candidate},
           {&b.aligned_top1, &aligned_top1}, {&b.base_candidate_punct, &base_candidate_punct},
           {&b.base_candidate_function, &base_candidate_function},
           {&b.aligned_top1_punct, &aligned_top1_punct},
           {&b.aligned_top1_function, &aligned_top1_function}, {&b.u, &u},
           {&b.position, &position}, {&b.row, &row}})
    *dst = src->index_select(0, idx);
  // Texts are host state: the indices come to the host for them (only when there are texts).
  const bool any_text = !prompt.empty() || !generated.empty() || !base_candidate_text.empty() ||
                        !aligned_candidate_text.empty();
  auto host_idx = any_text ? idx.cpu().contiguous() : idx;
  b.prompt = pick(prompt, host_idx);
  b.generated = pick(generated, host_idx);
  b.base_candidate_text = pick(base_candidate_text, host_idx);
  b.aligned_candidate_text = pick(aligned_candidate_text, host_idx);
  return b;
}

}  // namespace breadth
