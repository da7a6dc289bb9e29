#include "chat/jinja_interpreter.hpp"

#include <cmath>
#include <limits>

#include "core/check.hpp"
#include "chat/jinja_ops.hpp"

namespace breadth::jinja {

namespace {

std::string where(const SourcePos& p) { return fmt::format("line {}, column {}", p.line, p.column); }

[[noreturn]] void undefined_error(const Value& v) {
  const std::string& n = v.as_undefined().name;
  throw RuntimeError(n.empty() ? std::string("value is undefined") : "'" + n + "' is undefined");
}

}  // namespace

std::vector<Value> iterate(const Value& v) {
  if (v.is_list()) return v.as_list().items;
  if (v.is_undefined()) return {};
  if (v.is_dict()) {
    std::vector<Value> keys;
    for (const auto& kv : v.as_dict().items) keys.emplace_back(kv.first);
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> chars;
    for (char32_t c : utf8_decode(v.as_string())) chars.emplace_back(utf8_encode(std::u32string(1, c)));
    return chars;
  }
  throw RuntimeError("'" + type_name(v) + "' object is not iterable");
}

void Interpreter::count_step() {
  if (++steps_ > limits_.max_steps)
    throw RuntimeError(fmt::format("rendering exceeded {} steps (an endless or huge loop?)", limits_.max_steps));
}

void Interpreter::append(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits_.max_output_bytes)
    throw RuntimeError(fmt::format("rendered text exceeds {} bytes", limits_.max_output_bytes));
  out.append(text);
}

std::string Interpreter::render(const Program& program, const Dict& context) {
  context_ = &context;
  steps_ = 0;
  call_depth_ = 0;
  auto root = std::make_shared<Scope>();
  std::string out;
  exec(program.body, out, root);
  return out;
}

// ------------------------------------------------------------------ statements

Interpreter::Flow Interpreter::exec(const Body& body, std::string& out, const std::shared_ptr<Scope>& scope) {
  for (const auto& s : body) {
    const Flow f = exec_stmt(*s, out, scope);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope) {
  // Errors raised by the statement itself (limits, unpacking, loops over non-iterables) get its
  // location; those of its expressions already carry theirs and are breadth errors by now.
  try {
    return exec_stmt_impl(s, out, scope);
  } catch (const RuntimeError& err) {
    fail<FormatError>("chat template error at {}: {}", where(s.pos), err.what());
  } catch (const UnsupportedError& err) {
    fail<Unsupported>("chat template {}: {} is not supported by breadth's Jinja subset", where(s.pos), err.what());
  } catch (const RaisedError& err) {
    fail<InvalidArgument>("the chat template rejects this conversation (raise_exception at {}): {}", where(s.pos),
                          err.what());
  }
}

Interpreter::Flow Interpreter::exec_stmt_impl(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope) {
  count_step();
  switch (s.kind) {
    case StmtKind::kText:
      append(out, s.text);
      return Flow::kNormal;
    case StmtKind::kOutput:
      append(out, to_str(eval(*s.expr, scope)));
      return Flow::kNormal;
    case StmtKind::kIf:
      for (size_t i = 0; i < s.conds.size(); ++i)
        if (truthy(eval(*s.conds[i], scope))) return exec(s.bodies[i], out, scope);
      return exec(s.else_body, out, scope);
    case StmtKind::kFor:
      exec_for(s, out, scope);
      return Flow::kNormal;
    case StmtKind::kSet:
      exec_set(s, scope);
      return Flow::kNormal;
    case StmtKind::kSetBlock: {
      std::string captured;
      exec(s.body, captured, scope);
      Value v(std::move(captured));
      if (s.expr) {
        // The filter chain was parsed with a null innermost operand: apply it to the captured text.
        std::vector<const Expr*> chain;
        for (const Expr* f = s.expr.get(); f; f = f->a.get()) chain.push_back(f);
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          CallArgs args = eval_args(**it, scope);
          v = filter((*it)->name, v, args);
        }
      }
      scope->vars.set(s.targets[0], std::move(v));
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      define_macro(s, scope);
      return Flow::kNormal;
    case StmtKind::kWith: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (size_t i = 0; i < s.targets.size(); ++i) inner->vars.set(s.targets[i], eval(*s.conds[i], scope));
      return exec(s.body, out, inner);
    }
    case StmtKind::kFilterBlock: {
      std::string captured;
      const Flow f = exec(s.body, captured, scope);
      Value v(std::move(captured));
      std::vector<const Expr*> chain;
      for (const Expr* e = s.expr.get(); e; e = e->a.get()) chain.push_back(e);
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        CallArgs args = eval_args(**it, scope);
        try {
          v = filter((*it)->name, v, args);
        } catch (const RuntimeError& err) {
          fail<FormatError>("chat template error at {}: {}", where((*it)->pos), err.what());
        } catch (const UnsupportedError& err) {
          fail<Unsupported>("chat template {}: {} is not supported by breadth's Jinja subset",
                            where((*it)->pos), err.what());
        }
      }
      append(out, to_str(v));
      return f;
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kScope:
      return exec(s.body, out, scope);
  }
  return Flow::kNormal;
}

