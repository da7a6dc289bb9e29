#include "chat/jinja_parser.hpp"

#include <algorithm>
#include <initializer_list>

#include "core/check.hpp"

namespace breadth::jinja {

namespace {

// Deeper nesting than this is certainly not a chat template; the limit keeps hostile input from
// exhausting the stack.
constexpr int kMaxDepth = 200;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Program run() {
    Program p;
    std::string end;
    p.body = subparse({}, end);
    return p;
  }

 private:
  // ---------------------------------------------------------------- token stream
  const Token& cur() const { return toks_[i_]; }
  const Token& look(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  void next() {
    if (i_ + 1 < toks_.size()) ++i_;
  }
  bool is_op(const char* op) const { return cur().type == TokenType::kOperator && cur().value == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::kName && cur().value == n; }
  bool is_name_in(std::initializer_list<const char*> names) const {
    if (cur().type != TokenType::kName) return false;
    for (const char* n : names)
      if (cur().value == n) return true;
    return false;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kData: return "template text";
      case TokenType::kVarBegin: return "'{{'";
      case TokenType::kVarEnd: return "'}}'";
      case TokenType::kBlockBegin: return "'{%'";
      case TokenType::kBlockEnd: return "'%}'";
      case TokenType::kEnd: return "end of template";
      case TokenType::kString: return "string literal";
      default: return "'" + t.value + "'";
    }
  }

  [[noreturn]] void error(const SourcePos& p, const std::string& what) const {
    fail<FormatError>("chat template syntax error at line {}, column {}: {}", p.line, p.column, what);
  }
  [[noreturn]] void unsupported(const SourcePos& p, const std::string& what) const {
    fail<Unsupported>("chat template line {}, column {}: {} is not supported by breadth's Jinja subset",
                      p.line, p.column, what);
  }

