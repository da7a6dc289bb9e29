// Parses Jinja tokens into a Program, following Jinja2's grammar and operator precedence.
#pragma once

#include <string_view>

#include "chat/jinja_ast.hpp"

namespace breadth::jinja {

/// Parses a whole template. Throws breadth::FormatError for syntax errors and breadth::Unsupported
/// for statements outside the subset (extends, include, import, call blocks, ...), both naming the
/// line and column.
Program parse(std::string_view source, const LexOptions& options = {});

}  // namespace breadth::jinja
