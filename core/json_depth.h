// A nesting limit for JSON read from outside (scenario files, trace lines,
// events on the wire), checked on the raw text before it is parsed.
//
// nlohmann::json parses iteratively, but copying, comparing and dumping a
// value recurse once per level: a 100,000-deep `[[[[...]]]]` in a scenario's
// "description" or an event's payload overflowed the stack (a segfault, not
// an error). No file of ours nests beyond a dozen levels; kMaxJsonDepth
// leaves room for any payload a saga could carry.
//
//   if (auto at = json_too_deep(text)) throw InputError(file, "", fmt::format("... byte {}", *at));
//
// Header-only (the viewer's trace model uses it without linking core/).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sagasim {

inline constexpr size_t kMaxJsonDepth = 64;

// The byte offset of the first '[' or '{' that opens a level deeper than
// max_depth, outside strings; nullopt when the text stays within it. Works on
// any bytes (invalid JSON is the parser's business, not this scan's).
inline std::optional<size_t> json_too_deep(std::string_view text, size_t max_depth = kMaxJsonDepth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace sagasim