  void expect_op(const char* op) {
    if (!is_op(op)) error(cur().pos, std::string("expected '") + op + "', got " + describe(cur()));
    next();
  }
  void expect(TokenType type, const char* what) {
    if (cur().type != type) error(cur().pos, std::string("expected ") + what + ", got " + describe(cur()));
    next();
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) error(cur().pos, "expected a name, got " + describe(cur()));
    std::string v = cur().value;
    next();
    return v;
  }

  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, const SourcePos& pos) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.error(pos, "template nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  static ExprPtr make(ExprKind kind, const SourcePos& pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }
  static StmtPtr make_stmt(StmtKind kind, const SourcePos& pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  // ---------------------------------------------------------------- statements

  // Parses until a block whose tag is one of `end_names`; on return the current token is that tag
  // name (stored in `found`). With no end names, parses to the end of the template.
  Body subparse(std::initializer_list<const char*> end_names, std::string& found) {
    DepthGuard guard(*this, cur().pos);
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.type) {
        case TokenType::kData: {
          auto s = make_stmt(StmtKind::kText, t.pos);
          s->text = t.value;
          body.push_back(std::move(s));
          next();
          break;
        }
        case TokenType::kVarBegin: {
          auto s = make_stmt(StmtKind::kOutput, t.pos);
          next();
          s->expr = parse_tuple(true, {}, false);
          expect(TokenType::kVarEnd, "'}}'");
          body.push_back(std::move(s));
          break;
        }
        case TokenType::kBlockBegin: {
          next();
          if (end_names.size() && is_name_in(end_names)) {
            found = cur().value;
            return body;
          }
          parse_statement(body);
          expect(TokenType::kBlockEnd, "'%}'");
          break;
        }
        case TokenType::kEnd: {
          if (end_names.size() == 0) return body;
          std::string names;
          for (const char* n : end_names) names += std::string(names.empty() ? "" : " or ") + "'" + n + "'";
          error(t.pos, "unexpected end of template, expected " + names);
        }
        default:
          error(t.pos, "unexpected " + describe(t));
      }
    }
  }

  // `%}` then a body up to one of `end_names`; the end tag name is consumed when `drop` is set.
  Body parse_statements(std::initializer_list<const char*> end_names, std::string& found, bool drop) {
    if (is_op(":")) next();
    expect(TokenType::kBlockEnd, "'%}'");
    Body b = subparse(end_names, found);
    if (drop) next();
    return b;
  }

  void parse_statement(Body& out) {
    const Token& t = cur();
    if (t.type != TokenType::kName) error(t.pos, "tag name expected, got " + describe(t));
    const std::string tag = t.value;
    const SourcePos pos = t.pos;
    if (tag == "if") return out.push_back(parse_if());
    if (tag == "for") return out.push_back(parse_for());
    if (tag == "set") return out.push_back(parse_set());
    if (tag == "macro") return out.push_back(parse_macro());
    if (tag == "with") return out.push_back(parse_with());
    if (tag == "filter") return out.push_back(parse_filter_block());
    if (tag == "print") {
      next();
      bool first = true;
      while (cur().type != TokenType::kBlockEnd) {
        if (!first) expect_op(",");
        first = false;
        auto s = make_stmt(StmtKind::kOutput, cur().pos);
        s->expr = parse_expression(true);
        out.push_back(std::move(s));
      }
      return;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error(pos, "'" + tag + "' outside of a loop");
      next();
      out.push_back(make_stmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, pos));
      return;
    }
    if (tag == "generation") {  // transformers' assistant-mask extension: renders its body
      next();
      auto s = make_stmt(StmtKind::kScope, pos);
      std::string end;
      s->body = parse_statements({"endgeneration"}, end, true);
      out.push_back(std::move(s));
      return;
    }
    static const char* const kUnsupported[] = {"block", "extends", "include", "import", "from",
                                               "autoescape", "call", "do", "trans", "pluralize"};
    for (const char* u : kUnsupported)
      if (tag == u) unsupported(pos, "the '{% " + tag + " %}' tag");
    error(pos, "unknown tag '" + tag + "'");
  }

  StmtPtr parse_if() {
    auto s = make_stmt(StmtKind::kIf, cur().pos);
    next();
    std::string end;
    s->conds.push_back(parse_tuple(false, {}, false));
    s->bodies.push_back(parse_statements({"elif", "else", "endif"}, end, false));
    while (end == "elif") {
      next();
      s->conds.push_back(parse_tuple(false, {}, false));
      s->bodies.push_back(parse_statements({"elif", "else", "endif"}, end, false));
    }
    if (end == "else") {
      next();
      s->else_body = parse_statements({"endif"}, end, false);
    }
    next();  // endif
    return s;
  }

  // Names assigned by `for`/`set`/`with`: `a`, `a, b`, `(a, b)`; `ns.attr` when allowed.
  void parse_targets(Stmt& s, bool allow_ns, std::initializer_list<const char*> end_names) {
    const SourcePos pos = cur().pos;
    const bool paren = is_op("(");
    if (paren) next();
    while (true) {
      if (cur().type != TokenType::kName) error(cur().pos, "expected a name to assign to, got " + describe(cur()));
      std::string name = expect_name();
      if (allow_ns && is_op(".")) {
        next();
        s.text = name;
        s.attr = expect_name();
        if (!s.targets.empty() || is_op(",")) error(pos, "cannot unpack into a namespace attribute");
        return;
      }
      s.targets.push_back(std::move(name));
      if (!is_op(",")) break;
      next();
      if ((paren && is_op(")")) || is_name_in(end_names) || is_op("=")) break;  // trailing comma
    }
    if (paren) expect_op(")");
  }

  StmtPtr parse_for() {
    auto s = make_stmt(StmtKind::kFor, cur().pos);
    next();
    parse_targets(*s, false, {"in"});
    if (!is_name("in")) error(cur().pos, "expected 'in', got " + describe(cur()));
    next();
    s->expr = parse_tuple(false, {"recursive"}, false);
    if (is_name("if")) {
      next();
      s->cond = parse_expression(true);
    }
    if (is_name("recursive")) unsupported(cur().pos, "a recursive for loop");
    std::string end;
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, end, false);
    --loop_depth_;
    if (end == "else") {
      next();
      s->else_body = parse_statements({"endfor"}, end, false);
    }
    next();  // endfor
    return s;
  }

  StmtPtr parse_set() {
    auto s = make_stmt(StmtKind::kSet, cur().pos);
    next();
    parse_targets(*s, true, {});
    if (is_op("=")) {
      next();
      s->expr = parse_tuple(true, {}, false);
      return s;
    }
    if (!s->attr.empty() || s->targets.size() != 1) error(s->pos, "a block set assigns exactly one name");
    s->kind = StmtKind::kSetBlock;
    if (is_op("|")) s->expr = parse_filter(nullptr, false);
    std::string end;
    s->body = parse_statements({"endset"}, end, true);
    return s;
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(StmtKind::kMacro, cur().pos);
    next();
    s->targets.push_back(expect_name());
    expect_op("(");
    bool defaults = false;
    while (!is_op(")")) {
      if (s->targets.size() > 1) expect_op(",");
      if (is_op(")")) break;
      s->targets.push_back(expect_name());
      if (is_op("=")) {
        next();
        s->conds.push_back(parse_expression(true));
        defaults = true;
      } else {
        if (defaults) error(cur().pos, "non-default argument follows default argument");
        s->conds.push_back(nullptr);
      }
    }
    expect_op(")");
    std::string end;
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endmacro"}, end, true);
    loop_depth_ = saved;
    return s;
  }

  StmtPtr parse_with() {
    auto s = make_stmt(StmtKind::kWith, cur().pos);
    next();
    while (cur().type != TokenType::kBlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(expect_name());
      expect_op("=");
      s->conds.push_back(parse_expression(true));
    }
    std::string end;
    s->body = parse_statements({"endwith"}, end, true);
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(StmtKind::kFilterBlock, cur().pos);
    next();
    s->expr = parse_filter(nullptr, true);
    std::string end;
    s->body = parse_statements({"endfilter"}, end, true);
    return s;
  }

  // ---------------------------------------------------------------- expressions

  bool is_tuple_end(std::initializer_list<const char*> extra) const {
    const TokenType t = cur().type;
    if (t == TokenType::kVarEnd || t == TokenType::kBlockEnd || t == TokenType::kEnd || is_op(")")) return true;
    return extra.size() && is_name_in(extra);
  }

  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra, bool explicit_paren) {
    const SourcePos pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true; else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_paren) error(cur().pos, "expected an expression, got " + describe(cur()));
    }
    auto e = make(ExprKind::kTuple, pos);
    e->items = std::move(items);
    return e;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this, cur().pos);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      auto c = make(ExprKind::kCond, cur().pos);
      next();
      c->b = parse_or();
      if (is_name("else")) {
        next();
        c->c = parse_condexpr();
      }
      c->a = std::move(e);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      auto o = make(ExprKind::kOr, cur().pos);
      next();
      o->a = std::move(e);
      o->b = parse_and();
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      auto o = make(ExprKind::kAnd, cur().pos);
      next();
      o->a = std::move(e);
      o->b = parse_not();
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this, cur().pos);
      auto e = make(ExprKind::kNot, cur().pos);
      next();
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      if (cur().type == TokenType::kOperator &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        ops.push_back(cur().value);
        next();
      } else if (is_name("in")) {
        ops.push_back("in");
        next();
      } else if (is_name("not") && look().type == TokenType::kName && look().value == "in") {
        ops.push_back("notin");
        next();
        next();
      } else {
        break;
      }
      operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = make(ExprKind::kCompare, pos);
    e->a = std::move(first);
    e->ops = std::move(ops);
    e->items = std::move(operands);
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, const SourcePos& pos) {
    auto e = make(ExprKind::kBinary, pos);
    e->name = op;
    e->a = std::move(l);
    e->b = std::move(r);
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().value;
      const SourcePos pos = cur().pos;
      next();
      e = binary(op, std::move(e), parse_concat(), pos);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const SourcePos pos = cur().pos;
      next();
      e = binary("~", std::move(e), parse_math2(), pos);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().value;
      const SourcePos pos = cur().pos;
      next();
      e = binary(op, std::move(e), parse_pow(), pos);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const SourcePos pos = cur().pos;
      next();
      e = binary("**", std::move(e), parse_unary(true), pos);
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this, cur().pos);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, cur().pos);
      next();
      node->a = parse_unary(false);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    switch (t.type) {
      case TokenType::kName: {
        auto e = make(ExprKind::kLiteral, pos);
        if (t.value == "true" || t.value == "True") {
          e->value = Value(true);
        } else if (t.value == "false" || t.value == "False") {
          e->value = Value(false);
        } else if (t.value == "none" || t.value == "None") {
          e->value = Value(None{});
        } else {
          e->kind = ExprKind::kName;
          e->name = t.value;
        }
        next();
        return e;
      }
      case TokenType::kString: {
        std::string s;
        while (cur().type == TokenType::kString) {
          s += cur().value;
          next();
        }
        auto e = make(ExprKind::kLiteral, pos);
        e->value = Value(std::move(s));
        return e;
      }
      case TokenType::kInteger: {
        auto e = make(ExprKind::kLiteral, pos);
        e->value = Value(t.int_value);
        next();
        return e;
      }
      case TokenType::kFloat: {
        auto e = make(ExprKind::kLiteral, pos);
        e->value = Value(t.float_value);
        next();
        return e;
      }
      case TokenType::kOperator:
        if (t.value == "(") {
          next();
          ExprPtr e = parse_tuple(true, {}, true);
          expect_op(")");
          return e;
        }
        if (t.value == "[") {
          next();
          auto e = make(ExprKind::kList, pos);
          while (!is_op("]")) {
            if (!e->items.empty()) expect_op(",");
            if (is_op("]")) break;
            e->items.push_back(parse_expression(true));
          }
          expect_op("]");
          return e;
        }
        if (t.value == "{") {
          next();
          auto e = make(ExprKind::kDict, pos);
          while (!is_op("}")) {
            if (!e->items.empty()) expect_op(",");
            if (is_op("}")) break;
            e->keys.push_back(parse_expression(true));
            expect_op(":");
            e->items.push_back(parse_expression(true));
          }
          expect_op("}");
          return e;
        }
        break;
      default:
        break;
    }
    error(pos, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".")) {
        const SourcePos pos = cur().pos;
        next();
        if (cur().type == TokenType::kName) {
          auto e = make(ExprKind::kGetAttr, pos);
          e->a = std::move(node);
          e->name = expect_name();
          node = std::move(e);
        } else if (cur().type == TokenType::kInteger) {
          auto e = make(ExprKind::kGetItem, pos);
          e->a = std::move(node);
          e->b = make(ExprKind::kLiteral, cur().pos);
          e->b->value = Value(cur().int_value);
          next();
          node = std::move(e);
        } else {
          error(cur().pos, "expected a name or number after '.'");
        }
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const SourcePos pos = cur().pos;
    next();  // [
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed(pos));
    }
    expect_op("]");
    if (args.empty()) error(pos, "expected a subscript expression");
    if (args.size() == 1 && args[0]->kind == ExprKind::kSlice) {
      args[0]->a = std::move(node);
      return std::move(args[0]);
    }
    auto e = make(ExprKind::kGetItem, pos);
    e->a = std::move(node);
    if (args.size() == 1) {
      e->b = std::move(args[0]);
    } else {
      auto t = make(ExprKind::kTuple, pos);
      for (auto& a : args) {
        if (a->kind == ExprKind::kSlice) unsupported(pos, "a multi-dimensional slice");
        t->items.push_back(std::move(a));
      }
      e->b = std::move(t);
    }
    return e;
  }

  // One subscript: an index expression, or a slice `[start]:[stop][:[step]]` (node with kSlice).
  ExprPtr parse_subscribed(const SourcePos& pos) {
    auto s = make(ExprKind::kSlice, pos);
    if (is_op(":")) {
      next();
    } else {
      ExprPtr e = parse_expression(true);
      if (!is_op(":")) return e;
      next();
      s->b = std::move(e);
    }
    if (!is_op(":") && !is_op("]") && !is_op(",")) s->c = parse_expression(true);
    if (is_op(":")) {
      next();
      if (!is_op("]") && !is_op(",")) s->d = parse_expression(true);
    }
    return s;
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool require_comma = false;
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*") || is_op("**")) unsupported(cur().pos, "*args / **kwargs in a call");
      if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().value == "=") {
        std::string key = cur().value;
        next();
        next();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e.kwargs.empty()) error(cur().pos, "positional argument follows keyword argument");
        e.items.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make(ExprKind::kCall, cur().pos);
    e->a = std::move(node);
    parse_call_args(*e);
    return e;
  }

  std::string dotted_name() {
    std::string name = expect_name();
    while (is_op(".")) {
      next();
      name += "." + expect_name();
    }
    return name;
  }

  // `| name(args)` chains; with `inline_start` the first `|` is absent (`{% filter upper %}`).
  ExprPtr parse_filter(ExprPtr node, bool inline_start) {
    while (is_op("|") || inline_start) {
      if (!inline_start) next();
      inline_start = false;
      auto e = make(ExprKind::kFilter, cur().pos);
      e->name = dotted_name();
      e->a = std::move(node);
      if (is_op("(")) parse_call_args(*e);
      node = std::move(e);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    const SourcePos pos = cur().pos;
    next();  // is
    auto e = make(ExprKind::kTest, pos);
    if (is_name("not")) {
      next();
      e->negated = true;
    }
    e->name = dotted_name();
    e->a = std::move(node);
    const TokenType t = cur().type;
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t == TokenType::kName || t == TokenType::kString || t == TokenType::kInteger ||
                t == TokenType::kFloat || is_op("[") || is_op("{")) &&
               !is_name_in({"else", "or", "and"})) {
      if (is_name("is")) error(cur().pos, "you cannot chain multiple tests with 'is'");
      e->items.push_back(parse_postfix(parse_primary()));
    }
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Program parse(std::string_view source, const LexOptions& options) {
  return Parser(lex(source, options)).run();
}

}  // namespace breadth::jinja
