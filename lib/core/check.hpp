// Argument checks that throw breadth's errors with a formatted message.
#pragma once

#include <fmt/format.h>

#include "breadth/error.hpp"

namespace breadth {

template <typename E = InvalidArgument, typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw E(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace breadth

/// Throws InvalidArgument with the formatted message when `cond` is false.
#define BREADTH_CHECK_ARG(cond, ...) \
  do {                               \
    if (!(cond)) ::breadth::fail<::breadth::InvalidArgument>(__VA_ARGS__); \
  } while (0)

/// Throws FormatError (a corrupt or truncated file) when `cond` is false.
#define BREADTH_CHECK_FORMAT(cond, ...) \
  do {                                  \
    if (!(cond)) ::breadth::fail<::breadth::FormatError>(__VA_ARGS__); \
  } while (0)
