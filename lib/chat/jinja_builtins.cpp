// Jinja's built-ins: the helpers filters, tests and methods share (jinja_builtins.hpp) and the
// globals transformers adds, each with the semantics of the Python object it imitates. The filters,
// tests and methods themselves are in jinja_filters.cpp, jinja_tests.cpp and jinja_methods.cpp.
#include "chat/jinja_builtins.hpp"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <type_traits>
#include <unordered_set>
#include <variant>

#include "chat/jinja_interpreter.hpp"
#include "chat/jinja_ops.hpp"

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

namespace {

using namespace builtins;

bool is_cased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED); }

// Python's str.title(): a cased character after an uncased one is title-cased, others lowercased.
std::string py_title(const std::string& s) {
  std::u32string out;
  bool prev_cased = false;
  for (char32_t c : utf8_decode(s)) {
    const UChar32 u = static_cast<UChar32>(c);
    out.push_back(static_cast<char32_t>(prev_cased ? u_tolower(u) : u_totitle(u)));
    prev_cased = is_cased(c);
  }
  return utf8_encode(out);
}

std::vector<Value> py_split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> parts;
  if (sep.is_none()) {
    std::u32string cps = utf8_decode(s);
    if (from_right) std::reverse(cps.begin(), cps.end());
    size_t i = 0;
    int64_t splits = 0;
    while (true) {
      while (i < cps.size() && py_isspace(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && splits >= maxsplit) {
        // Python keeps the trailing whitespace of the unsplit remainder.
        parts.push_back(utf8_encode(cps.substr(i)));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !py_isspace(cps[j])) ++j;
      parts.push_back(utf8_encode(cps.substr(i, j - i)));
      ++splits;
      i = j;
    }
    if (from_right) {
      for (auto& p : parts) {
        std::u32string c = utf8_decode(p);
        std::reverse(c.begin(), c.end());
        p = utf8_encode(c);
      }
      std::reverse(parts.begin(), parts.end());
    }
  } else {
    const std::string& d = need_str(sep, "split");
    if (d.empty()) throw RuntimeError("empty separator");
    if (!from_right) {
      size_t start = 0;
      int64_t splits = 0;
      while (maxsplit < 0 || splits < maxsplit) {
        const size_t f = s.find(d, start);
        if (f == std::string::npos) break;
        parts.push_back(s.substr(start, f - start));
        start = f + d.size();
        ++splits;
      }
      parts.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      int64_t splits = 0;
      std::vector<std::string> rev;
      while (maxsplit < 0 || splits < maxsplit) {
        if (end < d.size()) break;
        const size_t f = s.rfind(d, end - d.size());
        if (f == std::string::npos) break;
        rev.push_back(s.substr(f + d.size(), end - f - d.size()));
        end = f;
        ++splits;
      }
      rev.push_back(s.substr(0, end));
      parts.assign(rev.rbegin(), rev.rend());
    }
  }
  std::vector<Value> out;
  for (auto& p : parts) out.emplace_back(std::move(p));
  return out;
}

int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_pos)));
}

}  // namespace

// ------------------------------------------------------------------ methods

bool has_method(const Value& obj, std::string_view name) {
  static const std::unordered_set<std::string_view> str_methods = {
      "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
      "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
      "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
      "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
      "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
      "title", "translate", "upper", "zfill"};
  static const std::unordered_set<std::string_view> dict_methods = {
      "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"};
  static const std::unordered_set<std::string_view> list_methods = {
      "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"};
  if (obj.is_string()) return str_methods.count(name) > 0;
  if (obj.is_dict()) return dict_methods.count(name) > 0;
  if (obj.is_list()) return obj.as_list().tuple ? (name == "count" || name == "index") : list_methods.count(name) > 0;
  return false;
}

