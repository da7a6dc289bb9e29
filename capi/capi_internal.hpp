// The one error-translation point of the C API: BREADTH_C_TRY wraps a body, turns every C++
// exception into a breadth_status and stores the message in a thread-local slot.
#pragma once

#include <exception>
#include <new>
#include <cstring>
#include <string>
#include <type_traits>

// The library itself uses none of the header's deprecated names.
#ifndef BREADTH_NO_DEPRECATED
#define BREADTH_NO_DEPRECATED
#endif
#include "breadth.h"
#include "breadth/error.hpp"

namespace breadth::capi {

/// An enum a C caller passed, as the int it holds. C lets any int live in an enum object, but in C++
/// loading a value outside the enumerators' range as the enum type is undefined (UBSan's
/// -fsanitize=enum caught `options->weights = 7`), so every incoming enum is read through its bytes
/// and validated as an int.
template <typename E>
int c_enum(const E& e) {
  static_assert(std::is_enum_v<E> && sizeof(E) == sizeof(int), "a C API enum");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

void set_last_error(const std::string& message);
void clear_last_error();
breadth_status status_from(const std::exception& e);

}  // namespace breadth::capi

#define BREADTH_C_TRY(...)                                                   \
  try {                                                                      \
    ::breadth::capi::clear_last_error();                                     \
    __VA_ARGS__                                                              \
    return BREADTH_OK;                                                       \
  } catch (const std::exception& e) {                                        \
    ::breadth::capi::set_last_error(e.what());                               \
    return ::breadth::capi::status_from(e);                                  \
  } catch (...) {                                                            \
    ::breadth::capi::set_last_error("unknown exception");                    \
    return BREADTH_ERR_INTERNAL;                                             \
  }

/// Argument checks for the C layer (NULL pointers, struct versions) reuse breadth's InvalidArgument.
#define BREADTH_C_REQUIRE(cond, what) \
  do {                                \
    if (!(cond)) throw ::breadth::InvalidArgument(what); \
  } while (0)

namespace breadth::capi {

/// `items[index]` for a getter, or InvalidArgument "FN: NAME INDEX is out of range; OWNER holds SIZE
/// UNIT" (e.g. "breadth_generation_get: index 7 is out of range; the result holds 4 samples").
template <typename V>
const typename V::value_type& element_at(const V& items, size_t index, const char* fn, const char* name,
                                         const std::string& owner, const char* unit) {
  BREADTH_C_REQUIRE(index < items.size(), std::string(fn) + ": " + name + " " + std::to_string(index) +
                                              " is out of range; " + owner + " holds " +
                                              std::to_string(items.size()) + " " + unit);
  return items[index];
}

}  // namespace breadth::capi
