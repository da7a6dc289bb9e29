// Jinja's built-in filters and tests, the Python str/dict/list methods templates call, and the
// globals transformers adds, each with the semantics of the Python object it imitates.
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <unordered_set>

#include "chat/jinja_interpreter.hpp"
#include "chat/jinja_ops.hpp"

namespace breadth::jinja {

namespace {

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
bool is_cased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED); }

// Python's str.capitalize(): first character title-cased, the rest lowercased.
std::string py_capitalize(const std::string& s) {
  const std::u32string cps = utf8_decode(s);
  if (cps.empty()) return s;
  return cp_str(static_cast<char32_t>(u_totitle(static_cast<UChar32>(cps[0])))) +
         py_lower(utf8_encode(cps.substr(1)));
}

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

// Jinja's title filter: words begin after runs of '-', whitespace, '(', '{', '[', '<'.
std::string jinja_title(const std::string& s) {
  std::string out;
  const std::u32string cps = utf8_decode(s);
  size_t i = 0;
  auto sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c); };
  while (i < cps.size()) {
    size_t j = i;
    const bool is_sep = sep(cps[i]);
    while (j < cps.size() && sep(cps[j]) == is_sep) ++j;
    const std::string piece = utf8_encode(cps.substr(i, j - i));
    if (is_sep) {
      out += piece;
    } else {
      out += py_upper(cp_str(cps[i])) + py_lower(utf8_encode(cps.substr(i + 1, j - i - 1)));
    }
    i = j;
  }
  return out;
}

std::u32string strip_set(const Value& chars) { return utf8_decode(need_str(chars, "strip")); }

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

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
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

int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_pos)));
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

int64_t py_len(const Value& v) {
  if (v.is_string()) return static_cast<int64_t>(utf8_length(v.as_string()));
  if (v.is_list()) return static_cast<int64_t>(v.as_list().items.size());
  if (v.is_dict()) return static_cast<int64_t>(v.as_dict().items.size());
  if (v.is_undefined()) return 0;
  throw RuntimeError("object of type '" + type_name(v) + "' has no len()");
}

