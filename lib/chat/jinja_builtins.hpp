// What the built-ins share (jinja_builtins.cpp): Python-style argument binding, argument checks and
// the Python str operations that filters, tests and methods all use. Internal to the chat component.
//
// The built-ins themselves are tables, one name per entry (aliases share a function):
// jinja_filters.cpp (filters), jinja_tests.cpp (tests), jinja_methods.cpp (str/dict/list methods);
// jinja_builtins.cpp also holds the globals transformers adds.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.hpp"

namespace breadth::jinja::builtins {

// ------------------------------------------------------------------ argument binding

// Binds positional and keyword arguments to a Python-style signature.
class Args {
 public:
  Args(const CallArgs& a, std::string fname, std::initializer_list<const char*> params)
      : fname_(std::move(fname)), params_(params.begin(), params.end()), values_(params.size(), nullptr) {
    if (a.args.size() > params_.size())
      throw RuntimeError(fname_ + "() takes at most " + std::to_string(params_.size()) + " argument(s)");
    for (size_t i = 0; i < a.args.size(); ++i) values_[i] = &a.args[i];
    for (const auto& kw : a.kwargs) {
      size_t i = 0;
      while (i < params_.size() && kw.first != params_[i]) ++i;
      if (i == params_.size())
        throw RuntimeError(fname_ + "() got an unexpected keyword argument '" + kw.first + "'");
      values_[i] = &kw.second;
    }
  }
  bool has(size_t i) const { return values_[i] != nullptr; }
  /// The argument, or `dflt` when it was not passed.
  Value get(size_t i, Value dflt = Value(None{})) const { return values_[i] ? *values_[i] : dflt; }
  const Value& required(size_t i) const {
    if (!values_[i]) throw RuntimeError(fname_ + "() missing required argument '" + params_[i] + "'");
    return *values_[i];
  }
  std::string str(size_t i, const std::string& dflt) const {
    if (!values_[i] || values_[i]->is_none()) return dflt;
    return to_str(*values_[i]);
  }
  bool flag(size_t i, bool dflt) const { return values_[i] ? truthy(*values_[i]) : dflt; }

 private:
  std::string fname_;
  std::vector<std::string> params_;
  std::vector<const Value*> values_;
};

[[noreturn]] void undefined_error(const Value& v);
const std::string& need_str(const Value& v, const char* what);
int64_t need_int(const Value& v, const char* what);

// ------------------------------------------------------------------ Python str operations

std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
/// Python's str.capitalize(): first character title-cased, the rest lowercased.
std::string py_capitalize(const std::string& s);
/// One code point as UTF-8.
std::string cp_str(char32_t c);
/// Python's str.strip/lstrip/rstrip; `chars` null or None strips whitespace.
std::string py_strip(const std::string& s, const Value* chars, bool left, bool right);
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);
/// Python's str.replace; a negative `count` replaces all.
std::string py_replace(const std::string& s, const std::string& old, const std::string& neu, int64_t count);
/// Python's str.islower() (`lower`) or str.isupper().
bool py_iscase(const std::string& s, bool lower);

/// Jinja's dict items as (key, value) tuples; Undefined has none.
std::vector<Value> items_of(const Value& v);

}  // namespace breadth::jinja::builtins
