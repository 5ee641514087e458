#include "common/json_text.hpp"

#include <fmt/format.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <iterator>
#include <set>
#include <vector>

namespace rampart {

namespace json = boost::json;

namespace {

void write_json(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, item] : v.get_object()) {
        if (!first) {
          out += ',';
        }
        first = false;
        out += json::serialize(json::string_view(k));
        out += ':';
        write_json(item, out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write_json(item, out);
      }
      out += ']';
      return;
    }
    case json::kind::double_:
      if (std::isfinite(v.get_double())) {
        fmt::format_to(std::back_inserter(out), "{}", v.get_double());
      } else {
        out += "null";
      }
      return;
    default:
      out += json::serialize(v);
      return;
  }
}

// A basic_parser handler that only looks for an object naming a key twice; it stops the parse
// there and keeps the key's path.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  // The path of the first duplicate key found, e.g. "split.v1"; empty when none was.
  const std::string& duplicate() const { return duplicate_; }
  const std::string& duplicate_key() const { return duplicate_key_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return begin(false); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return end(); }
  bool on_object_begin(boost::system::error_code&) { return begin(true); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return end(); }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return value(); }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& f = frames_.back();
    if (!f.keys.insert(key_).second) {
      duplicate_key_ = key_;
      f.key = std::move(key_);
      duplicate_ = path();
      ec = json::error::syntax;
      return false;
    }
    f.key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return value(); }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return value(); }
  bool on_double(double, json::string_view, boost::system::error_code&) { return value(); }
  bool on_bool(bool, boost::system::error_code&) { return value(); }
  bool on_null(boost::system::error_code&) { return value(); }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string, std::less<>> keys{};
    std::string key{};      // objects: the key whose value comes next
    std::size_t index = 0;  // arrays: the position of the value that comes next
  };

  bool begin(bool object) {
    frames_.push_back(Frame{.object = object});
    return true;
  }
  bool end() {
    frames_.pop_back();
    return value();
  }
  // A value ended: the enclosing array moves to its next position.
  bool value() {
    if (!frames_.empty() && !frames_.back().object) {
      ++frames_.back().index;
    }
    return true;
  }
  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.object) {
        out += (out.empty() ? "" : ".") + f.key;
      } else {
        out += fmt::format("[{}]", f.index);
      }
    }
    return out;
  }

  std::vector<Frame> frames_;
  std::string key_;
  std::string duplicate_;
  std::string duplicate_key_;
};

}  // namespace

std::string to_json_text(const json::value& value) {
  std::string out;
  write_json(value, out);
  return out;
}

Result<json::value> parse_json(std::string_view text) {
  json::basic_parser<DuplicateKeyFinder> finder(json::parse_options{});
  boost::system::error_code ec;
  finder.write_some(false, text.data(), text.size(), ec);
  if (!finder.handler().duplicate().empty()) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("{}: the key {} appears twice; give each key once",
                    finder.handler().duplicate(),
                    json::serialize(json::string_view(finder.handler().duplicate_key()))));
  }
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "not valid JSON: " + ec.message());
  }
  return v;
}

}  // namespace rampart