Value call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& call) {
  (void)in;
  const std::string qual = type_name(obj) + "." + name;
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      Args a(call, qual, {"chars"});
      const Value chars = a.get(0);
      return Value(py_strip(s, &chars, name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
      Args a(call, qual, {"prefix", "start", "end"});
      if (a.has(1) || a.has(2)) throw UnsupportedError(qual + "() with start/end positions");
      const Value& p = a.required(0);
      std::vector<Value> options = p.is_list() && p.as_list().tuple ? p.as_list().items : std::vector<Value>{p};
      for (const auto& o : options) {
        if (!o.is_string())
          throw RuntimeError(qual + " first arg must be str or a tuple of str, not " + type_name(o));
        const std::string& x = o.as_string();
        if (x.size() <= s.size() && (name == "startswith" ? s.compare(0, x.size(), x) == 0
                                                           : s.compare(s.size() - x.size(), x.size(), x) == 0))
          return Value(true);
      }
      return Value(false);
    }
    if (name == "split" || name == "rsplit") {
      Args a(call, qual, {"sep", "maxsplit"});
      return Value::list(py_split(s, a.get(0), need_int(a.get(1, Value(int64_t{-1})), "maxsplit"), name == "rsplit"));
    }
    if (name == "upper") return Args(call, qual, {}), Value(py_upper(s));
    if (name == "lower" || name == "casefold") return Args(call, qual, {}), Value(py_lower(s));
    if (name == "title") return Args(call, qual, {}), Value(py_title(s));
    if (name == "capitalize") return Args(call, qual, {}), Value(py_capitalize(s));
    if (name == "replace") {
      Args a(call, qual, {"old", "new", "count"});
      return Value(py_replace(s, need_str(a.required(0), "replace"), need_str(a.required(1), "replace"),
                              need_int(a.get(2, Value(int64_t{-1})), "replace")));
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
      Args a(call, qual, {"sub", "start", "end"});
      if (a.has(1) || a.has(2)) throw UnsupportedError(qual + "() with start/end positions");
      const std::string& sub = need_str(a.required(0), name.c_str());
      const size_t f = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
      if (f == std::string::npos) {
        if (name == "index" || name == "rindex") throw RuntimeError("substring not found");
        return Value(int64_t{-1});
      }
      return Value(cp_index(s, f));
    }
    if (name == "count") {
      Args a(call, qual, {"sub"});
      const std::string& sub = need_str(a.required(0), "count");
      if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t f = s.find(sub); f != std::string::npos; f = s.find(sub, f + sub.size())) ++n;
      return Value(n);
    }
    if (name == "join") {
      Args a(call, qual, {"iterable"});
      std::string out;
      bool first = true;
      size_t idx = 0;
      for (const auto& item : iterate(a.required(0))) {
        if (!item.is_string())
          throw RuntimeError("sequence item " + std::to_string(idx) + ": expected str instance, " +
                             type_name(item) + " found");
        if (!first) out += s;
        first = false;
        out += item.as_string();
        ++idx;
      }
      return Value(std::move(out));
    }
    if (name == "splitlines") {
      Args a(call, qual, {"keepends"});
      std::vector<Value> out;
      for (auto& l : py_splitlines(s, a.flag(0, false))) out.emplace_back(std::move(l));
      return Value::list(std::move(out));
    }
    if (name == "removeprefix" || name == "removesuffix") {
      Args a(call, qual, {"affix"});
      const std::string& x = need_str(a.required(0), name.c_str());
      if (name == "removeprefix") return Value(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
      return Value(x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0
                       ? s.substr(0, s.size() - x.size()) : s);
    }
    if (name == "isspace" || name == "isdigit" || name == "isalpha" || name == "isalnum" ||
        name == "isdecimal" || name == "isnumeric") {
      Args a(call, qual, {});
      const std::u32string cps = utf8_decode(s);
      if (cps.empty()) return Value(false);
      for (char32_t c : cps) {
        const UChar32 u = static_cast<UChar32>(c);
        bool ok;
        if (name == "isspace") ok = py_isspace(c);
        else if (name == "isalpha") ok = u_isalpha(u);
        else if (name == "isalnum") ok = u_isalnum(u);
        else if (name == "isdecimal") ok = u_charType(u) == U_DECIMAL_DIGIT_NUMBER;
        else if (name == "isdigit") {
          const int nt = u_getIntPropertyValue(u, UCHAR_NUMERIC_TYPE);
          ok = nt == U_NT_DECIMAL || nt == U_NT_DIGIT;
        }
        else ok = u_getIntPropertyValue(u, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
        if (!ok) return Value(false);
      }
      return Value(true);
    }
    if (name == "islower" || name == "isupper") return Args(call, qual, {}), Value(py_iscase(s, name == "islower"));
    throw UnsupportedError("the string method '" + name + "'");
  }
  if (obj.is_dict()) {
    const Dict& d = obj.as_dict();
    if (name == "items") return Args(call, qual, {}), Value::list(items_of(obj));
    if (name == "keys") return Args(call, qual, {}), Value::list(iterate(obj));
    if (name == "values") {
      Args a(call, qual, {});
      std::vector<Value> out;
      for (const auto& kv : d.items) out.push_back(kv.second);
      return Value::list(std::move(out));
    }
    if (name == "get") {
      Args a(call, qual, {"key", "default"});
      const Value& k = a.required(0);
      if (k.is_string())
        if (const Value* x = d.find(k.as_string())) return *x;
      return a.get(1);
    }
    if (name == "copy") return Args(call, qual, {}), obj;
  }
  if (obj.is_list()) {
    const auto& items = obj.as_list().items;
    if (name == "index") {
      Args a(call, qual, {"value"});
      for (size_t i = 0; i < items.size(); ++i)
        if (equals(items[i], a.required(0))) return Value(static_cast<int64_t>(i));
      throw RuntimeError("value is not in list");
    }
    if (name == "count") {
      Args a(call, qual, {"value"});
      int64_t n = 0;
      for (const auto& x : items) n += equals(x, a.required(0)) ? 1 : 0;
      return Value(n);
    }
    if (name == "copy") return Args(call, qual, {}), obj;
  }
  static const char* const kMutating[] = {"append", "clear", "extend", "insert", "pop", "popitem", "remove",
                                          "reverse", "setdefault", "sort", "update"};
  for (const char* m : kMutating)
    if (name == m)
      throw RuntimeError("access to attribute '" + name + "' of '" + type_name(obj) +
                         "' object is unsafe (templates cannot modify lists or dicts)");
  throw UnsupportedError("the method '" + qual + "'");
}

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
