#include "chat/jinja_ops.hpp"

#include <cmath>
#include <limits>

namespace breadth::jinja::ops {

namespace {

[[noreturn]] void undefined_error(const Value& v) {
  const std::string& n = v.as_undefined().name;
  throw RuntimeError(n.empty() ? std::string("value is undefined") : "'" + n + "' is undefined");
}

[[noreturn]] void operand_error(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  throw RuntimeError("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" +
                     type_name(b) + "'");
}

[[noreturn]] void overflow() { throw RuntimeError("integer result beyond 64 bits"); }

int64_t floor_div(int64_t a, int64_t b) {
  if (b == 0) throw RuntimeError("integer division or modulo by zero");
  if (a == std::numeric_limits<int64_t>::min() && b == -1) overflow();
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t py_mod(int64_t a, int64_t b) {
  if (b == 0) throw RuntimeError("integer division or modulo by zero");
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

double py_fmod(double a, double b) {
  if (b == 0.0) throw RuntimeError("float modulo");
  double r = std::fmod(a, b);
  if (r != 0.0 && ((r < 0) != (b < 0))) r += b;
  if (r == 0.0) r = std::copysign(0.0, b);
  return r;
}

Value repeat(const Value& seq, int64_t times, size_t max_bytes) {
  if (times <= 0) return seq.is_string() ? Value(std::string()) : Value::list({}, seq.as_list().tuple);
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > max_bytes / s.size())
      throw RuntimeError("string repetition result is too large");
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  const auto& items = seq.as_list().items;
  if (!items.empty() && static_cast<uint64_t>(times) > max_bytes / (items.size() * sizeof(Value)))
    throw RuntimeError("list repetition result is too large");
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.as_list().tuple);
}

}  // namespace

Value negate(const Value& v) {
  if (v.is_undefined()) undefined_error(v);
  if (v.is_float()) return Value(-v.as_float());
  if (v.is_int() || v.is_bool()) {
    const int64_t i = v.to_int();
    if (i == std::numeric_limits<int64_t>::min()) overflow();
    return Value(-i);
  }
  throw RuntimeError("bad operand type for unary -: '" + type_name(v) + "'");
}

Value binary(const std::string& op, const Value& a, const Value& b, size_t max_bytes) {
  if (op == "~") return Value(to_str(a) + to_str(b));
  const bool nums = a.is_number() && b.is_number();
  const bool floats = nums && (a.is_float() || b.is_float());
  if (op == "+") {
    if (floats) return Value(a.to_double() + b.to_double());
    if (nums) {
      int64_t r;
      if (__builtin_add_overflow(a.to_int(), b.to_int(), &r)) overflow();
      return Value(r);
    }
    if (a.is_string() && b.is_string()) {
      if (a.as_string().size() + b.as_string().size() > max_bytes) throw RuntimeError("string too large");
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.as_list().tuple == b.as_list().tuple) {
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().tuple);
    }
    if (a.is_string() && !b.is_undefined() && !a.is_undefined())
      throw RuntimeError("can only concatenate str (not \"" + type_name(b) + "\") to str");
    operand_error(op, a, b);
  }
  if (op == "-") {
    if (floats) return Value(a.to_double() - b.to_double());
    if (nums) {
      int64_t r;
      if (__builtin_sub_overflow(a.to_int(), b.to_int(), &r)) overflow();
      return Value(r);
    }
    operand_error(op, a, b);
  }
  if (op == "*") {
    if (floats) return Value(a.to_double() * b.to_double());
    if (nums) {
      int64_t r;
      if (__builtin_mul_overflow(a.to_int(), b.to_int(), &r)) overflow();
      return Value(r);
    }
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b.to_int(), max_bytes);
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a.to_int(), max_bytes);
    operand_error(op, a, b);
  }
  if (op == "/") {
    if (nums) {
      if (b.to_double() == 0.0) throw RuntimeError("division by zero");
      return Value(a.to_double() / b.to_double());
    }
    operand_error(op, a, b);
  }
  if (op == "//") {
    if (floats) {
      if (b.to_double() == 0.0) throw RuntimeError("float floor division by zero");
      return Value(std::floor(a.to_double() / b.to_double()));
    }
    if (nums) return Value(floor_div(a.to_int(), b.to_int()));
    operand_error(op, a, b);
  }
  if (op == "%") {
    if (floats) return Value(py_fmod(a.to_double(), b.to_double()));
    if (nums) return Value(py_mod(a.to_int(), b.to_int()));
    if (a.is_string()) throw UnsupportedError("printf-style string formatting ('...' % args)");
    operand_error(op, a, b);
  }
  if (op == "**") {
    if (nums && !floats && b.to_int() >= 0) {
      int64_t base = a.to_int(), e = b.to_int(), r = 1;
      while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(r, base, &r)) overflow();
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
      }
      return Value(r);
    }
    if (nums) {
      if (a.to_double() == 0.0 && b.to_double() < 0) throw RuntimeError("0.0 cannot be raised to a negative power");
      return Value(std::pow(a.to_double(), b.to_double()));
    }
    operand_error(op, a, b);
  }
  throw RuntimeError("unknown operator " + op);
}

