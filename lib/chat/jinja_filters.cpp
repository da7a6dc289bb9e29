// Jinja's built-in filters (`value | name(args)`), as a table from name to function; aliases ("d",
// "e", "count") share their filter's function. Each behaves as Jinja2's filter of that name does.
#include <unicode/uchar.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_interpreter.hpp"
#include "core/html.hpp"
#include "chat/jinja_ops.hpp"

namespace breadth::jinja {

namespace {

using namespace builtins;

// ------------------------------------------------------------------ helpers

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

// ------------------------------------------------------------------ filters

// Each filter gets the name it was called by (for messages), the value and the call's arguments.
using FilterFn = Value (*)(Interpreter& in, const std::string& name, const Value& v, CallArgs& call);

// strings

Value filter_trim(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"chars"});
  const Value chars = a.get(0);
  return Value(py_strip(to_str(v), &chars, true, true));
}

Value filter_upper(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(py_upper(to_str(v)));
}

Value filter_lower(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(py_lower(to_str(v)));
}

Value filter_capitalize(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(py_capitalize(to_str(v)));
}

Value filter_title(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(jinja_title(to_str(v)));
}

Value filter_replace(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"old", "new", "count"});
  const Value count = a.get(2);
  return Value(py_replace(to_str(v), to_str(a.required(0)), to_str(a.required(1)),
                          count.is_none() ? -1 : need_int(count, "replace")));
}

Value filter_escape(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(html_escape(to_str(v)));
}

Value filter_indent(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"width", "first", "blank"});
  return Value(do_indent(to_str(v), a.get(0, Value(int64_t{4})), a.flag(1, false), a.flag(2, false)));
}

Value filter_wordcount(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_string(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(to_str(v));
}

Value filter_safe(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return v.is_string() ? v : Value(to_str(v));
}

// numbers

Value filter_abs(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    const int64_t i = v.to_int();
    if (i == INT64_MIN) throw RuntimeError("integer result beyond 64 bits");
    return Value(i < 0 ? -i : i);
  }
  throw RuntimeError("bad operand type for abs(): '" + type_name(v) + "'");
}

Value filter_int(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_float(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"default"});
  const Value dflt = a.get(0, Value(0.0));
  if (v.is_number()) return Value(v.to_double());
  double d;
  if (v.is_string() && parse_py_float(v.as_string(), d)) return Value(d);
  return dflt;
}

Value filter_round(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"precision", "method"});
  return do_round(v, need_int(a.get(0, Value(int64_t{0})), "round"), a.str(1, "common"));
}

// sequences and mappings

Value filter_length(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value(py_len(v));
}

Value filter_first(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  const std::vector<Value> items = iterate(v);
  return items.empty() ? Value(Undefined{"first"}) : items.front();
}

Value filter_last(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  if (!v.is_list() && !v.is_string() && !v.is_dict() && !v.is_undefined())
    throw RuntimeError("'" + type_name(v) + "' object is not reversible");
  const std::vector<Value> items = iterate(v);
  return items.empty() ? Value(Undefined{"last"}) : items.back();
}

Value filter_reverse(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_list(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value::list(iterate(v));
}

Value filter_items(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {});
  return Value::list(items_of(v));
}

Value filter_join(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_sort(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_dictsort(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_unique(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_minmax(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"case_sensitive", "attribute"});
  return minmax(in, v, a, name == "max");
}

Value filter_sum(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"attribute", "start"});
  const Value attribute = a.get(0);
  Value total = a.get(1, Value(int64_t{0}));
  for (const auto& item : iterate(v))
    total = ops::binary("+", total, attribute.is_none() ? item : attr_path(in, item, attribute), size_t{64} << 20);
  return total;
}

// values and attributes

Value filter_default(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"default_value", "boolean"});
  const bool boolean = a.flag(1, false);
  if (v.is_undefined() || (boolean && !truthy(v))) return a.get(0, Value(std::string()));
  return v;
}

Value filter_attr(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  Args a(call, name, {"name"});
  const std::string attr = to_str(a.required(0));
  if (v.is_namespace()) {
    if (const Value* x = v.as_namespace().attrs.find(attr)) return *x;
    return Value(Undefined{attr});
  }
  if (has_method(v, attr)) return in.getattr(v, attr);
  return Value(Undefined{attr});
}

// higher order (a filter or test per item)

Value filter_map(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

Value filter_select(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return Value::list(select_items(in, v, call, false, name == "select"));
}

Value filter_selectattr(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return Value::list(select_items(in, v, call, true, name == "selectattr"));
}

// serialization

Value filter_tojson(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
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

// ------------------------------------------------------------------ the table

const std::unordered_map<std::string_view, FilterFn>& filter_table() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      // strings
      {"trim", filter_trim},
      {"upper", filter_upper},
      {"lower", filter_lower},
      {"capitalize", filter_capitalize},
      {"title", filter_title},
      {"replace", filter_replace},
      {"escape", filter_escape},
      {"e", filter_escape},
      {"indent", filter_indent},
      {"wordcount", filter_wordcount},
      {"string", filter_string},
      {"safe", filter_safe},
      // numbers
      {"abs", filter_abs},
      {"int", filter_int},
      {"float", filter_float},
      {"round", filter_round},
      // sequences and mappings
      {"length", filter_length},
      {"count", filter_length},
      {"first", filter_first},
      {"last", filter_last},
      {"reverse", filter_reverse},
      {"list", filter_list},
      {"items", filter_items},
      {"join", filter_join},
      {"sort", filter_sort},
      {"dictsort", filter_dictsort},
      {"unique", filter_unique},
      {"max", filter_minmax},
      {"min", filter_minmax},
      {"sum", filter_sum},
      // values and attributes
      {"default", filter_default},
      {"d", filter_default},
      {"attr", filter_attr},
      // higher order
      {"map", filter_map},
      {"select", filter_select},
      {"reject", filter_select},
      {"selectattr", filter_selectattr},
      {"rejectattr", filter_selectattr},
      // serialization
      {"tojson", filter_tojson},
  };
  return table;
}

}  // namespace

bool is_builtin_filter(std::string_view name) { return filter_table().count(name) > 0; }

Value builtin_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  const auto& table = filter_table();
  if (const auto it = table.find(name); it != table.end()) return it->second(in, name, v, call);
  // Jinja2 filters outside the subset get a shorter message than names Jinja2 does not know.
  static const char* const kKnownUnsupported[] = {
      "batch", "center", "filesizeformat", "forceescape", "format", "groupby", "pprint", "random",
      "slice", "striptags", "truncate", "urlencode", "urlize", "wordwrap", "xmlattr"};
  for (const char* u : kKnownUnsupported)
    if (name == u) throw UnsupportedError("the '" + name + "' filter");
  throw UnsupportedError("the filter '" + name + "' (not a Jinja built-in breadth knows)");
}

}  // namespace breadth::jinja
