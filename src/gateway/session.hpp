#pragma once

#include "gateway/io.hpp"

namespace rampart::gateway {

class Worker;

// Serves one client connection on `worker`'s thread until it closes: read a request header,
// route, pick the version, forward over a pooled upstream connection streaming both bodies,
// answer, and loop while keep-alive holds.
Awaitable<void> serve_connection(Worker* worker, Socket socket);

}  // namespace rampart::gateway