// Jinja's make_attrgetter: a dotted path looked up with getitem, integer parts as indices.
Value attr_path(Interpreter& in, Value item, const Value& attribute) {
  if (!attribute.is_string()) return in.getitem(item, attribute);
  const std::string& path = attribute.as_string();
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    item = digits ? in.getitem(item, Value(static_cast<int64_t>(std::strtoll(part.c_str(), nullptr, 10))))
                  : in.getitem(item, Value(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return item;
}

Value fold_case(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(py_lower(v.as_string())) : v;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool parse_py_float(std::string s, double& out) {
  s = py_strip(s, nullptr, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return false;
  std::string low = py_lower(s);
  const bool neg = low[0] == '-';
  const std::string body = (low[0] == '-' || low[0] == '+') ? low.substr(1) : low;
  if (body == "inf" || body == "infinity") {
    out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    out = NAN;
    return true;
  }
  if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

bool parse_py_int(std::string s, int base, int64_t& out) {
  s = py_strip(s, nullptr, true, true);
  if (s.empty() || s.find("__") != std::string::npos || s.back() == '_') return false;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, base);
  if (errno == ERANGE) throw RuntimeError("int() result beyond 64 bits");
  if (!end || *end != '\0' || end == s.c_str()) return false;
  out = v;
  return true;
}

Value do_round(const Value& v, int64_t precision, const std::string& method) {
  if (!v.is_number()) throw RuntimeError("round() requires a number, not '" + type_name(v) + "'");
  const double x = v.to_double();
  if (method == "common") {
    if (precision < 0 || precision > 300) throw UnsupportedError("round() with this precision");
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
    return Value(std::strtod(buf, nullptr));
  }
  if (method != "ceil" && method != "floor") throw RuntimeError("method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double r = method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale);
  return Value(r / scale);
}

std::string do_indent(std::string s, const Value& width, bool first, bool blank) {
  const std::string indention = width.is_string() ? width.as_string()
                                                  : std::string(static_cast<size_t>(std::max<int64_t>(0, need_int(width, "indent"))), ' ');
  s += "\n";  // Jinja's quirk, so that splitlines() sees the last line
  const std::vector<std::string> lines = py_splitlines(s, false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : std::string()) + lines[i];
  } else if (!lines.empty()) {
    rv = lines[0];
    if (lines.size() > 1) {
      rv += "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        if (i > 1) rv += "\n";
        rv += lines[i].empty() ? lines[i] : indention + lines[i];
      }
    }
  }
  return first ? indention + rv : rv;
}

Value minmax(Interpreter& in, const Value& seq, const Args& a, bool want_max) {
  const bool cs = a.flag(0, false);
  const Value attribute = a.get(1);
  const std::vector<Value> items = iterate(seq);
  if (items.empty()) return Value(Undefined{want_max ? "max" : "min"});
  size_t best = 0;
  auto key = [&](const Value& v) { return fold_case(attribute.is_none() ? v : attr_path(in, v, attribute), cs); };
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    const int c = compare(k, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

std::vector<Value> select_items(Interpreter& in, const Value& seq, const CallArgs& call, bool attr, bool keep) {
  size_t off = 0;
  Value attribute;
  if (attr) {
    if (call.args.empty()) throw RuntimeError("missing parameter for attribute name");
    attribute = call.args[0];
    off = 1;
  }
  std::vector<Value> out;
  for (const auto& item : iterate(seq)) {
    in.count_step();
    const Value probe = attr ? attr_path(in, item, attribute) : item;
    bool ok;
    if (call.args.size() > off) {
      CallArgs targs;
      targs.args.assign(call.args.begin() + static_cast<long>(off) + 1, call.args.end());
      targs.kwargs = call.kwargs;
      ok = in.test(to_str(call.args[off]), probe, targs);
    } else {
      ok = truthy(probe);
    }
    if (ok == keep) out.push_back(item);
  }
  return out;
}

Value do_tojson(const Value& v, const CallArgs& call) {
  Args a(call, "tojson", {"indent", "ensure_ascii", "separators", "sort_keys"});
  JsonOptions o;
  const Value indent = a.get(0);
  if (indent.is_string()) {
    o.indent = indent.as_string();
  } else if (!indent.is_none()) {
    o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, need_int(indent, "tojson indent"))), ' ');
  }
  if (o.indent) o.item_separator = ",";
  o.ensure_ascii = a.flag(1, false);
  const Value seps = a.get(2);
  if (!seps.is_none()) {
    if (!seps.is_list() || seps.as_list().items.size() != 2)
      throw RuntimeError("tojson separators must be a pair of strings");
    o.item_separator = need_str(seps.as_list().items[0], "tojson separators");
    o.key_separator = need_str(seps.as_list().items[1], "tojson separators");
  }
  o.sort_keys = a.flag(3, false);
  return Value(to_json(v, o));
}

// ------------------------------------------------------------------ filters

const std::unordered_set<std::string>& filter_names() {
  static const std::unordered_set<std::string> names = {
      "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
      "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
      "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum",
      "title", "tojson", "trim", "unique", "upper", "wordcount"};
  return names;
}

const std::unordered_set<std::string>& test_names() {
  static const std::unordered_set<std::string> names = {
      "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq", "equalto",
      "escaped", "even", "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable",
      "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence",
      "string", "test", "true", "undefined", "upper"};
  return names;
}

}  // namespace

bool is_builtin_filter(std::string_view name) { return filter_names().count(std::string(name)) > 0; }
bool is_builtin_test(std::string_view name) { return test_names().count(std::string(name)) > 0; }

Value builtin_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  if (name == "trim") {
    Args a(call, name, {"chars"});
    const Value chars = a.get(0);
    return Value(py_strip(to_str(v), &chars, true, true));
  }
  if (name == "length" || name == "count") {
    Args a(call, name, {});
    return Value(py_len(v));
  }
  if (name == "tojson") return do_tojson(v, call);
  if (name == "upper") {
    Args a(call, name, {});
    return Value(py_upper(to_str(v)));
  }
  if (name == "lower") {
    Args a(call, name, {});
    return Value(py_lower(to_str(v)));
  }
  if (name == "default" || name == "d") {
    Args a(call, name, {"default_value", "boolean"});
    const bool boolean = a.flag(1, false);
    if (v.is_undefined() || (boolean && !truthy(v))) return a.get(0, Value(std::string()));
    return v;
  }
  if (name == "join") {
    Args a(call, name, {"d", "attribute"});
    const std::string sep = a.str(0, "");
    const Value attribute = a.get(1);
    std::string out;
    bool first = true;
    for (const auto& item : iterate(v)) {
      if (!first) out += sep;
      first = false;
      out += to_str(attribute.is_none() ? item : attr_path(in, item, attribute));
    }
    return Value(std::move(out));
  }
  if (name == "items") {
    Args a(call, name, {});
    return Value::list(items_of(v));
  }
  if (name == "list") {
    Args a(call, name, {});
    return Value::list(iterate(v));
  }
  if (name == "string") {
    Args a(call, name, {});
    return Value(to_str(v));
  }
  if (name == "safe") {
    Args a(call, name, {});
    return v.is_string() ? v : Value(to_str(v));
  }
  if (name == "first") {
    Args a(call, name, {});
    const std::vector<Value> items = iterate(v);
    return items.empty() ? Value(Undefined{"first"}) : items.front();
  }
  if (name == "last") {
    Args a(call, name, {});
    if (!v.is_list() && !v.is_string() && !v.is_dict() && !v.is_undefined())
      throw RuntimeError("'" + type_name(v) + "' object is not reversible");
    const std::vector<Value> items = iterate(v);
    return items.empty() ? Value(Undefined{"last"}) : items.back();
  }
  if (name == "reverse") {
    Args a(call, name, {});
    if (v.is_string()) {
      std::u32string c = utf8_decode(v.as_string());
      std::reverse(c.begin(), c.end());
      return Value(utf8_encode(c));
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "replace") {
    Args a(call, name, {"old", "new", "count"});
    const Value count = a.get(2);
    return Value(py_replace(to_str(v), to_str(a.required(0)), to_str(a.required(1)),
                            count.is_none() ? -1 : need_int(count, "replace")));
  }
  if (name == "capitalize") {
    Args a(call, name, {});
    return Value(py_capitalize(to_str(v)));
  }
  if (name == "title") {
    Args a(call, name, {});
    return Value(jinja_title(to_str(v)));
  }
  if (name == "escape" || name == "e") {
    Args a(call, name, {});
    return Value(html_escape(to_str(v)));
  }
  if (name == "abs") {
    Args a(call, name, {});
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) {
      const int64_t i = v.to_int();
      if (i == INT64_MIN) throw RuntimeError("integer result beyond 64 bits");
      return Value(i < 0 ? -i : i);
    }
    throw RuntimeError("bad operand type for abs(): '" + type_name(v) + "'");
  }
  if (name == "int") {
    Args a(call, name, {"default", "base"});
    const Value dflt = a.get(0, Value(int64_t{0}));
    const int base = static_cast<int>(need_int(a.get(1, Value(int64_t{10})), "int base"));
    if (base != 0 && (base < 2 || base > 36)) throw RuntimeError("int() base must be >= 2 and <= 36, or 0");
    if (v.is_int() || v.is_bool()) return Value(v.to_int());
    if (v.is_float()) {
      if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) > 9.2e18)
        return std::isnan(v.as_float()) ? dflt : throw RuntimeError("cannot convert float to integer");
      return Value(static_cast<int64_t>(v.as_float()));
    }
    if (v.is_string()) {
      int64_t r;
      if (parse_py_int(v.as_string(), base, r)) return Value(r);
      double d;
      if (parse_py_float(v.as_string(), d)) {
        if (std::isnan(d)) return dflt;
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) throw RuntimeError("cannot convert float to integer");
        return Value(static_cast<int64_t>(d));
      }
    }
    return dflt;
  }
  if (name == "float") {
    Args a(call, name, {"default"});
    const Value dflt = a.get(0, Value(0.0));
    if (v.is_number()) return Value(v.to_double());
    double d;
    if (v.is_string() && parse_py_float(v.as_string(), d)) return Value(d);
    return dflt;
  }
  if (name == "round") {
    Args a(call, name, {"precision", "method"});
    return do_round(v, need_int(a.get(0, Value(int64_t{0})), "round"), a.str(1, "common"));
  }
  if (name == "indent") {
    Args a(call, name, {"width", "first", "blank"});
    return Value(do_indent(to_str(v), a.get(0, Value(int64_t{4})), a.flag(1, false), a.flag(2, false)));
  }
  if (name == "wordcount") {
    Args a(call, name, {});
    int64_t n = 0;
    bool in_word = false;
    for (char32_t c : utf8_decode(to_str(v))) {
      const bool w = c == '_' || u_isalnum(static_cast<UChar32>(c));
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value(n);
  }
  if (name == "attr") {
    Args a(call, name, {"name"});
    const std::string attr = to_str(a.required(0));
    if (v.is_namespace()) {
      if (const Value* x = v.as_namespace().attrs.find(attr)) return *x;
      return Value(Undefined{attr});
    }
    if (has_method(v, attr)) return in.getattr(v, attr);
    return Value(Undefined{attr});
  }
  if (name == "sort") {
    Args a(call, name, {"reverse", "case_sensitive", "attribute"});
    const bool rev = a.flag(0, false), cs = a.flag(1, false);
    const Value attribute = a.get(2);
    std::vector<Value> items = iterate(v);
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t i = 0; i < items.size(); ++i)
      keyed.emplace_back(fold_case(attribute.is_none() ? items[i] : attr_path(in, items[i], attribute), cs), i);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
      return rev ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
    });
    std::vector<Value> out;
    for (const auto& k : keyed) out.push_back(items[k.second]);
    return Value::list(std::move(out));
  }
  if (name == "dictsort") {
    Args a(call, name, {"case_sensitive", "by", "reverse"});
    const bool cs = a.flag(0, false), rev = a.flag(2, false);
    const std::string by = a.str(1, "key");
    if (by != "key" && by != "value") throw RuntimeError("You can only sort by either \"key\" or \"value\"");
    std::vector<Value> items = items_of(v);
    const size_t pos = by == "key" ? 0 : 1;
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      const Value kx = fold_case(x.as_list().items[pos], cs), ky = fold_case(y.as_list().items[pos], cs);
      return rev ? compare(ky, kx) < 0 : compare(kx, ky) < 0;
    });
    return Value::list(std::move(items));
  }
  if (name == "unique") {
    Args a(call, name, {"case_sensitive", "attribute"});
    const bool cs = a.flag(0, false);
    const Value attribute = a.get(1);
    std::vector<Value> out, seen;
    for (const auto& item : iterate(v)) {
      Value k = fold_case(attribute.is_none() ? item : attr_path(in, item, attribute), cs);
      bool dup = false;
      for (const auto& s : seen) dup = dup || equals(s, k);
      if (!dup) {
        seen.push_back(std::move(k));
        out.push_back(item);
      }
    }
    return Value::list(std::move(out));
  }
  if (name == "max" || name == "min") {
    Args a(call, name, {"case_sensitive", "attribute"});
    return minmax(in, v, a, name == "max");
  }
  if (name == "sum") {
    Args a(call, name, {"attribute", "start"});
    const Value attribute = a.get(0);
    Value total = a.get(1, Value(int64_t{0}));
    for (const auto& item : iterate(v))
      total = ops::binary("+", total, attribute.is_none() ? item : attr_path(in, item, attribute), size_t{64} << 20);
    return total;
  }
  if (name == "select" || name == "reject") return Value::list(select_items(in, v, call, false, name == "select"));
  if (name == "selectattr" || name == "rejectattr")
    return Value::list(select_items(in, v, call, true, name == "selectattr"));
  if (name == "map") {
    std::vector<Value> out;
    const Value* attribute = nullptr;
    const Value* dflt = nullptr;
    for (const auto& kw : call.kwargs) {
      if (kw.first == "attribute") attribute = &kw.second;
      else if (kw.first == "default") dflt = &kw.second;
    }
    if (attribute) {
      for (const auto& item : iterate(v)) {
        Value x = attr_path(in, item, *attribute);
        out.push_back(dflt && x.is_undefined() ? *dflt : x);
      }
      return Value::list(std::move(out));
    }
    if (call.args.empty()) throw RuntimeError("map() needs a filter name or attribute=");
    const std::string fname = to_str(call.args[0]);
    CallArgs fargs;
    fargs.args.assign(call.args.begin() + 1, call.args.end());
    fargs.kwargs = call.kwargs;
    for (const auto& item : iterate(v)) {
      CallArgs copy = fargs;
      out.push_back(in.filter(fname, item, copy));
    }
    return Value::list(std::move(out));
  }
  static const char* const kKnownUnsupported[] = {
      "batch", "center", "filesizeformat", "forceescape", "format", "groupby", "pprint", "random",
      "slice", "striptags", "truncate", "urlencode", "urlize", "wordwrap", "xmlattr"};
  for (const char* u : kKnownUnsupported)
    if (name == u) throw UnsupportedError("the '" + name + "' filter");
  throw UnsupportedError("the filter '" + name + "' (not a Jinja built-in breadth knows)");
}

