// Python's operators on Jinja values: arithmetic, `~`, comparisons, membership and slicing.
// Pure functions; errors are RuntimeError with Python's wording.
#pragma once

#include <string>

#include "chat/jinja_value.hpp"

namespace breadth::jinja::ops {

/// `a op b` for op in + - * / // % ** ~. `max_bytes` bounds string/list repetition.
Value binary(const std::string& op, const Value& a, const Value& b, size_t max_bytes);
/// Unary minus.
Value negate(const Value& v);
/// `a op b` for op in == != < <= > >= in notin.
bool compare(const std::string& op, const Value& a, const Value& b);
/// `obj[start:stop:step]` on a string, list or tuple (None for an omitted bound).
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
/// Python's `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

}  // namespace breadth::jinja::ops
