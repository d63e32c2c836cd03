// The codec's fast path (core/codec.cc): a reader for the plain subset of
// JSON that events on the wire are made of, and a writer whose bytes are
// exactly nlohmann::json's dump().
//
// Reading. parse() accepts objects, arrays, ASCII strings without escapes
// and integers that fit an int64, nested up to kMaxDepth, and nothing else.
// Anything outside that subset (a float, true/false/null, an escape, a
// non-ASCII byte, a duplicate key, bad JSON of any kind) makes it return
// false, and the caller then takes nlohmann::json's path, which is the
// authority: it accepts what JSON allows and words every error. So the fast
// path never has to agree with nlohmann on a hard case: it only ever accepts
// text on which both parsers are trivially the same (no number conversion, no
// escape or UTF-8 decoding), and tests/core/fast_json_test.cc checks that
// over the corpora.
//
//   std::vector<fastjson::Node> nodes;
//   if (fastjson::parse(text, nodes)) { fastjson::View root(nodes.data()); ... }
//
// Writing. write_string() escapes as nlohmann::json::dump(-1, ' ', false,
// error_handler_t::replace) does (a string with any byte >= 0x80 is handed
// to nlohmann itself, so invalid UTF-8 becomes U+FFFD exactly as before).
//
// Typed payloads. SAGASIM_DEFINE_JSON_TYPE(Type, fields...) is
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE plus a list of the fields that the fast
// reader and writer walk: write_value() writes the object with its keys in
// nlohmann's order (sorted, its std::map), read_value() fills the struct when
// the object has exactly those fields with the right JSON types (else
// false). Field types: std::string, integers, std::vector or SharedList of a
// field type, and structs defined the same way.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/shared_list.h"

namespace sagasim::fastjson {

inline constexpr size_t kMaxDepth = 32;

struct Node {
  enum class Kind : uint8_t { Object, Array, String, Integer };
  Kind kind = Kind::Object;
  uint32_t size = 0;  // Object: members; Array: items
  uint32_t end = 0;   // the index one past this node's subtree
  std::string_view text;  // String: its characters (no escapes, ASCII)
  int64_t integer = 0;
};

// Fills `nodes` (cleared first) with the tree in preorder: an object's
// members are key (a String node), then the value's subtree. False when
// `text` is not in the subset (see the top of this file).
bool parse(std::string_view text, std::vector<Node>& nodes);

class View {
 public:
  // The root of a parse: View(nodes.data()).
  explicit View(const Node* root) : base_(root), n_(root) {}
  View(const Node* base, const Node* n) : base_(base), n_(n) {}
  Node::Kind kind() const { return n_->kind; }
  bool is_object() const { return n_->kind == Node::Kind::Object; }
  bool is_array() const { return n_->kind == Node::Kind::Array; }
  bool is_string() const { return n_->kind == Node::Kind::String; }
  bool is_integer() const { return n_->kind == Node::Kind::Integer; }
  uint32_t size() const { return n_->size; }
  std::string_view str() const { return n_->text; }
  int64_t integer() const { return n_->integer; }

  // f(std::string_view key, View value) for each member, in text order.
  template <class F>
  void members(F&& f) const {
    const Node* c = n_ + 1;
    for (uint32_t i = 0; i < n_->size; ++i) {
      f(c->text, View(base_, c + 1));
      c = base_ + c[1].end;
    }
  }
  // f(View item) for each item.
  template <class F>
  void items(F&& f) const {
    const Node* c = n_ + 1;
    for (uint32_t i = 0; i < n_->size; ++i) {
      f(View(base_, c));
      c = base_ + c->end;
    }
  }
  // Whether the object has a member `key`; if so, *value is it.
  bool find(std::string_view key, View* value) const {
    const Node* c = n_ + 1;
    for (uint32_t i = 0; i < n_->size; ++i) {
      if (c->text == key) {
        *value = View(base_, c + 1);
        return true;
      }
      c = base_ + c[1].end;
    }
    return false;
  }

