#pragma once
// Who else listens on a TCP port: the check that keeps two gateways from sharing one address.
//
// SO_REUSEPORT lets every socket that sets it bind the same address, and the kernel then deals
// the connections out among all of them, whichever process owns them. So a gateway binds its
// workers' sockets and then looks in /proc/net/tcp and /proc/net/tcp6 for listening sockets on
// its port that are not its own (by socket inode): any there means another process serves the
// same address, and the gateway refuses to start.

#include <boost/asio/ip/tcp.hpp>

#include <sys/types.h>

#include <string_view>
#include <vector>

namespace rampart::gateway {

struct ListeningSocket {
  boost::asio::ip::address address;
  unsigned short port = 0;
  ino_t inode = 0;
};

// The LISTEN entries of a /proc/net/tcp (v6 = false) or /proc/net/tcp6 (v6 = true) text.
// Lines that do not parse are skipped.
std::vector<ListeningSocket> parse_proc_net_tcp(std::string_view text, bool v6);

// Whether `socket` would take connections meant for `endpoint`: the same port, and the same
// address or either of them a wildcard.
bool overlaps(const ListeningSocket& socket, const boost::asio::ip::tcp::endpoint& endpoint);

// The inode of the socket behind `fd`, 0 if fstat fails.
ino_t socket_inode(int fd);

// Whether a socket not among `ours` listens where `endpoint` does (read from /proc/net).
bool another_listener(const boost::asio::ip::tcp::endpoint& endpoint,
                      const std::vector<ino_t>& ours);

}  // namespace rampart::gateway
