#pragma once
// Upstream host names, resolved off the request path.
//
// The route table never resolves a name itself: it reads the answers this resolver holds
// (HostAnswers), so compiling a snapshot never blocks on DNS and never fails because of it.
// The resolver keeps the names the last snapshot asked for, looks each up on its own lookup
// threads, and looks them up again every `refresh` interval (a name that failed is tried again
// sooner, with exponential backoff from 1 s up to `refresh`). Whenever an answer changes (a
// name resolves, stops resolving, or moves to another address) it calls `on_change` from its
// notifier thread, so the owner can compile the routes again.
//
// What an answer means:
//   - addresses: the name resolved; the first address is used (as getaddrinfo orders them).
//   - a failure that says the name does not exist (EAI_NONAME: a typo, a removed record) makes
//     the upstream unresolved: its version has no address for it, and requests that can reach
//     no other upstream of that version are answered 503 with the reason.
//   - a temporary failure (the DNS server does not answer, EAI_AGAIN) keeps the addresses of
//     the last good answer, if there was one, and is reported in `error` beside them: a DNS
//     outage does not take down upstreams that still work.
//
// Thread safety: every method may be called from any thread. `on_change` is called from one
// thread, never concurrently with itself, and never while a lock of the resolver is held; it may
// call answers_for(). It must not wait for the resolver's destruction.

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rampart::gateway {

struct HostAnswer {
  std::vector<boost::asio::ip::address> addresses;  // empty: unresolved (or not yet answered)
  std::string error;    // the last lookup's failure; empty when it succeeded
  bool pending = true;  // no lookup of this name has finished yet

  friend bool operator==(const HostAnswer&, const HostAnswer&) = default;
};

// Answers by host name, as written in the upstream URL (no brackets, any case).
using HostAnswers = std::map<std::string, HostAnswer, std::less<>>;

// The outcome of one lookup, for the resolver's seam.
struct LookupResult {
  std::vector<boost::asio::ip::address> addresses;
  std::string error;       // empty on success
  bool temporary = false;  // with error: worth keeping the last good addresses
};

class UpstreamResolver {
 public:
  using Lookup = std::function<LookupResult(const std::string& host)>;

  struct Options {
    std::chrono::milliseconds refresh{30000};     // how often a good answer is looked up again
    std::chrono::milliseconds first_retry{1000};  // the first retry after a failure
    Lookup lookup;                                // getaddrinfo when empty
  };

  UpstreamResolver(Options options, std::function<void()> on_change);
  // Stops the notifier (on_change is not called after this returns). A lookup in progress is
  // not waited for: it finishes on its own and its answer is dropped.
  ~UpstreamResolver();

  UpstreamResolver(const UpstreamResolver&) = delete;
  UpstreamResolver& operator=(const UpstreamResolver&) = delete;

  // Makes `hosts` the names to keep resolved (names no longer in it are forgotten) and answers
  // for them. Names never looked up before are looked up now: this waits up to `wait` for their
  // first answers, and what has not answered by then comes back pending (and is published by
  // on_change when it does).
  HostAnswers resolve(const std::vector<std::string>& hosts, std::chrono::milliseconds wait);

  // The answers held for `hosts`, without waiting and without changing what is kept resolved.
  HostAnswers answers_for(const std::vector<std::string>& hosts) const;

  void set_refresh(std::chrono::milliseconds refresh);

 private:
  struct State;

  static void lookup_loop(const std::shared_ptr<State>& state);
  static void notify_loop(State& state);

  std::shared_ptr<State> state_;  // shared with the lookup threads, which may outlive this
  std::thread notifier_;
};

// getaddrinfo for `host` (TCP, any family), as the resolver's default lookup.
LookupResult system_lookup(const std::string& host);

// The address of a host that needs no lookup: an IPv4 or IPv6 literal ("[::1]" too).
std::optional<boost::asio::ip::address> literal_address(std::string_view host);

}  // namespace rampart::gateway
