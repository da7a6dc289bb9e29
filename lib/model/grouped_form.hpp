// The dispatch from a GroupedWeight's form (code bits, scales per chunk) to kernels templated on it,
// shared by the CPU kernels (gemv_grouped.cpp) and the CUDA ones (gemv_grouped.cu). Host code only.
#pragma once

#include <type_traits>

#include "model/gemv.hpp"

namespace breadth::model {

/// Calls f(bits, split) with w's code width (2..6 or 8) and scales per chunk (1 for groups of 32,
/// 2 for groups of 16) as std::integral_constant<int, ...> arguments, so that each form the kernels
/// are built for is one instantiation.
template <typename F>
void with_form(const GroupedWeight& w, F&& f) {
  using std::integral_constant;
  auto split = [&](auto bits) {
    if (w.group == GroupedWeight::kChunk)
      f(bits, integral_constant<int, 1>{});
    else
      f(bits, integral_constant<int, 2>{});
  };
  switch (w.bits) {
    case 2: return split(integral_constant<int, 2>{});
    case 3: return split(integral_constant<int, 3>{});
    case 4: return split(integral_constant<int, 4>{});
    case 5: return split(integral_constant<int, 5>{});
    case 6: return split(integral_constant<int, 6>{});
    default: return split(integral_constant<int, 8>{});
  }
}

}  // namespace breadth::model
