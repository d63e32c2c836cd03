#include "core/fast_json.h"

namespace sagasim::fastjson {

namespace {

// An object with more members than this is left to nlohmann (the duplicate
// check below is quadratic; no event has a tenth of it).
constexpr uint32_t kMaxMembers = 64;

class Parser {
 public:
  Parser(std::string_view text, std::vector<Node>& out) : p_(text.data()), end_(text.data() + text.size()), out_(out) {}

  bool document() {
    out_.clear();
    if (!value(0)) return false;
    ws();
    return p_ == end_;
  }

 private:
  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(size_t depth) {
    ws();
    if (p_ == end_) return false;
    const char c = *p_;
    if (c == '{') return object(depth + 1);
    if (c == '[') return array(depth + 1);
    if (c == '"') return string_node();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return false;  // true, false, null or not JSON: nlohmann's business
  }

  // A string without escapes, control characters or non-ASCII bytes.
  bool string(std::string_view& s) {
    ++p_;  // the opening quote
    const char* begin = p_;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        s = std::string_view(begin, static_cast<size_t>(p_ - begin));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    return false;
  }

  bool string_node() {
    const size_t i = out_.size();
    out_.push_back(Node{Node::Kind::String});
    std::string_view s;
    if (!string(s)) return false;
    out_[i].text = s;
    out_[i].end = static_cast<uint32_t>(out_.size());
    return true;
  }

  bool number() {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 != end_ && p_[1] >= '0' && p_[1] <= '9') return false;  // a leading zero
    const char* begin = p_;
    uint64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      if (p_ - begin >= 19) return false;  // might not fit: nlohmann decides
      v = v * 10 + static_cast<uint64_t>(*p_ - '0');
      ++p_;
    }
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;  // a float
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (v > kMax + (negative ? 1 : 0)) return false;
    Node n{Node::Kind::Integer};
    n.integer = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    n.end = static_cast<uint32_t>(out_.size() + 1);
    out_.push_back(n);
    return true;
  }

  bool object(size_t depth) {
    if (depth > kMaxDepth) return false;
    const size_t i = out_.size();
    out_.push_back(Node{Node::Kind::Object});
    ++p_;
    ws();
    uint32_t n = 0;
    uint32_t keys[kMaxMembers];
    if (p_ != end_ && *p_ == '}') {
      ++p_;
    } else {
      for (;;) {
        ws();
        if (p_ == end_ || *p_ != '"' || n == kMaxMembers) return false;
        keys[n] = static_cast<uint32_t>(out_.size());
        if (!string_node()) return false;
        const std::string_view key = out_[keys[n]].text;
        for (uint32_t k = 0; k < n; ++k)
          if (out_[keys[k]].text == key) return false;  // a duplicate: nlohmann keeps the last one
        ++n;
        ws();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        if (!value(depth)) return false;
        ws();
        if (p_ == end_) return false;
        if (*p_ == '}') {
          ++p_;
          break;
        }
        if (*p_ != ',') return false;
        ++p_;
      }
    }
    out_[i].size = n;
    out_[i].end = static_cast<uint32_t>(out_.size());
    return true;
  }

  bool array(size_t depth) {
    if (depth > kMaxDepth) return false;
    const size_t i = out_.size();
    out_.push_back(Node{Node::Kind::Array});
    ++p_;
    ws();
    uint32_t n = 0;
    if (p_ != end_ && *p_ == ']') {
      ++p_;
    } else {
      for (;;) {
        if (!value(depth)) return false;
        ++n;
        ws();
        if (p_ == end_) return false;
        if (*p_ == ']') {
          ++p_;
          break;
        }
        if (*p_ != ',') return false;
        ++p_;
      }
    }
    out_[i].size = n;
    out_[i].end = static_cast<uint32_t>(out_.size());
    return true;
  }

  const char* p_;
  const char* end_;
  std::vector<Node>& out_;
};

}  // namespace

bool parse(std::string_view text, std::vector<Node>& nodes) {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) return false;
  return Parser(text, nodes).document();
}

}  // namespace sagasim::fastjson
