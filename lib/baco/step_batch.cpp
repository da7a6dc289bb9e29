// StepBatch <-> StepView packing.
#include <torch/torch.h>

#include "breadth/baco_rules.hpp"

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

StepView StepBatch::view(int64_t i) const {
  StepView v;
  v.has_base = has_base[i].item<bool>();
  v.has_aligned = has_aligned[i].item<bool>();
  v.p_base_max = p_base_max[i].item<float>();
  v.p_aligned_max = p_aligned_max[i].item<float>();
  v.h_base = h_base[i].item<float>();
  v.h_aligned = h_aligned[i].item<float>();
  v.base_candidate = static_cast<int32_t>(base_candidate[i].item<int64_t>());
  v.aligned_candidate = static_cast<int32_t>(aligned_candidate[i].item<int64_t>());
  v.aligned_top1 = static_cast<int32_t>(aligned_top1[i].item<int64_t>());
  v.base_candidate_punct = base_candidate_punct[i].item<bool>();
  v.base_candidate_function = base_candidate_function[i].item<bool>();
  v.aligned_top1_punct = aligned_top1_punct[i].item<bool>();
  v.aligned_top1_function = aligned_top1_function[i].item<bool>();
  v.u = u[i].item<double>();
  v.position = position[i].item<int64_t>();
  v.row = row[i].item<int64_t>();
  auto at = [i](const std::vector<std::string_view>& s) {
    return s.empty() ? std::string_view() : s.at(static_cast<size_t>(i));
  };
  v.prompt = at(prompt);
  v.generated = at(generated);
  v.base_candidate_text = at(base_candidate_text);
  v.aligned_candidate_text = at(aligned_candidate_text);
  return v;
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
  auto idx = idx_in.to(torch::kInt64).contiguous();
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
  b.prompt = pick(prompt, idx);
  b.generated = pick(generated, idx);
  b.base_candidate_text = pick(base_candidate_text, idx);
  b.aligned_candidate_text = pick(aligned_candidate_text, idx);
  return b;
}

}  // namespace breadth
