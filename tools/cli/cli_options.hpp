// Option handling shared by the breadth CLI subcommands: comma-separated lists, usage checks and the
// CLI's own output files. Values with a meaning (dtypes, devices, question kinds, rules, specs) are
// parsed by the library (breadth::parse_dtype, ...). The CLI includes public headers only.
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "breadth/error.hpp"

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

/// A usage check on the command line's own options: InvalidArgument with the message unless `ok`.
template <typename... Args>
void require(bool ok, fmt::format_string<Args...> message, Args&&... args) {
  if (!ok) throw InvalidArgument(fmt::format(message, std::forward<Args>(args)...));
}

/// Writes `text` to `path` (an output file the user named with `option`); IoError naming both.
inline void write_output_file(const std::string& path, const std::string& text, const char* option) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(fmt::format("{}: cannot write '{}'", option, path));
  out << text;
  out.flush();
  if (!out) throw IoError(fmt::format("{}: writing '{}' failed", option, path));
}

}  // namespace breadth::cli