// ------------------------------------------------------------------ tests

bool builtin_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  auto arg = [&](const char* what) -> Value {
    Args a(call, name, {what});
    return a.required(0);
  };
  auto noargs = [&] { Args a(call, name, {}); };
  if (name == "defined") return noargs(), !v.is_undefined();
  if (name == "undefined") return noargs(), v.is_undefined();
  if (name == "none") return noargs(), v.is_none();
  if (name == "boolean") return noargs(), v.is_bool();
  if (name == "true") return noargs(), v.is_bool() && v.as_bool();
  if (name == "false") return noargs(), v.is_bool() && !v.as_bool();
  if (name == "integer") return noargs(), v.is_int();
  if (name == "float") return noargs(), v.is_float();
  if (name == "number") return noargs(), v.is_number();
  if (name == "string") return noargs(), v.is_string();
  if (name == "mapping") return noargs(), v.is_dict();
  if (name == "iterable" || name == "sequence")
    return noargs(), v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  // Jinja's Undefined defines __call__ (to raise), so Python's callable() says True for it.
  if (name == "callable") return noargs(), v.is_callable() || v.is_undefined();
  if (name == "escaped") return noargs(), false;
  if (name == "lower") return noargs(), py_iscase(to_str(v), true);
  if (name == "upper") return noargs(), py_iscase(to_str(v), false);
  if (name == "odd" || name == "even") {
    noargs();
    const Value r = ops::binary("%", v, Value(int64_t{2}), 0);
    return equals(r, Value(int64_t{name == "odd" ? 1 : 0}));
  }
  if (name == "divisibleby") return equals(ops::binary("%", v, arg("num"), 0), Value(int64_t{0}));
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, arg("other"));
  if (name == "ne" || name == "!=") return !equals(v, arg("other"));
  if (name == "lt" || name == "lessthan" || name == "<") return ops::compare("<", v, arg("other"));
  if (name == "le" || name == "<=") return ops::compare("<=", v, arg("other"));
  if (name == "gt" || name == "greaterthan" || name == ">") return ops::compare(">", v, arg("other"));
  if (name == "ge" || name == ">=") return ops::compare(">=", v, arg("other"));
  if (name == "in") return ops::contains(arg("seq"), v);
  if (name == "sameas") {
    const Value o = arg("other");
    if (v.is_none() || v.is_bool() || v.is_undefined()) return equals(v, o) && type_name(v) == type_name(o);
    if (v.is_list() || v.is_dict() || v.is_namespace() || v.is_callable())
      return v.storage().index() == o.storage().index() && std::visit(
          [&](const auto& x) -> bool {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Value::ListPtr> || std::is_same_v<T, Value::DictPtr> ||
                          std::is_same_v<T, Value::NamespacePtr> || std::is_same_v<T, Value::CallablePtr>)
              return x == std::get<T>(o.storage());
            else
              return false;
          },
          v.storage());
    return equals(v, o) && type_name(v) == type_name(o);
  }
  // `'trim' is filter`: whether the value names a filter (or a test).
  if (name == "filter") return noargs(), v.is_string() && is_builtin_filter(v.as_string());
  if (name == "test") return noargs(), v.is_string() && is_builtin_test(v.as_string());
  (void)in;
  throw UnsupportedError("the test '" + name + "'");
}

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
