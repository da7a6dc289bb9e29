// What a KvCache holds (the public header keeps it opaque), and lib/model's access to it.
#pragma once

#include <torch/types.h>

#include <vector>

#include "breadth/model.hpp"

namespace breadth {

struct KvCache::State {
  // Per layer [B, kv_heads, capacity, head_dim] in the model dtype. Columns >= `columns` are
  // unused; columns < `columns` hold a token (real or padding, see `valid`).
  std::vector<torch::Tensor> k, v;
  torch::Tensor valid;    ///< [B, capacity] bool: the column holds a real token
  torch::Tensor pos;      ///< [B, capacity] int64: the column's rotary position (sliding windows)
  torch::Tensor lengths;  ///< [B] int64: real tokens per row (= the next token's position)
  /// [1] int64 on the device: `columns` as the fixed-shape step reads it (a graph replay cannot read
  /// the host's count). Valid while cursor_synced; other steps leave it stale.
  torch::Tensor cursor;
  bool cursor_synced = false;
  /// Host-side: no padding column was ever written (lets attention skip the mask).
  bool all_valid = true;
  int64_t batch = 0;
  int64_t columns = 0;
  int64_t capacity = 0;

  // The layout this cache was made for; forward() refuses a cache from a different model.
  int64_t layers = 0, kv_heads = 0, head_dim = 0;
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;

  /// Zero-filled state for `batch` rows and `capacity` columns.
  static std::shared_ptr<State> create(int64_t batch, int64_t capacity, int64_t layers,
                                       int64_t kv_heads, int64_t head_dim, torch::ScalarType dtype,
                                       torch::Device device);
  /// Grows the buffers (amortized doubling) so that `needed` columns fit.
  void reserve(int64_t needed);
  /// For the fixed-shape step, which never grows the buffers: InvalidArgument when no column is free.
  void require_room_without_growing() const;
};

/// The model implementation's access to a KvCache's state (KvCache befriends this struct alone; it
/// is declared in the public header but defined only here, so nothing outside lib/model can use it).
/// It lives in namespace breadth, not breadth::model, so that the public header does not bring a
/// `model` namespace into code that says `using namespace breadth`.
struct KvCacheAccess {
  using State = KvCache::State;
  static std::shared_ptr<State>& state(KvCache& c) { return c.state_; }
  static const std::shared_ptr<State>& state(const KvCache& c) { return c.state_; }
};

}  // namespace breadth
