// Values of the Jinja subset that renders chat templates.
//
// Chat templates are Python code in disguise: transformers renders them with Jinja2, so every value
// behaves like the Python object Jinja would hold (str/int/float/bool/None/list/tuple/dict, Jinja's
// Undefined and namespace). Printing, equality, ordering, truthiness and JSON follow Python exactly,
// because a template's output is compared byte for byte with transformers' rendering.
//
// Lists and dicts are immutable once built (transformers renders in an ImmutableSandboxedEnvironment,
// which forbids `append` and friends); only a namespace() changes, through `{% set ns.x = ... %}`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace breadth::jinja {

class Value;

/// A lookup that found nothing. Prints as "", iterates as empty, is falsy; most operations on it fail.
struct Undefined {
  std::string name;  ///< what was looked up, for error messages
};
struct None {};

struct List {
  std::vector<Value> items;
  bool tuple = false;  ///< prints as (a, b) instead of [a, b]
};

/// Insertion-ordered string-keyed mapping (Python dicts keep insertion order; tojson relies on it).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  /// Inserts or replaces, keeping the original position of an existing key.
  void set(std::string key, Value value);
};

/// The mutable object made by namespace(); the one place where templates keep state across loops.
struct Namespace {
  Dict attrs;
};

class Interpreter;
/// Arguments of a call: positional then keyword, as written.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};
/// A global function, a bound method or a macro.
struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

/// Errors raised while evaluating; the interpreter adds the template location and turns them into
/// breadth::Error subclasses.
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A construct outside the supported subset (an unknown filter, test, method or function).
struct UnsupportedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// raise_exception() called by the template: the conversation is not one the template accepts.
struct RaisedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  using ListPtr = std::shared_ptr<const List>;
  using DictPtr = std::shared_ptr<const Dict>;
  using NamespacePtr = std::shared_ptr<Namespace>;
  using CallablePtr = std::shared_ptr<const Callable>;
  using Storage = std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr, DictPtr,
                               NamespacePtr, CallablePtr>;

  Value() : v_(Undefined{}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(None) : v_(None{}) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(List l) : v_(std::make_shared<const List>(std::move(l))) {}
  Value(Dict d) : v_(std::make_shared<const Dict>(std::move(d))) {}
  Value(NamespacePtr n) : v_(std::move(n)) {}
  Value(Callable c) : v_(std::make_shared<const Callable>(std::move(c))) {}

  static Value list(std::vector<Value> items, bool tuple = false) {
    return Value(List{std::move(items), tuple});
  }

  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_none() const { return std::holds_alternative<None>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  /// int, float or bool (Python's bool is an int).
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<ListPtr>(v_); }
  bool is_dict() const { return std::holds_alternative<DictPtr>(v_); }
  bool is_namespace() const { return std::holds_alternative<NamespacePtr>(v_); }
  bool is_callable() const { return std::holds_alternative<CallablePtr>(v_); }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return *std::get<ListPtr>(v_); }
  const Dict& as_dict() const { return *std::get<DictPtr>(v_); }
  Namespace& as_namespace() const { return *std::get<NamespacePtr>(v_); }
  const Callable& as_callable() const { return *std::get<CallablePtr>(v_); }
  const Undefined& as_undefined() const { return std::get<Undefined>(v_); }

  /// Integer value of an int or bool (Python treats True as 1).
  int64_t to_int() const { return is_bool() ? (as_bool() ? 1 : 0) : as_int(); }
  /// Numeric value of an int, float or bool.
  double to_double() const;

  const Storage& storage() const { return v_; }

 private:
  Storage v_;
};

/// Python's type name of the value ("str", "int", "list", "NoneType", "Undefined", ...).
std::string type_name(const Value& v);
/// Python truthiness (Undefined is falsy, like Jinja's).
bool truthy(const Value& v);
/// Python `str(v)`, as `{{ v }}` prints it (Undefined prints as the empty string).
std::string to_str(const Value& v);
/// Python `repr(v)`.
std::string repr(const Value& v);
/// Python `==` (1 == 1.0 == True; lists and dicts by content).
bool equals(const Value& a, const Value& b);
/// Python ordering for `<` and sorting: numbers with numbers, strings with strings (by code point),
/// lists lexicographically. Throws RuntimeError for anything else. Returns <0, 0 or >0.
int compare(const Value& a, const Value& b);
/// Python's repr of a float (shortest round-trip digits, "1.0", "1e+16", "inf", "nan").
std::string float_repr(double d);

struct JsonOptions {
  std::optional<std::string> indent;  ///< nullopt: one line; otherwise the string for one level
  std::string item_separator = ", ";  ///< Python's default; "," when indenting
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;  ///< transformers' tojson passes ensure_ascii=False
};
/// Python's json.dumps(v, ...) as transformers' tojson filter calls it.
std::string to_json(const Value& v, const JsonOptions& options);

/// Number of code points in a UTF-8 string (Python's len(str)).
size_t utf8_length(std::string_view s);
/// The code points of `s` (invalid bytes become U+FFFD).
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
/// Python's str.isspace() for one code point (what strip()/split() remove).
bool py_isspace(char32_t c);

}  // namespace breadth::jinja
