#include "http/wire.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace rampart::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

class Writer {
 public:
  explicit Writer(std::span<char> out) : out_(out) {}
  void put(std::string_view s) {
    if (s.empty()) {
      return;  // (an empty view may hold a null pointer, which memcpy must not get)
    }
    if (s.size() > out_.size() - used_) {
      overflow_ = true;
      return;
    }
    std::memcpy(out_.data() + used_, s.data(), s.size());
    used_ += s.size();
  }
  std::size_t result() const { return overflow_ ? 0 : used_; }

 private:
  std::span<char> out_;
  std::size_t used_ = 0;
  bool overflow_ = false;
};

template <class W>
void put_start(W& w, const bhttp::request_header<>& head, const Forwarding& fw) {
  w.put(head.method_string());
  w.put(" ");
  if (fw.absolute_form) {
    if (fw.origin_form.empty() || fw.origin_form.front() == '?') {
      w.put("/");
    }
    w.put(fw.origin_form);
  } else {
    w.put(head.target());
  }
  w.put(" HTTP/1.1\r\nHost: ");
  w.put(fw.host.empty() ? fw.upstream_host : fw.host);
  w.put(kCrlf);
}

// True for a name with '_' that reads, with '_' as '-', as a field the gateway frames, routes
// or forwards on.
bool is_underscore_twin(std::string_view name) {
  if (name.find('_') == std::string_view::npos) {
    return false;
  }
  static constexpr std::string_view kTwins[] = {
      "content_length",  "transfer_encoding", "host",
      "x_forwarded_for", "x_forwarded_proto", "x_forwarded_host",
  };
  return std::any_of(std::begin(kTwins), std::end(kTwins), [&](std::string_view twin) {
    if (twin.size() != name.size()) {
      return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i] == '-' ? '_' : name[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != twin[i]) {
        return false;
      }
    }
    return true;
  });
}

// True for the fields a forwarded request leaves out (see write_forwarded_head).
bool dropped_when_forwarding(const bhttp::fields::value_type& f,
                             const std::vector<std::string_view>& connection_named) {
  switch (f.name()) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::upgrade:
    case bhttp::field::transfer_encoding:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::expect:
    case bhttp::field::host:  // written once, the host routed on (put_start)
      return true;
    case bhttp::field::unknown: {
      const std::string_view name = f.name_string();
      if (beast::iequals(name, "X-Forwarded-For") || beast::iequals(name, "X-Forwarded-Proto") ||
          beast::iequals(name, "X-Forwarded-Host") || is_underscore_twin(name)) {
        return true;
      }
      break;
    }
    default:
      break;
  }
  if (connection_named.empty()) {
    return false;
  }
  const std::string_view name = f.name_string();
  return std::any_of(connection_named.begin(), connection_named.end(),
                     [&](std::string_view n) { return beast::iequals(n, name); });
}

template <class W>
void put_forwarded(W& w, const bhttp::request_header<>& head, const Forwarding& fw) {
  // The fields the Connection header names are hop-by-hop too (rare: usually just "close"
  // or "keep-alive", which name no field).
  std::vector<std::string_view> named;
  for (const auto& f : head) {
    if (f.name() == bhttp::field::connection) {
      for (auto t : bhttp::token_list{f.value()}) {
        if (!beast::iequals(t, "close") && !beast::iequals(t, "keep-alive")) {
          named.emplace_back(t.data(), t.size());
        }
      }
    }
  }
  put_start(w, head, fw);
  for (const auto& f : head) {
    if (dropped_when_forwarding(f, named) ||
        (fw.content_length && f.name() == bhttp::field::content_length)) {
      continue;
    }
    w.put(f.name_string());
    w.put(": ");
    w.put(f.value());
    w.put(kCrlf);
  }
  if (fw.content_length) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *fw.content_length);
    w.put("Content-Length: ");
    w.put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    w.put(kCrlf);
  }
  w.put("X-Forwarded-For: ");
  if (!fw.prior_forwarded_for.empty()) {
    w.put(fw.prior_forwarded_for);
    w.put(", ");
  }
  w.put(fw.client_ip);
  w.put("\r\nX-Forwarded-Proto: http\r\n");
  if (!fw.host.empty()) {
    w.put("X-Forwarded-Host: ");
    w.put(fw.host);
    w.put(kCrlf);
  }
  if (fw.chunked) {
    w.put("Transfer-Encoding: chunked\r\n");
  }
  w.put(kCrlf);
}

struct StringWriter {
  std::string& s;
  void put(std::string_view v) { s.append(v); }
};

}  // namespace

std::size_t write_forwarded_head(const bhttp::request_header<>& head, const Forwarding& forwarding,
                                 std::span<char> out) {
  Writer w(out);
  put_forwarded(w, head, forwarding);
  return w.result();
}

std::string forwarded_head_string(const bhttp::request_header<>& head,
                                  const Forwarding& forwarding) {
  std::string s;
  s.reserve(1024);
  StringWriter w{s};
  put_forwarded(w, head, forwarding);
  return s;
}

bool read_as_http11(char* data, std::size_t size) {
  const std::string_view message(data, size);
  constexpr std::string_view kName = "HTTP/1.";
  const auto later_minor = [](char c) { return c >= '2' && c <= '9'; };
  if (message.starts_with(kName) && message.size() > kName.size() + 1 &&
      later_minor(message[kName.size()]) && message[kName.size() + 1] == ' ') {
    data[kName.size()] = '1';
    return true;
  }
  const std::size_t eol = message.find("\r\n");
  constexpr std::string_view kSuffix = " HTTP/1.";
  if (eol == std::string_view::npos || eol < kSuffix.size() + 1) {
    return false;
  }
  const std::size_t digit = eol - 1;
  if (message.substr(digit - kSuffix.size(), kSuffix.size()) != kSuffix ||
      !later_minor(message[digit])) {
    return false;
  }
  data[digit] = '1';
  return true;
}

std::size_t write_chunk_size(std::size_t size, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  std::size_t n = 0;
  do {
    digits[n++] = kHex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = digits[n - 1 - i];
  }
  out[n] = '\r';
  out[n + 1] = '\n';
  return n + 2;
}

}  // namespace rampart::http