 private:
  const Node* base_;  // node 0: `end` indexes count from it
  const Node* n_;
};

// --- writing -------------------------------------------------------------------

// `s` as a JSON string, byte for byte as nlohmann::json's dump (ensure_ascii
// false, invalid UTF-8 replaced by U+FFFD).
inline void write_string(std::string& out, std::string_view s) {
  size_t first = 0;  // ids and names are plain ASCII: one check and one copy
  while (first < s.size()) {
    const auto c = static_cast<unsigned char>(s[first]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    ++first;
  }
  if (first == s.size()) {
    const size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  for (unsigned char c : s.substr(first)) {
    if (c >= 0x80) {
      out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  size_t plain = 0;  // start of the run not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";  // nlohmann writes \u%04x: lower case
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

template <class I>
void write_integer(std::string& out, I v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// --- typed structs -------------------------------------------------------------

#define SAGASIM_JSON_VISIT_FIELD_(field) visit(#field, &SagasimJsonSelf::field);

// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE plus the field list of the fast path.
// Use it where NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE would go (the type's namespace).
#define SAGASIM_DEFINE_JSON_TYPE(Type, ...)                                                           \
  NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Type, __VA_ARGS__)                                              \
  template <class Visit>                                                                             \
  void sagasim_json_fields(const Type*, Visit&& visit) {                                            \
    using SagasimJsonSelf = Type;                                                                    \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(SAGASIM_JSON_VISIT_FIELD_, __VA_ARGS__))                \
  }

template <class T>
concept Struct = requires(const T* t) { sagasim_json_fields(t, [](const char*, auto) {}); };

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <class T>
struct IsSharedList : std::false_type {};
template <class T>
struct IsSharedList<SharedList<T>> : std::true_type {};

template <class T>
inline constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

template <class T>
constexpr bool supported() {
  if constexpr (std::is_same_v<T, std::string> || kIsInteger<T> || Struct<T>) {
    return true;
  } else if constexpr (IsVector<T>::value || IsSharedList<T>::value) {
    return supported<typename T::value_type>();
  } else {
    return false;
  }
}

// Field indexes of T in nlohmann's key order (std::map: sorted by name).
template <Struct T>
const std::vector<int>& key_order() {
  static const std::vector<int> order = [] {
    std::vector<std::pair<std::string_view, int>> names;
    sagasim_json_fields(static_cast<const T*>(nullptr),
                        [&](const char* name, auto) { names.emplace_back(name, static_cast<int>(names.size())); });
    std::sort(names.begin(), names.end());
    std::vector<int> out;
    for (const auto& n : names) out.push_back(n.second);
    return out;
  }();
  return order;
}

template <class T>
void write_value(std::string& out, const T& v) {
  static_assert(supported<T>(), "SAGASIM_DEFINE_JSON_TYPE: a field type the fast path cannot write "
                                "(use NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE for this type)");
  if constexpr (std::is_same_v<T, std::string>) {
    write_string(out, v);
  } else if constexpr (kIsInteger<T>) {
    write_integer(out, v);
  } else if constexpr (IsVector<T>::value || IsSharedList<T>::value) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      write_value(out, v[i]);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const int k : key_order<T>()) {
      int i = 0;
      sagasim_json_fields(static_cast<const T*>(nullptr), [&](const char* name, auto member) {
        if (i++ != k) return;
        if (!first) out += ',';
        first = false;
        write_string(out, name);
        out += ':';
        write_value(out, v.*member);
      });
    }
    out += '}';
  }
}

// Fills `out` from `v` as nlohmann's from_json would, or returns false where
// that is not certain (then nlohmann's path decides).
template <class T>
bool read_value(View v, T& out) {
  static_assert(supported<T>(), "SAGASIM_DEFINE_JSON_TYPE: a field type the fast path cannot read");
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return false;
    out.assign(v.str());
    return true;
  } else if constexpr (kIsInteger<T>) {
    if (!v.is_integer()) return false;
    const int64_t x = v.integer();
    if constexpr (std::is_signed_v<T>) {
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) return false;
    } else {
      if (x < 0 || static_cast<uint64_t>(x) > std::numeric_limits<T>::max()) return false;
    }
    out = static_cast<T>(x);
    return true;
  } else if constexpr (IsVector<T>::value) {
    if (!v.is_array()) return false;
    out.clear();
    out.resize(v.size());
    size_t i = 0;
    bool ok = true;
    v.items([&](View item) { ok = ok && read_value(item, out[i++]); });
    return ok;
  } else if constexpr (IsSharedList<T>::value) {
    std::vector<typename T::value_type> items;
    if (!read_value(v, items)) return false;
    out = T(std::move(items));
    return true;
  } else {
    if (!v.is_object()) return false;
    uint64_t seen = 0;
    int fields = 0;
    bool ok = true;
    v.members([&](std::string_view key, View value) {
      if (!ok) return;
      int i = 0;
      bool known = false;
      sagasim_json_fields(static_cast<const T*>(nullptr), [&](const char* name, auto member) {
        const int index = i++;
        if (known || key != name) return;
        known = true;
        ok = index < 64 && !(seen & (uint64_t{1} << index)) && read_value(value, out.*member);
        if (index < 64) seen |= uint64_t{1} << index;
      });
      ok = ok && known;  // a key the struct lacks: nlohmann would ignore it, the schema may not
    });
    sagasim_json_fields(static_cast<const T*>(nullptr), [&](const char*, auto) { ++fields; });
    return ok && v.size() == static_cast<uint32_t>(fields);  // every field present exactly once
  }
}

}  // namespace sagasim::fastjson
