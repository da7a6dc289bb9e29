// Jinja's built-ins: the helpers filters, tests and methods share (jinja_builtins.hpp) and the
// globals transformers adds, each with the semantics of the Python object it imitates. The filters,
// tests and methods themselves are in jinja_filters.cpp, jinja_tests.cpp and jinja_methods.cpp.
#include "chat/jinja_builtins.hpp"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cmath>
#include <ctime>

#include "chat/jinja_interpreter.hpp"

namespace breadth::jinja {

namespace builtins {

// ------------------------------------------------------------------ private helpers

namespace {

std::string icu_upper(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toUpper(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
std::string icu_lower(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
bool ascii_only(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::u32string strip_set(const Value& chars) { return utf8_decode(need_str(chars, "strip")); }

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
}

}  // namespace

// ------------------------------------------------------------------ argument checks

[[noreturn]] void undefined_error(const Value& v) {
  const std::string& n = v.as_undefined().name;
  throw RuntimeError(n.empty() ? std::string("value is undefined") : "'" + n + "' is undefined");
}

const std::string& need_str(const Value& v, const char* what) {
  if (v.is_string()) return v.as_string();
  if (v.is_undefined()) undefined_error(v);
  throw RuntimeError(std::string(what) + " requires a string, not '" + type_name(v) + "'");
}

int64_t need_int(const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return v.to_int();
  if (v.is_undefined()) undefined_error(v);
  throw RuntimeError(std::string(what) + " requires an integer, not '" + type_name(v) + "'");
}

// ------------------------------------------------------------------ string helpers

std::string py_upper(const std::string& s) {
  if (!ascii_only(s)) return icu_upper(s);
  std::string out = s;
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}
std::string py_lower(const std::string& s) {
  if (!ascii_only(s)) return icu_lower(s);
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}
std::string cp_str(char32_t c) { return utf8_encode(std::u32string(1, c)); }

// Python's str.capitalize(): first character title-cased, the rest lowercased.
std::string py_capitalize(const std::string& s) {
  const std::u32string cps = utf8_decode(s);
  if (cps.empty()) return s;
  return cp_str(static_cast<char32_t>(u_totitle(static_cast<UChar32>(cps[0])))) +
         py_lower(utf8_encode(cps.substr(1)));
}

std::string py_strip(const std::string& s, const Value* chars, bool left, bool right) {
  const std::u32string cps = utf8_decode(s);
  std::u32string set;
  const bool ws = !chars || chars->is_none();
  if (!ws) set = strip_set(*chars);
  auto drop = [&](char32_t c) { return ws ? py_isspace(c) : set.find(c) != std::u32string::npos; };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && drop(cps[b])) ++b;
  if (right)
    while (e > b && drop(cps[e - 1])) --e;
  return utf8_encode(cps.substr(b, e - b));
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  const std::u32string cps = utf8_decode(s);
  std::vector<std::string> lines;
  size_t i = 0;
  while (i < cps.size()) {
    size_t j = i;
    while (j < cps.size() && !is_line_break(cps[j])) ++j;
    size_t eol = j;
    if (j < cps.size()) eol = (cps[j] == '\r' && j + 1 < cps.size() && cps[j + 1] == '\n') ? j + 2 : j + 1;
    lines.push_back(utf8_encode(cps.substr(i, (keepends ? eol : j) - i)));
    i = eol;
  }
  return lines;
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& neu, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old.empty()) {
    const std::u32string cps = utf8_decode(s);
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += neu;
        ++done;
      }
      if (i < cps.size()) out += cp_str(cps[i]);
    }
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t f = s.find(old, start);
    if (f == std::string::npos) break;
    out.append(s, start, f - start);
    out += neu;
    start = f + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

// Python's str.islower()/isupper(): some cased character, and all cased characters in that case.
bool py_iscase(const std::string& s, bool lower) {
  bool any = false;
  for (char32_t c : utf8_decode(s)) {
    const UChar32 u = static_cast<UChar32>(c);
    if (u_isULowercase(u)) {
      if (!lower) return false;
      any = true;
    } else if (u_isUUppercase(u) || u_istitle(u)) {
      if (lower) return false;
      any = true;
    }
  }
  return any;
}

// ------------------------------------------------------------------ value helpers

std::vector<Value> items_of(const Value& v) {
  if (v.is_undefined()) return {};
  if (!v.is_dict()) throw RuntimeError("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& kv : v.as_dict().items) out.push_back(Value::list({Value(kv.first), kv.second}, true));
  return out;
}

}  // namespace builtins

using builtins::Args;
using builtins::need_int;
using builtins::need_str;

// ------------------------------------------------------------------ globals

Value builtin_global(const std::string& name) {
  if (name == "raise_exception") {
    return Value(Callable{name, [](Interpreter&, CallArgs& a) -> Value {
                            throw RaisedError(a.args.empty() ? std::string() : to_str(a.args[0]));
                          }});
  }
  if (name == "strftime_now") {
    return Value(Callable{name, [](Interpreter&, CallArgs& call) -> Value {
                            Args a(call, "strftime_now", {"format"});
                            const std::string fmt = need_str(a.required(0), "strftime_now");
                            const std::time_t t = std::time(nullptr);
                            std::tm tm{};
                            localtime_r(&t, &tm);
                            std::string out(fmt.size() * 8 + 64, '\0');
                            const size_t n = fmt.empty() ? 0 : std::strftime(out.data(), out.size(), fmt.c_str(), &tm);
                            out.resize(n);
                            return Value(std::move(out));
                          }});
  }
  if (name == "namespace" || name == "dict") {
    const bool ns = name == "namespace";
    return Value(Callable{name, [ns](Interpreter&, CallArgs& a) -> Value {
                            Dict d;
                            if (a.args.size() > 1) throw RuntimeError("expected at most 1 positional argument");
                            if (!a.args.empty()) {
                              if (!a.args[0].is_dict()) throw UnsupportedError("a non-dict positional argument to dict()/namespace()");
                              d = a.args[0].as_dict();
                            }
                            for (auto& kw : a.kwargs) {
                              if (ns && !kw.first.empty() && kw.first[0] == '_')
                                throw RuntimeError("namespace attributes may not start with '_'");
                              d.set(kw.first, kw.second);
                            }
                            if (!ns) return Value(std::move(d));
                            auto n = std::make_shared<Namespace>();
                            n->attrs = std::move(d);
                            return Value(std::move(n));
                          }});
  }
  if (name == "range") {
    return Value(Callable{name, [](Interpreter&, CallArgs& a) -> Value {
                            if (!a.kwargs.empty() || a.args.empty() || a.args.size() > 3)
                              throw RuntimeError("range() takes 1 to 3 positional arguments");
                            int64_t start = 0, stop, step = 1;
                            if (a.args.size() == 1) {
                              stop = need_int(a.args[0], "range");
                            } else {
                              start = need_int(a.args[0], "range");
                              stop = need_int(a.args[1], "range");
                              if (a.args.size() == 3) step = need_int(a.args[2], "range");
                            }
                            if (step == 0) throw RuntimeError("range() arg 3 must not be zero");
                            // Jinja's sandbox refuses ranges longer than 100000 (MAX_RANGE).
                            const long double len = step > 0 ? std::ceil((static_cast<long double>(stop) - start) / step)
                                                             : std::ceil((static_cast<long double>(start) - stop) / -step);
                            if (len > 100000)
                              throw RuntimeError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
                            std::vector<Value> out;
                            for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
                            return Value::list(std::move(out));
                          }});
  }
  return Value(Undefined{name});
}

}  // namespace breadth::jinja
