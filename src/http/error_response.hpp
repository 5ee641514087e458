#pragma once
// Errors of the gateway itself, always JSON (never an HTML page):
//   {"error": "no_route", "detail": "...", "service": "shop" | null, "version": "v2" | null}

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace rampart::http {

boost::beast::http::response<boost::beast::http::string_body> make_error_response(
    boost::beast::http::status status, std::string_view error, std::string_view detail,
    std::string_view service, std::string_view version, bool keep_alive);

}  // namespace rampart::http
