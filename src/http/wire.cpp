#include "http/wire.hpp"

#include <cstring>

namespace rampart::http {

namespace bhttp = boost::beast::http;

namespace {

class Writer {
 public:
  explicit Writer(std::span<char> out) : out_(out) {}
  void put(std::string_view s) {
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
void put_fields(W& w, const bhttp::fields& fields) {
  for (const auto& f : fields) {
    w.put(f.name_string());
    w.put(": ");
    w.put(f.value());
    w.put(kCrlf);
  }
  w.put(kCrlf);
}

template <class W>
void put_start(W& w, const bhttp::request_header<>& head) {
  w.put(head.method_string());
  w.put(" ");
  w.put(head.target());
  w.put(" HTTP/1.1\r\n");
}

struct StringWriter {
  std::string& s;
  void put(std::string_view v) { s.append(v); }
};

template <class Head>
std::string to_string(const Head& head) {
  std::string s;
  s.reserve(512);
  StringWriter w{s};
  put_start(w, head);
  put_fields(w, head);
  return s;
}

}  // namespace

std::size_t write_head(const bhttp::request_header<>& head, std::span<char> out) {
  Writer w(out);
  put_start(w, head);
  put_fields(w, head);
  return w.result();
}

std::string head_string(const bhttp::request_header<>& head) { return to_string(head); }

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
