#include "common/json_text.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <iterator>

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

}  // namespace

std::string to_json_text(const json::value& value) {
  std::string out;
  write_json(value, out);
  return out;
}

}  // namespace rampart