bool contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string()) {
      if (needle.is_undefined()) undefined_error(needle);
      throw RuntimeError("'in <string>' requires string as left operand, not " + type_name(needle));
    }
    return haystack.as_string().find(needle.as_string()) != std::string::npos;
  }
  if (haystack.is_list()) {
    for (const auto& item : haystack.as_list().items)
      if (equals(item, needle)) return true;
    return false;
  }
  if (haystack.is_dict()) return needle.is_string() && haystack.as_dict().find(needle.as_string()) != nullptr;
  if (haystack.is_undefined()) return false;  // Jinja's Undefined iterates as empty
  throw RuntimeError("argument of type '" + type_name(haystack) + "' is not iterable");
}

bool compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  int c;
  try {
    c = jinja::compare(a, b);
  } catch (const RuntimeError&) {
    throw RuntimeError("'" + op + "' not supported between instances of '" + type_name(a) + "' and '" +
                       type_name(b) + "'");
  }
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (!obj.is_string() && !obj.is_list()) return Value(Undefined{"slice"});
  auto as_index = [](const Value& v, bool& given) -> int64_t {
    given = !v.is_none();
    if (!given) return 0;
    if (!v.is_int() && !v.is_bool()) throw RuntimeError("slice indices must be integers or None");
    return v.to_int();
  };
  bool has_start, has_stop, has_step;
  int64_t st = 1;
  const int64_t b0 = as_index(start, has_start);
  const int64_t e0 = as_index(stop, has_stop);
  if (step.is_none()) {
    has_step = false;
  } else {
    st = as_index(step, has_step);
    if (st == 0) throw RuntimeError("slice step cannot be zero");
  }
  std::u32string cps;
  const std::vector<Value>* items = nullptr;
  int64_t len;
  if (obj.is_string()) {
    cps = utf8_decode(obj.as_string());
    len = static_cast<int64_t>(cps.size());
  } else {
    items = &obj.as_list().items;
    len = static_cast<int64_t>(items->size());
  }
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](int64_t v, bool given, int64_t dflt) -> int64_t {
    if (!given) return dflt;
    if (v < 0) {
      v += len;
      if (v < 0) v = st < 0 ? -1 : 0;
    } else if (v >= len) {
      v = st < 0 ? len - 1 : len;
    }
    return v;
  };
  const int64_t b = adjust(b0, has_start, st < 0 ? len - 1 : 0);
  const int64_t e = adjust(e0, has_stop, st < 0 ? -1 : len);
  std::u32string out_s;
  std::vector<Value> out_l;
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    if (obj.is_string()) out_s.push_back(cps[static_cast<size_t>(i)]);
    else out_l.push_back((*items)[static_cast<size_t>(i)]);
    if (__builtin_add_overflow(i, st, &i)) break;
  }
  if (obj.is_string()) return Value(utf8_encode(out_s));
  return Value::list(std::move(out_l), obj.as_list().tuple);
}

}  // namespace breadth::jinja::ops
