// Helpers shared by the BACO rule implementations.
#pragma once

#include <torch/types.h>

#include <string>

#include "breadth/baco_rules.hpp"

namespace breadth::baco {

/// int8 routes: `to_base` where `known`, kUndecided elsewhere.
torch::Tensor routes(const torch::Tensor& known, const torch::Tensor& to_base);
/// ":0.3"
std::string gamma_suffix(double gamma);
/// Throws InvalidArgument unless gamma is finite and >= 0.
void check_gamma(double gamma, const std::string& rule);

}  // namespace breadth::baco
