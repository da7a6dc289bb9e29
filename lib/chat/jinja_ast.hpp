// The syntax tree of a parsed Jinja template (the subset chat templates use).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_lexer.hpp"
#include "chat/jinja_value.hpp"

namespace breadth::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,   ///< value
  kName,      ///< name
  kList,      ///< items
  kTuple,     ///< items
  kDict,      ///< keys[i] : items[i]
  kNot,       ///< a
  kNeg,       ///< a
  kPos,       ///< a
  kBinary,    ///< a op b: + - * / // % ** ~
  kAnd,       ///< a and b (Python: returns an operand)
  kOr,        ///< a or b
  kCompare,   ///< a ops[0] items[0] ops[1] items[1] ... (== != < <= > >= in notin)
  kCond,      ///< a if b else c (c may be null)
  kGetAttr,   ///< a.name
  kGetItem,   ///< a[b]
  kSlice,     ///< a[b:c:d] (any of b, c, d may be null)
  kCall,      ///< a(items..., kwargs...)
  kFilter,    ///< a | name(items..., kwargs...)  (a null for `{% filter %}` blocks)
  kTest,      ///< a is [not] name(items...)
};

struct Expr {
  ExprKind kind;
  SourcePos pos;
  Value value;                 // kLiteral
  std::string name;            // kName, kGetAttr, kFilter, kTest; operator for kBinary
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> items;  // list/tuple/dict values, call/filter/test args, compare operands
  std::vector<ExprPtr> keys;   // dict keys
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // compare operators
  bool negated = false;        // kTest
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  kText,      ///< text
  kOutput,    ///< {{ expr }}
  kIf,        ///< conds[i] -> bodies[i]; else_body
  kFor,       ///< for targets in expr [if cond] body [else else_body]
  kSet,       ///< set targets = expr | set ns.attr = expr
  kSetBlock,  ///< set name %} body {% endset (optional filter in expr)
  kMacro,     ///< macro name(params) body
  kWith,      ///< with targets = values body
  kFilterBlock,  ///< filter expr body
  kBreak,
  kContinue,
  kScope,     ///< a body rendered in place ({% generation %})
};

struct Stmt {
  StmtKind kind;
  SourcePos pos;
  std::string text;                  // kText; namespace name for `set ns.attr`
  std::string attr;                  // kSet on a namespace attribute
  std::vector<std::string> targets;  // for / set / macro name+params / with names
  ExprPtr expr;                      // output / for iterable / set value / filter chain
  ExprPtr cond;                      // for's `if` filter
  std::vector<ExprPtr> conds;        // if/elif conditions; macro defaults (null = none); with values
  std::vector<Body> bodies;          // if/elif bodies
  Body body;                         // for / set-block / macro / with / filter / scope
  Body else_body;                    // if's else / for's else
};

/// A parsed template.
struct Program {
  Body body;
};

}  // namespace breadth::jinja
