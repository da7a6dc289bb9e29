// Names of dtypes, devices and weight formats (breadth/model.hpp).
#include <c10/core/ScalarType.h>

#include <cctype>
#include <string>

#include "breadth/model.hpp"
#include "core/check.hpp"

namespace breadth {

torch::ScalarType parse_dtype(std::string_view name, std::string_view what) {
  if (name == "float32" || name == "float") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16" || name == "half") return torch::kFloat16;
  fail("{} must be float32, bfloat16 or float16, got '{}'", what, name);
}

std::string dtype_name(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return c10::toString(dtype);
  }
}

torch::Device parse_device(std::string_view name, std::string_view what) {
  bool ok = name == "cpu" || name == "cuda";
  if (!ok && name.substr(0, 5) == "cuda:" && name.size() > 5 && name.size() <= 8) {
    ok = true;
    for (char c : name.substr(5)) ok = ok && std::isdigit(static_cast<unsigned char>(c));
  }
  if (!ok) fail("{} must be cpu, cuda or cuda:N, got '{}'", what, name);
  return torch::Device(std::string(name));
}

WeightFormat parse_weight_format(std::string_view name, std::string_view what) {
  if (name == "native") return WeightFormat::kNative;
  if (name == "float") return WeightFormat::kFloat;
  fail("{} must be native (quantized GGUF weights stay quantized) or float (expanded to the dtype), "
       "got '{}'",
       what, name);
}

const char* weight_format_name(WeightFormat format) {
  return format == WeightFormat::kNative ? "native" : "float";
}

}  // namespace breadth
