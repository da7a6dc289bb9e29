// Renders a parsed Jinja Program with Jinja2's semantics (scoping, undefined values, operators,
// filters and tests), as transformers' ImmutableSandboxedEnvironment does for chat templates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_ast.hpp"

namespace breadth::jinja {

/// Bounds that keep a hostile or broken template from running forever or exhausting memory.
struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;
  uint64_t max_steps = 5'000'000;  ///< statements and loop iterations executed
  int max_call_depth = 100;         ///< nested macro calls
};

/// Variables of one scope; a for-loop iteration, a macro call and a `with` block each get their own
/// (so `set` inside them does not leak out), while `if` shares its enclosing scope, as in Jinja.
struct Scope {
  Dict vars;
  std::shared_ptr<Scope> parent;
};

class Interpreter {
 public:
  explicit Interpreter(RenderLimits limits = {}) : limits_(limits) {}

  /// Renders `program` with `context` as its global variables. Errors become breadth::FormatError
  /// (a template that fails while rendering), breadth::Unsupported (a construct outside the subset)
  /// or breadth::InvalidArgument (the template called raise_exception: it rejects the conversation);
  /// all name the template line and column.
  std::string render(const Program& program, const Dict& context);

  // Used by the built-in filters, tests and methods.
  Value call(const Value& callee, CallArgs& args);
  /// Jinja's `obj.name`: a Python attribute (a method) first, then an item.
  Value getattr(const Value& obj, const std::string& name);
  /// Jinja's `obj[key]`: an item first, then (for string keys) an attribute.
  Value getitem(const Value& obj, const Value& key);
  Value filter(const std::string& name, const Value& input, CallArgs& args);
  bool test(const std::string& name, const Value& value, CallArgs& args);
  void count_step();
  /// Runs a macro defined by `def` (the statement) in a frame below `defining`.
  Value call_macro(const Stmt& def, const std::shared_ptr<Scope>& defining, CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec(const Body& body, std::string& out, const std::shared_ptr<Scope>& scope);
  Flow exec_stmt(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope);
  Flow exec_stmt_impl(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope);
  void exec_for(const Stmt& s, std::string& out, const std::shared_ptr<Scope>& scope);
  void exec_set(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void define_macro(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void assign(const std::vector<std::string>& targets, const Value& value, Scope& scope);
  void append(std::string& out, std::string_view text);

  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_impl(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value lookup(const std::string& name, const Scope& scope) const;
  Value eval_call(const Expr& e, const std::shared_ptr<Scope>& scope);
  CallArgs eval_args(const Expr& e, const std::shared_ptr<Scope>& scope);

  RenderLimits limits_;
  const Dict* context_ = nullptr;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

/// Python's iter(v) materialized: list/tuple items, dict keys, string characters; Undefined is empty.
/// Throws RuntimeError for values that are not iterable.
std::vector<Value> iterate(const Value& v);

// Built-ins: filters (jinja_filters.cpp), tests (jinja_tests.cpp), methods (jinja_methods.cpp) and
// globals (jinja_builtins.cpp). Unknown names throw UnsupportedError.
Value builtin_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
bool builtin_test(Interpreter& in, const std::string& name, const Value& value, CallArgs& args);
/// True when `name` is a Python method of `obj`'s type (so that `obj.name` is the method, not an item).
bool has_method(const Value& obj, std::string_view name);
/// Calls the method `name` of `obj`; meant for names has_method accepts (as getattr binds them).
Value call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args);
/// The environment globals transformers defines (raise_exception, strftime_now, namespace, range,
/// dict); Undefined for any other name.
Value builtin_global(const std::string& name);
/// Whether a filter / test of this name exists in the subset (for the `filter` and `test` tests).
bool is_builtin_filter(std::string_view name);
bool is_builtin_test(std::string_view name);

}  // namespace breadth::jinja
