#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace rampart::gateway {

class Worker;

// Serves one client connection on `worker`'s thread until it closes: read a request header,
// route, pick the version, forward over a pooled upstream connection streaming both bodies,
// answer, and loop while keep-alive holds.
boost::asio::awaitable<void> serve_connection(Worker* worker, boost::asio::ip::tcp::socket socket);

}  // namespace rampart::gateway