void Interpreter::assign(const std::vector<std::string>& targets, const Value& value, Scope& scope) {
  if (targets.size() == 1) {
    scope.vars.set(targets[0], value);
    return;
  }
  std::vector<Value> items;
  try {
    items = iterate(value);
  } catch (const RuntimeError&) {
    throw RuntimeError("cannot unpack non-iterable " + type_name(value) + " object");
  }
  if (items.size() != targets.size())
    throw RuntimeError(fmt::format("cannot unpack {} values into {} names", items.size(), targets.size()));
  for (size_t i = 0; i < targets.size(); ++i) scope.vars.set(targets[i], items[i]);
}

void Interpreter::exec_set(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  const Value v = eval(*s.expr, scope);
  if (!s.attr.empty()) {
    const Value ns = lookup(s.text, *scope);
    if (!ns.is_namespace())
      fail<FormatError>("chat template error at {}: cannot assign attribute '{}' on '{}', which is not a namespace()",
                        where(s.pos), s.attr, s.text);
    if (!s.attr.empty() && s.attr[0] == '_')
      fail<FormatError>("chat template error at {}: namespace attributes may not start with '_'", where(s.pos));
    ns.as_namespace().attrs.set(s.attr, v);
    return;
  }
  try {
    assign(s.targets, v, *scope);
  } catch (const RuntimeError& err) {
    fail<FormatError>("chat template error at {}: {}", where(s.pos), err.what());
  }
}

