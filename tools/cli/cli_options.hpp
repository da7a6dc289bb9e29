// Option parsing shared by the breadth CLI subcommands: --dtype and --device values become
// InvalidArgument errors with a one-line message (libtorch's own parse errors carry a backtrace);
// comma-separated lists.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "breadth/error.hpp"

namespace breadth::cli {

inline torch::ScalarType parse_dtype(const std::string& s) {
  if (s == "float32") return torch::kFloat32;
  if (s == "bfloat16") return torch::kBFloat16;
  if (s == "float16") return torch::kFloat16;
  throw breadth::InvalidArgument("--dtype must be float32, bfloat16 or float16, got '" + s + "'");
}

inline torch::Device parse_device(const std::string& s) {
  const bool known = s == "cpu" || s == "cuda" || s.rfind("cuda:", 0) == 0;
  if (known) {
    try {
      return torch::Device(s);
    } catch (const std::exception&) {
    }
  }
  throw breadth::InvalidArgument("--device must be cpu, cuda or cuda:N, got '" + s + "'");
}

/// "a,b,,c" -> {"a", "b", "c"}: list-valued options (--metrics, --labels, --features).
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

}  // namespace breadth::cli
