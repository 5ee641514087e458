#pragma once
// Internal to src/model: reading the fields of a stored record (codec.cpp, policy_codec.cpp).

#include "common/result.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::model::detail {

namespace json = boost::json;

// Reads the fields of one record object. The first problem is kept and later reads return
// defaults, so a decoder reads top to bottom and checks error() once at the end.
class Fields {
 public:
  Fields(const json::object& object, std::string_view kind) : object_(object), kind_(kind) {}

  std::optional<Error> error() const { return error_; }

  bool has(std::string_view key) const { return object_.contains(key); }

  std::string string(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return {};
    }
    if (!v->is_string()) {
      fail(key, "must be a string");
      return {};
    }
    return std::string(v->get_string());
  }

  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return 0;
    }
    return integer_value(key, *v, min, max);
  }

  // null (or absent when `required` is false) -> nullopt.
  std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, bool required) {
    if (!required && !has(key)) {
      return std::nullopt;
    }
    const json::value* v = find(key);
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    return integer_value(key, *v, min, max);
  }

  double number(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return 0;
    }
    if (v->is_double()) {
      return v->get_double();
    }
    if (v->is_int64()) {
      return static_cast<double>(v->get_int64());
    }
    if (v->is_uint64()) {
      return static_cast<double>(v->get_uint64());
    }
    fail(key, "must be a number");
    return 0;
  }

  // null or absent -> nullopt.
  std::optional<double> optional_number(std::string_view key) {
    const json::value* v = object_.if_contains(key);
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    return number(key);
  }

  bool boolean(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return false;
    }
    if (!v->is_bool()) {
      fail(key, "must be true or false");
      return false;
    }
    return v->get_bool();
  }

  const json::object* object(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return nullptr;
    }
    if (!v->is_object()) {
      fail(key, "must be an object");
      return nullptr;
    }
    return &v->get_object();
  }

  const json::array* array(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
      return nullptr;
    }
    if (!v->is_array()) {
      fail(key, "must be an array");
      return nullptr;
    }
    return &v->get_array();
  }

  const json::value* any(std::string_view key) { return find(key); }

  // An element of an array field must be an object: fields of it are read with a nested
  // Fields whose kind names the element, e.g. `deployment record: split[1]`.
  const json::object* element_object(std::string_view key, std::size_t index,
                                     const json::value& element) {
    if (!element.is_object()) {
      fail(fmt::format("{}[{}]", key, index), "must be an object");
      return nullptr;
    }
    return &element.get_object();
  }

  std::string element_string(std::string_view key, std::size_t index, const json::value& element) {
    if (!element.is_string()) {
      fail(fmt::format("{}[{}]", key, index), "must be a string");
      return {};
    }
    return std::string(element.get_string());
  }

  // Takes over a nested reader's problem.
  void adopt(const Fields& nested) {
    if (!error_ && nested.error_) {
      error_ = nested.error_;
    }
  }

  void fail(std::string_view key, std::string_view what) {
    if (!error_) {
      error_ =
          make_error(Errc::kInvalidArgument, fmt::format("{}: field \"{}\" {}", kind_, key, what));
    }
  }

 private:
  const json::value* find(std::string_view key) {
    const json::value* v = object_.if_contains(key);
    if (v == nullptr) {
      fail(key, "is missing");
    }
    return v;
  }

  std::int64_t integer_value(std::string_view key, const json::value& v, std::int64_t min,
                             std::int64_t max) {
    std::optional<std::int64_t> n;
    if (v.is_int64()) {
      n = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(
                                                      std::numeric_limits<std::int64_t>::max())) {
      n = static_cast<std::int64_t>(v.get_uint64());
    }
    if (!n) {
      fail(key, "must be an integer");
      return 0;
    }
    if (*n < min || *n > max) {
      fail(key, fmt::format("is {}, outside [{}, {}]", *n, min, max));
      return 0;
    }
    return *n;
  }

  const json::object& object_;
  std::string kind_;
  std::optional<Error> error_;
};

inline constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();

// Parses `text` as one JSON object of kind `kind` and checks its schema against `current`.
inline Result<std::pair<json::object, int>> open_record(std::string_view text,
                                                        std::string_view kind, int current) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} record: not valid JSON: {}", kind, ec.message()));
  }
  if (!value.is_object()) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} record: must be a JSON object", kind));
  }
  json::object object = std::move(value.get_object());
  Fields fields(object, fmt::format("{} record", kind));
  const auto schema = fields.integer("schema", 1, kInt64Max);
  if (auto e = fields.error()) {
    return *e;
  }
  if (schema > current) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} record has schema {}, newer than this rampart knows ({}); "
                                  "upgrade rampart to read it",
                                  kind, schema, current));
  }
  return std::pair{std::move(object), static_cast<int>(schema)};
}

inline json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) {
    out.emplace_back(item);
  }
  return out;
}

inline std::vector<std::string> read_string_array(Fields& fields, std::string_view key) {
  std::vector<std::string> out;
  const json::array* items = fields.array(key);
  if (items == nullptr) {
    return out;
  }
  for (std::size_t i = 0; i < items->size(); ++i) {
    out.push_back(fields.element_string(key, i, (*items)[i]));
  }
  return out;
}

}  // namespace rampart::model::detail
