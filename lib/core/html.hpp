// Escaping text for HTML and SVG (also Jinja's `escape` filter): the five characters MarkupSafe
// escapes, with its entities, so that one function serves templates, plots and reports alike.
#pragma once

#include <string>
#include <string_view>

namespace breadth {

inline std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace breadth
