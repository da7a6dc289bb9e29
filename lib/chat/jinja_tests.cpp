// Jinja's built-in tests (`value is name(args)`), as a table from name to function; aliases
// ("equalto", "==", "lessthan", ...) share their test's function. Each behaves as Jinja2's test does.
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "chat/jinja_builtins.hpp"
#include "chat/jinja_interpreter.hpp"
#include "chat/jinja_ops.hpp"

namespace breadth::jinja {

namespace {

using namespace builtins;

// The test's one required argument, `what` in messages.
Value arg(const std::string& name, CallArgs& call, const char* what) {
  Args a(call, name, {what});
  return a.required(0);
}
// Checks that the test was given no arguments.
void noargs(const std::string& name, CallArgs& call) { Args a(call, name, {}); }

// ------------------------------------------------------------------ tests

// Each test gets the name it was called by (for messages), the value and the call's arguments.
using TestFn = bool (*)(Interpreter& in, const std::string& name, const Value& v, CallArgs& call);

// types and values

bool test_defined(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), !v.is_undefined();
}

bool test_undefined(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_undefined();
}

bool test_none(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_none();
}

bool test_boolean(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_bool();
}

bool test_true(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_bool() && v.as_bool();
}

bool test_false(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_bool() && !v.as_bool();
}

bool test_integer(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_int();
}

bool test_float(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_float();
}

bool test_number(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_number();
}

bool test_string(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_string();
}

bool test_mapping(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_dict();
}

bool test_iterable(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
}

// Jinja's Undefined defines __call__ (to raise), so Python's callable() says True for it.
bool test_callable(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_callable() || v.is_undefined();
}

bool test_escaped(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), false;
}

// strings and numbers

bool test_lower(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), py_iscase(to_str(v), true);
}

bool test_upper(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), py_iscase(to_str(v), false);
}

bool test_odd_even(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  noargs(name, call);
  const Value r = ops::binary("%", v, Value(int64_t{2}), 0);
  return equals(r, Value(int64_t{name == "odd" ? 1 : 0}));
}

bool test_divisibleby(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return equals(ops::binary("%", v, arg(name, call, "num"), 0), Value(int64_t{0}));
}

// comparisons

bool test_eq(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return equals(v, arg(name, call, "other"));
}

bool test_ne(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return !equals(v, arg(name, call, "other"));
}

bool test_lt(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return ops::compare("<", v, arg(name, call, "other"));
}

bool test_le(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return ops::compare("<=", v, arg(name, call, "other"));
}

bool test_gt(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return ops::compare(">", v, arg(name, call, "other"));
}

bool test_ge(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return ops::compare(">=", v, arg(name, call, "other"));
}

bool test_in(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return ops::contains(arg(name, call, "seq"), v);
}

bool test_sameas(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  const Value o = arg(name, call, "other");
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

// names of built-ins: `'trim' is filter` says whether the value names a filter (or a test)

bool test_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_string() && is_builtin_filter(v.as_string());
}

bool test_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  return noargs(name, call), v.is_string() && is_builtin_test(v.as_string());
}

// ------------------------------------------------------------------ the table

const std::unordered_map<std::string_view, TestFn>& test_table() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      // types and values
      {"defined", test_defined},
      {"undefined", test_undefined},
      {"none", test_none},
      {"boolean", test_boolean},
      {"true", test_true},
      {"false", test_false},
      {"integer", test_integer},
      {"float", test_float},
      {"number", test_number},
      {"string", test_string},
      {"mapping", test_mapping},
      {"iterable", test_iterable},
      {"sequence", test_iterable},
      {"callable", test_callable},
      {"escaped", test_escaped},
      // strings and numbers
      {"lower", test_lower},
      {"upper", test_upper},
      {"odd", test_odd_even},
      {"even", test_odd_even},
      {"divisibleby", test_divisibleby},
      // comparisons
      {"eq", test_eq},
      {"equalto", test_eq},
      {"==", test_eq},
      {"ne", test_ne},
      {"!=", test_ne},
      {"lt", test_lt},
      {"lessthan", test_lt},
      {"<", test_lt},
      {"le", test_le},
      {"<=", test_le},
      {"gt", test_gt},
      {"greaterthan", test_gt},
      {">", test_gt},
      {"ge", test_ge},
      {">=", test_ge},
      {"in", test_in},
      {"sameas", test_sameas},
      // names of built-ins
      {"filter", test_filter},
      {"test", test_test},
  };
  return table;
}

}  // namespace

bool is_builtin_test(std::string_view name) { return test_table().count(name) > 0; }

bool builtin_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& call) {
  const auto& table = test_table();
  if (const auto it = table.find(name); it != table.end()) return it->second(in, name, v, call);
  throw UnsupportedError("the test '" + name + "'");
}

}  // namespace breadth::jinja
