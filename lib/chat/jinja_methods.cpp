// The Python str, dict, list and tuple methods templates call (`obj.name(args)`), as one table per
// type from name to function. A table lists every Python method of its type, so that `obj.name` is the
// method rather than an item (has_method); the ones outside the subset say so when called, and
// those that would modify a dict or list fail as Jinja's sandbox makes them fail.
#include <unicode/uchar.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_interpreter.hpp"

namespace breadth::jinja {

namespace {

using namespace builtins;

// ------------------------------------------------------------------ string helpers

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

// ------------------------------------------------------------------ methods

// Each method gets the object, the name it was called by, "type.name" (for messages) and the call's
// arguments.
using MethodFn = Value (*)(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call);
using MethodTable = std::unordered_map<std::string_view, MethodFn>;

// str

Value str_strip(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"chars"});
  const Value chars = a.get(0);
  return Value(py_strip(s, &chars, name != "rstrip", name != "lstrip"));
}

Value str_startswith(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
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

Value str_split(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"sep", "maxsplit"});
  return Value::list(py_split(s, a.get(0), need_int(a.get(1, Value(int64_t{-1})), "maxsplit"), name == "rsplit"));
}

Value str_upper(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  return Args(call, qual, {}), Value(py_upper(s));
}

Value str_lower(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  return Args(call, qual, {}), Value(py_lower(s));
}

Value str_title(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  return Args(call, qual, {}), Value(py_title(s));
}

Value str_capitalize(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  return Args(call, qual, {}), Value(py_capitalize(s));
}

Value str_replace(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"old", "new", "count"});
  return Value(py_replace(s, need_str(a.required(0), "replace"), need_str(a.required(1), "replace"),
                          need_int(a.get(2, Value(int64_t{-1})), "replace")));
}

Value str_find(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
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

Value str_count(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"sub"});
  const std::string& sub = need_str(a.required(0), "count");
  if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
  int64_t n = 0;
  for (size_t f = s.find(sub); f != std::string::npos; f = s.find(sub, f + sub.size())) ++n;
  return Value(n);
}

Value str_join(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
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

Value str_splitlines(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"keepends"});
  std::vector<Value> out;
  for (auto& l : py_splitlines(s, a.flag(0, false))) out.emplace_back(std::move(l));
  return Value::list(std::move(out));
}

