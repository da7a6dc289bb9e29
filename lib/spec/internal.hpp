// What the spec builders share: small parsers, and how a judge is loaded from SpecOptions.
#pragma once

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "breadth/encoder.hpp"
#include "breadth/spec.hpp"

namespace breadth::spec {

/// A whole string as a finite number, or nothing.
inline std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (!end || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// "PATH[:T]" -> PATH and T. Paths may hold ':' themselves, so only a numeric last field is a threshold.
inline void split_path_threshold(const std::string& rest, std::string& path, std::optional<double>& threshold) {
  path = rest;
  threshold.reset();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return;
  if (auto v = parse_number(rest.substr(colon + 1))) {
    path = rest.substr(0, colon);
    threshold = v;
  }
}

/// "KIND:REST" -> KIND and REST (REST empty without a colon).
inline void split_kind(const std::string& spec, std::string& kind, std::string& rest) {
  const auto colon = spec.find(':');
  kind = spec.substr(0, colon);
  rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
}

/// Encoders of model-backed judges load on the caller's device.
inline EncoderOptions encoder_options(const SpecOptions& o) {
  EncoderOptions e;
  e.device = o.device;
  return e;
}

}  // namespace breadth::spec
