#include "gateway/listeners.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace rampart::gateway {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kListenState = "0A";

bool parse_hex32(std::string_view text, uint32_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc{} && end == text.data() + text.size();
}

// "0100007F" (IPv4) or 32 hex digits (IPv6): 32-bit words in the kernel's (host) byte order.
bool parse_address(std::string_view hex, bool v6, asio::ip::address& out) {
  const std::size_t words = v6 ? 4 : 1;
  if (hex.size() != words * 8) {
    return false;
  }
  std::array<unsigned char, 16> bytes{};
  for (std::size_t w = 0; w < words; ++w) {
    uint32_t word = 0;
    if (!parse_hex32(hex.substr(w * 8, 8), word)) {
      return false;
    }
    std::memcpy(bytes.data() + w * 4, &word, 4);  // back to network order on this host
  }
  if (!v6) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(bytes.begin(), 4, b.begin());
    out = asio::ip::address_v4(b);
  } else {
    out = asio::ip::address_v6(bytes);
  }
  return true;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<ListeningSocket> parse_proc_net_tcp(std::string_view text, bool v6) {
  std::vector<ListeningSocket> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  std::getline(lines, line);  // the column names
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode) ||
        state != kListenState) {
      continue;
    }
    const auto colon = local.find(':');
    uint32_t port = 0;
    ListeningSocket s;
    if (colon == std::string::npos ||
        !parse_address(std::string_view(local).substr(0, colon), v6, s.address) ||
        !parse_hex32(std::string_view(local).substr(colon + 1), port) || port > 0xFFFF) {
      continue;
    }
    s.port = static_cast<unsigned short>(port);
    s.inode = static_cast<ino_t>(std::strtoull(inode.c_str(), nullptr, 10));
    out.push_back(s);
  }
  return out;
}

bool overlaps(const ListeningSocket& socket, const asio::ip::tcp::endpoint& endpoint) {
  if (socket.port != endpoint.port()) {
    return false;
  }
  const auto& a = socket.address;
  const auto& b = endpoint.address();
  return a.is_unspecified() || b.is_unspecified() || a == b;
}

ino_t socket_inode(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

bool another_listener(const asio::ip::tcp::endpoint& endpoint, const std::vector<ino_t>& ours) {
  for (const auto& [path, v6] : {std::pair{"/proc/net/tcp", false}, {"/proc/net/tcp6", true}}) {
    for (const ListeningSocket& s : parse_proc_net_tcp(read_file(path), v6)) {
      if (overlaps(s, endpoint) && std::find(ours.begin(), ours.end(), s.inode) == ours.end()) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace rampart::gateway