Value str_removeprefix(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  Args a(call, qual, {"affix"});
  const std::string& x = need_str(a.required(0), name.c_str());
  if (name == "removeprefix") return Value(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
  return Value(x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0
                   ? s.substr(0, s.size() - x.size()) : s);
}

Value str_isclass(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
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

Value str_iscase(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const std::string& s = obj.as_string();
  return Args(call, qual, {}), Value(py_iscase(s, name == "islower"));
}

// A str method outside the subset.
Value str_unsupported(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  throw UnsupportedError("the string method '" + name + "'");
}

// dict

Value dict_items(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  return Args(call, qual, {}), Value::list(items_of(obj));
}

Value dict_keys(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  return Args(call, qual, {}), Value::list(iterate(obj));
}

Value dict_values(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const Dict& d = obj.as_dict();
  Args a(call, qual, {});
  std::vector<Value> out;
  for (const auto& kv : d.items) out.push_back(kv.second);
  return Value::list(std::move(out));
}

Value dict_get(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const Dict& d = obj.as_dict();
  Args a(call, qual, {"key", "default"});
  const Value& k = a.required(0);
  if (k.is_string())
    if (const Value* x = d.find(k.as_string())) return *x;
  return a.get(1);
}

// list and tuple

Value list_index(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const auto& items = obj.as_list().items;
  Args a(call, qual, {"value"});
  for (size_t i = 0; i < items.size(); ++i)
    if (equals(items[i], a.required(0))) return Value(static_cast<int64_t>(i));
  throw RuntimeError("value is not in list");
}

Value list_count(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  const auto& items = obj.as_list().items;
  Args a(call, qual, {"value"});
  int64_t n = 0;
  for (const auto& x : items) n += equals(x, a.required(0)) ? 1 : 0;
  return Value(n);
}

// dict and list

Value copy(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  return Args(call, qual, {}), obj;
}

// A dict or list method that modifies the object: the sandbox refuses it.
Value unsafe(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  throw RuntimeError("access to attribute '" + name + "' of '" + type_name(obj) +
                     "' object is unsafe (templates cannot modify lists or dicts)");
}

// A dict or list method outside the subset.
Value unsupported(const Value& obj, const std::string& name, const std::string& qual, CallArgs& call) {
  throw UnsupportedError("the method '" + qual + "'");
}

// ------------------------------------------------------------------ the tables

const MethodTable& str_methods() {
  static const MethodTable table = {
      // case
      {"upper", str_upper},
      {"lower", str_lower},
      {"casefold", str_lower},
      {"title", str_title},
      {"capitalize", str_capitalize},
      // whitespace, affixes and pieces
      {"strip", str_strip},
      {"lstrip", str_strip},
      {"rstrip", str_strip},
      {"startswith", str_startswith},
      {"endswith", str_startswith},
      {"removeprefix", str_removeprefix},
      {"removesuffix", str_removeprefix},
      {"split", str_split},
      {"rsplit", str_split},
      {"splitlines", str_splitlines},
      {"join", str_join},
      {"replace", str_replace},
      // search
      {"find", str_find},
      {"rfind", str_find},
      {"index", str_find},
      {"rindex", str_find},
      {"count", str_count},
      // character classes
      {"isspace", str_isclass},
      {"isdigit", str_isclass},
      {"isalpha", str_isclass},
      {"isalnum", str_isclass},
      {"isdecimal", str_isclass},
      {"isnumeric", str_isclass},
      {"islower", str_iscase},
      {"isupper", str_iscase},
      // outside the subset
      {"center", str_unsupported},
      {"encode", str_unsupported},
      {"expandtabs", str_unsupported},
      {"format", str_unsupported},
      {"format_map", str_unsupported},
      {"isascii", str_unsupported},
      {"isidentifier", str_unsupported},
      {"isprintable", str_unsupported},
      {"istitle", str_unsupported},
      {"ljust", str_unsupported},
      {"maketrans", str_unsupported},
      {"partition", str_unsupported},
      {"rjust", str_unsupported},
      {"rpartition", str_unsupported},
      {"swapcase", str_unsupported},
      {"translate", str_unsupported},
      {"zfill", str_unsupported},
  };
  return table;
}

const MethodTable& dict_methods() {
  static const MethodTable table = {
      {"items", dict_items},
      {"keys", dict_keys},
      {"values", dict_values},
      {"get", dict_get},
      {"copy", copy},
      // modifying
      {"clear", unsafe},
      {"pop", unsafe},
      {"popitem", unsafe},
      {"setdefault", unsafe},
      {"update", unsafe},
      // outside the subset
      {"fromkeys", unsupported},
  };
  return table;
}

const MethodTable& list_methods() {
  static const MethodTable table = {
      {"index", list_index},
      {"count", list_count},
      {"copy", copy},
      // modifying
      {"append", unsafe},
      {"clear", unsafe},
      {"extend", unsafe},
      {"insert", unsafe},
      {"pop", unsafe},
      {"remove", unsafe},
      {"reverse", unsafe},
      {"sort", unsafe},
  };
  return table;
}

// A tuple has only list's two non-modifying methods.
const MethodTable& tuple_methods() {
  static const MethodTable table = {
      {"index", list_index},
      {"count", list_count},
  };
  return table;
}

// The methods of obj's Python type; null for types whose methods templates cannot call.
const MethodTable* methods_of(const Value& obj) {
  if (obj.is_string()) return &str_methods();
  if (obj.is_dict()) return &dict_methods();
  if (obj.is_list()) return obj.as_list().tuple ? &tuple_methods() : &list_methods();
  return nullptr;
}

}  // namespace

bool has_method(const Value& obj, std::string_view name) {
  const MethodTable* methods = methods_of(obj);
  return methods && methods->count(name) > 0;
}

Value call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& call) {
  (void)in;
  const std::string qual = type_name(obj) + "." + name;
  if (const MethodTable* methods = methods_of(obj))
    if (const auto it = methods->find(name); it != methods->end()) return it->second(obj, name, qual, call);
  // Only reached for names has_method rejects (getattr never calls those).
  if (obj.is_string()) return str_unsupported(obj, name, qual, call);
  return unsupported(obj, name, qual, call);
}

}  // namespace breadth::jinja
