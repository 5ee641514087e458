#include "http/error_response.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace rampart::http {

namespace beast = boost::beast;
namespace json = boost::json;

beast::http::response<beast::http::string_body> make_error_response(
    beast::http::status status, std::string_view error, std::string_view detail,
    std::string_view service, std::string_view version, bool keep_alive) {
  json::object body;
  body["error"] = error;
  body["detail"] = detail;
  body["service"] = service.empty() ? json::value(nullptr) : json::value(service);
  body["version"] = version.empty() ? json::value(nullptr) : json::value(version);
  beast::http::response<beast::http::string_body> res{status, 11};
  res.set(beast::http::field::content_type, "application/json");
  res.set(beast::http::field::cache_control, "no-store");
  res.body() = json::serialize(body);
  res.body().push_back('\n');
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace rampart::http