void Interpreter::exec_for(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope) {
  std::vector<Value> items;
  try {
    items = iterate(eval(*s.expr, scope));
  } catch (const RuntimeError& err) {
    fail<FormatError>("chat template error at {}: {}", where(s.pos), err.what());
  }
  if (s.cond) {
    // `for x in xs if cond`: Jinja filters first, so loop.index/length count only kept items.
    std::vector<Value> kept;
    for (const auto& item : items) {
      count_step();
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      try {
        assign(s.targets, item, *probe);
      } catch (const RuntimeError& err) {
        fail<FormatError>("chat template error at {}: {}", where(s.pos), err.what());
      }
      if (truthy(eval(*s.cond, probe))) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    count_step();
    auto iter = std::make_shared<Scope>();
    iter->parent = scope;
    Dict loop;
    loop.set("index0", Value(i));
    loop.set("index", Value(i + 1));
    loop.set("revindex0", Value(n - i - 1));
    loop.set("revindex", Value(n - i));
    loop.set("first", Value(i == 0));
    loop.set("last", Value(i == n - 1));
    loop.set("length", Value(n));
    loop.set("depth", Value(int64_t{1}));
    loop.set("depth0", Value(int64_t{0}));
    loop.set("previtem", i > 0 ? items[i - 1] : Value(Undefined{"loop.previtem"}));
    loop.set("nextitem", i + 1 < n ? items[i + 1] : Value(Undefined{"loop.nextitem"}));
    loop.set("cycle", Value(Callable{"loop.cycle", [i](Interpreter&, CallArgs& a) -> Value {
                 if (a.args.empty()) throw RuntimeError("loop.cycle() needs at least one argument");
                 return a.args[static_cast<size_t>(i) % a.args.size()];
               }}));
    iter->vars.set("loop", Value(std::move(loop)));
    try {
      assign(s.targets, items[i], *iter);
    } catch (const RuntimeError& err) {
      fail<FormatError>("chat template error at {}: {}", where(s.pos), err.what());
    }
    const Flow f = exec(s.body, out, iter);
    if (f == Flow::kBreak) break;
  }
  if (n == 0 && !s.else_body.empty()) {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    exec(s.else_body, out, inner);
  }
}

void Interpreter::define_macro(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  const Stmt* def = &s;
  std::weak_ptr<Scope> weak = scope;
  Callable c;
  c.name = s.targets[0];
  c.fn = [def, weak](Interpreter& in, CallArgs& args) -> Value {
    auto defining = weak.lock();
    if (!defining) throw RuntimeError("macro '" + def->targets[0] + "' called after its scope ended");
    return in.call_macro(*def, defining, args);
  };
  scope->vars.set(s.targets[0], Value(std::move(c)));
}

Value Interpreter::call_macro(const Stmt& def, const std::shared_ptr<Scope>& defining, CallArgs& args) {
  const std::string& name = def.targets[0];
  const size_t nparams = def.targets.size() - 1;
  if (args.args.size() > nparams)
    throw UnsupportedError("calling macro '" + name + "' with extra positional arguments (varargs)");
  for (const auto& kw : args.kwargs) {
    bool known = false;
    for (size_t p = 0; p < nparams; ++p) known = known || def.targets[p + 1] == kw.first;
    if (!known)
      throw UnsupportedError("keyword argument '" + kw.first + "' that macro '" + name + "' does not declare");
  }
  if (call_depth_ >= limits_.max_call_depth) throw RuntimeError("macro calls nested too deeply (recursion?)");
  auto frame = std::make_shared<Scope>();
  frame->parent = defining;
  for (size_t p = 0; p < nparams; ++p) {
    const std::string& pname = def.targets[p + 1];
    if (p < args.args.size()) {
      frame->vars.set(pname, args.args[p]);
      continue;
    }
    const Value* given = nullptr;
    for (const auto& kw : args.kwargs)
      if (kw.first == pname) given = &kw.second;
    if (given) {
      frame->vars.set(pname, *given);
    } else {
      frame->vars.set(pname, def.conds[p] ? eval(*def.conds[p], frame) : Value(Undefined{pname}));
    }
  }
  std::string out;
  ++call_depth_;
  try {
    exec(def.body, out, frame);
  } catch (...) {
    --call_depth_;
    throw;
  }
  --call_depth_;
  return Value(std::move(out));
}

// ------------------------------------------------------------------ expressions

Value Interpreter::lookup(const std::string& name, const Scope& scope) const {
  for (const Scope* s = &scope; s; s = s->parent.get())
    if (const Value* v = s->vars.find(name)) return *v;
  if (context_)
    if (const Value* v = context_->find(name)) return *v;
  Value g = builtin_global(name);
  if (!g.is_undefined()) return g;
  return Value(Undefined{name});
}

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  try {
    return eval_impl(e, scope);
  } catch (const RuntimeError& err) {
    fail<FormatError>("chat template error at {}: {}", where(e.pos), err.what());
  } catch (const UnsupportedError& err) {
    fail<Unsupported>("chat template {}: {} is not supported by breadth's Jinja subset", where(e.pos),
                      err.what());
  } catch (const RaisedError& err) {
    fail<InvalidArgument>("the chat template rejects this conversation (raise_exception at {}): {}",
                          where(e.pos), err.what());
  }
}

CallArgs Interpreter::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope) {
  CallArgs args;
  for (const auto& a : e.items) args.args.push_back(eval(*a, scope));
  for (const auto& kw : e.kwargs) args.kwargs.emplace_back(kw.first, eval(*kw.second, scope));
  return args;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_callable()) return callee.as_callable().fn(*this, args);
  if (callee.is_undefined()) undefined_error(callee);
  throw RuntimeError("'" + type_name(callee) + "' object is not callable");
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj);
  if (has_method(obj, name)) {
    Value bound = obj;
    std::string method = name;
    return Value(Callable{type_name(obj) + "." + name, [bound, method](Interpreter& in, CallArgs& a) {
                            return call_method(in, bound, method, a);
                          }});
  }
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  } else if (obj.is_namespace()) {
    if (const Value* v = obj.as_namespace().attrs.find(name)) return *v;
  }
  return Value(Undefined{name});
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    if (key.is_string()) {
      if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
      return getattr(obj, key.as_string());
    }
    return Value(Undefined{"[" + to_str(key) + "]"});
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    const int64_t len = obj.is_list() ? static_cast<int64_t>(obj.as_list().items.size())
                                      : static_cast<int64_t>(utf8_length(obj.as_string()));
    int64_t i = key.to_int();
    if (i < 0) i += len;
    if (i < 0 || i >= len) return Value(Undefined{"[" + to_str(key) + "]"});
    if (obj.is_list()) return obj.as_list().items[static_cast<size_t>(i)];
    const std::u32string cps = utf8_decode(obj.as_string());
    return Value(utf8_encode(std::u32string(1, cps[static_cast<size_t>(i)])));
  }
  if (key.is_string()) return getattr(obj, key.as_string());
  return Value(Undefined{"[" + to_str(key) + "]"});
}

