#include <torch/torch.h>

#include <algorithm>

#include "core/check.hpp"
#include "model/kv_cache_state.hpp"

namespace breadth {

std::shared_ptr<KvCache::State> KvCache::State::create(int64_t batch, int64_t capacity,
                                                       int64_t layers, int64_t kv_heads,
                                                       int64_t head_dim, torch::ScalarType dtype,
                                                       torch::Device device) {
  BREADTH_CHECK_ARG(batch > 0, "KvCache: batch must be positive (got {})", batch);
  BREADTH_CHECK_ARG(capacity >= 0, "KvCache: capacity must not be negative (got {})", capacity);
  auto s = std::make_shared<State>();
  s->batch = batch;
  s->capacity = capacity;
  s->layers = layers;
  s->kv_heads = kv_heads;
  s->head_dim = head_dim;
  s->dtype = dtype;
  s->device = device;
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  // Zeros, not empty: masked columns still enter attention's matmul, and 0 * NaN would be NaN.
  for (int64_t l = 0; l < layers; ++l) {
    s->k.push_back(torch::zeros({batch, kv_heads, capacity, head_dim}, opts));
    s->v.push_back(torch::zeros({batch, kv_heads, capacity, head_dim}, opts));
  }
  s->valid = torch::zeros({batch, capacity}, opts.dtype(torch::kBool));
  s->pos = torch::zeros({batch, capacity}, opts.dtype(torch::kInt64));
  s->lengths = torch::zeros({batch}, opts.dtype(torch::kInt64));
  s->cursor = torch::zeros({1}, opts.dtype(torch::kInt64));
  return s;
}

void KvCache::State::reserve(int64_t needed) {
  if (needed <= capacity) return;
  const int64_t cap = std::max(needed, capacity * 2);
  auto grow = [&](torch::Tensor& t, int64_t dim) {
    auto sizes = t.sizes().vec();
    sizes[dim] = cap;
    auto bigger = torch::zeros(sizes, t.options());
    bigger.narrow(dim, 0, columns).copy_(t.narrow(dim, 0, columns));
    t = bigger;
  };
  for (auto& t : k) grow(t, 2);
  for (auto& t : v) grow(t, 2);
  grow(valid, 1);
  grow(pos, 1);
  capacity = cap;
}

void KvCache::State::require_room_without_growing() const {
  BREADTH_CHECK_ARG(columns < capacity,
                    "forward: fixed_shape never grows the cache and its {} columns are full; make it "
                    "with new_cache(batch, prompt length + new tokens)", capacity);
}

int64_t KvCache::batch() const { return state_ ? state_->batch : 0; }
int64_t KvCache::columns() const { return state_ ? state_->columns : 0; }
int64_t KvCache::capacity() const { return state_ ? state_->capacity : 0; }

const torch::Tensor& KvCache::lengths() const {
  static const torch::Tensor kNone;
  return state_ ? state_->lengths : kNone;
}

KvCache KvCache::select(const torch::Tensor& rows) const {
  BREADTH_CHECK_ARG(state_ != nullptr, "KvCache::select: the cache is empty (never prefilled)");
  BREADTH_CHECK_ARG(rows.defined() && rows.dim() == 1 && rows.numel() > 0,
                    "KvCache::select: rows must be a non-empty 1-D tensor of row indices");
  auto idx = rows.to(state_->device, torch::kInt64);
  // One host sync per fork (not per token) buys a clear error instead of an index crash.
  auto lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
  BREADTH_CHECK_ARG(lo >= 0 && hi < state_->batch,
                    "KvCache::select: row indices must lie in [0, {}) (got {}..{})", state_->batch,
                    lo, hi);
  auto s = std::make_shared<State>(*state_);
  s->batch = idx.size(0);
  for (auto& t : s->k) t = t.index_select(0, idx);
  for (auto& t : s->v) t = t.index_select(0, idx);
  s->valid = s->valid.index_select(0, idx);
  s->pos = s->pos.index_select(0, idx);
  s->lengths = s->lengths.index_select(0, idx);
  s->cursor = s->cursor.clone();
  KvCache out;
  out.state_ = std::move(s);
  return out;
}

}  // namespace breadth
