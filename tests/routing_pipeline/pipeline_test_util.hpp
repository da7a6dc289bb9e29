// Helpers shared by the routing pipeline tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "common/test_env.hpp"

namespace breadth::test {

/// A new, empty folder under the build tree for this process (never removed; mkdir(2) rather than
/// std::filesystem, whose libtorch.so copies are broken).
inline std::string pipeline_scratch_dir(const std::string& name) {
  static std::atomic<int> n{0};
  std::string d = binary_dir() + "/routing_pipeline_tmp/" + name + "-" + std::to_string(::getpid()) + "-" +
                  std::to_string(n++);
  for (size_t i = 1; i <= d.size(); ++i) {
    if (i < d.size() && d[i] != '/') continue;
    std::string part = d.substr(0, i);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      throw std::runtime_error("cannot create test folder " + part);
  }
  return d;
}

}  // namespace breadth::test