Value Interpreter::filter(const std::string& name, const Value& input, CallArgs& args) {
  return builtin_filter(*this, name, input, args);
}

bool Interpreter::test(const std::string& name, const Value& value, CallArgs& args) {
  return builtin_test(*this, name, value, args);
}

Value Interpreter::eval_impl(const Expr& e, const std::shared_ptr<Scope>& scope) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.value;
    case ExprKind::kName:
      return lookup(e.name, *scope);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (const auto& i : e.items) items.push_back(eval(*i, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      Dict d;
      for (size_t i = 0; i < e.keys.size(); ++i) {
        Value k = eval(*e.keys[i], scope);
        if (!k.is_string()) throw UnsupportedError("a dict key of type '" + type_name(k) + "' (only strings)");
        d.set(k.as_string(), eval(*e.items[i], scope));
      }
      return Value(std::move(d));
    }
    case ExprKind::kNot:
      return Value(!truthy(eval(*e.a, scope)));
    case ExprKind::kNeg:
      return ops::negate(eval(*e.a, scope));
    case ExprKind::kPos: {
      Value v = eval(*e.a, scope);
      if (v.is_undefined()) undefined_error(v);
      if (!v.is_number()) throw RuntimeError("bad operand type for unary +: '" + type_name(v) + "'");
      return v.is_bool() ? Value(v.to_int()) : v;
    }
    case ExprKind::kBinary: {
      Value a = eval(*e.a, scope);
      Value b = eval(*e.b, scope);
      return ops::binary(e.name, a, b, limits_.max_output_bytes);
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.a, scope);
      return truthy(a) ? eval(*e.b, scope) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.a, scope);
      return truthy(a) ? a : eval(*e.b, scope);
    }
    case ExprKind::kCompare: {
      Value left = eval(*e.a, scope);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.items[i], scope);
        if (!ops::compare(e.ops[i], left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::kCond:
      if (truthy(eval(*e.b, scope))) return eval(*e.a, scope);
      return e.c ? eval(*e.c, scope) : Value(Undefined{});
    case ExprKind::kGetAttr:
      return getattr(eval(*e.a, scope), e.name);
    case ExprKind::kGetItem:
      return getitem(eval(*e.a, scope), eval(*e.b, scope));
    case ExprKind::kSlice: {
      Value obj = eval(*e.a, scope);
      if (obj.is_undefined()) undefined_error(obj);
      Value start = e.b ? eval(*e.b, scope) : Value(None{});
      Value stop = e.c ? eval(*e.c, scope) : Value(None{});
      Value step = e.d ? eval(*e.d, scope) : Value(None{});
      return ops::slice(obj, start, stop, step);
    }
    case ExprKind::kCall:
      return eval_call(e, scope);
    case ExprKind::kFilter: {
      Value input = eval(*e.a, scope);
      CallArgs args = eval_args(e, scope);
      return filter(e.name, input, args);
    }
    case ExprKind::kTest: {
      Value v = eval(*e.a, scope);
      CallArgs args = eval_args(e, scope);
      const bool r = test(e.name, v, args);
      return Value(e.negated ? !r : r);
    }
  }
  throw RuntimeError("internal error: unknown expression");
}

Value Interpreter::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope) {
  Value callee = eval(*e.a, scope);
  CallArgs args = eval_args(e, scope);
  // Jinja's own globals that transformers keeps but breadth does not implement.
  if (callee.is_undefined() && e.a->kind == ExprKind::kName &&
      (e.a->name == "lipsum" || e.a->name == "cycler" || e.a->name == "joiner"))
    throw UnsupportedError("the function '" + e.a->name + "'");
  if (callee.is_undefined() && e.a->kind == ExprKind::kGetAttr)
    throw RuntimeError("'" + e.a->name + "' is undefined (no such method or attribute)");
  return call(callee, args);
}

}  // namespace breadth::jinja
