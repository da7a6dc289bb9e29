// Option parsing shared by the breadth CLI subcommands: comma-separated lists. Values with a meaning
// (dtypes, devices, question kinds, specs) are parsed by the library (breadth::parse_dtype, ...).
#pragma once

#include <string>
#include <vector>

namespace breadth::cli {

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
