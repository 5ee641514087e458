#include "gateway/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>

namespace rampart::gateway {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kLookupThreads = 2;

}  // namespace

std::optional<asio::ip::address> literal_address(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return std::nullopt;
  }
  return address;
}

LookupResult system_lookup(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  LookupResult out;
  if (rc != 0) {
    out.error = ::gai_strerror(rc);
    out.temporary = rc == EAI_AGAIN || rc == EAI_SYSTEM || rc == EAI_MEMORY;
    return out;
  }
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, b.size());
      out.addresses.emplace_back(asio::ip::address_v4(b));
    } else if (a->ai_family == AF_INET6) {
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, b.size());
      out.addresses.emplace_back(asio::ip::address_v6(b));
    }
  }
  ::freeaddrinfo(list);
  if (out.addresses.empty()) {
    out.error = "no address";
  }
  return out;
}

struct UpstreamResolver::State {
  using Clock = std::chrono::steady_clock;
  struct Entry {
    HostAnswer answer;
    Clock::time_point due{};  // when to look it up next
    std::chrono::milliseconds backoff{0};
    bool in_flight = false;
  };

  explicit State(Options o, std::function<void()> callback)
      : options(std::move(o)), on_change(std::move(callback)) {}

  // REQUIRES: mutex held. The entry due first that no thread is looking up, or end().
  std::map<std::string, Entry, std::less<>>::iterator next_due();
  // REQUIRES: mutex held. Stores `result` for `host`; true when the answer changed.
  bool store(const std::string& host, LookupResult result);

  Options options;
  std::function<void()> on_change;
  std::mutex mutex;
  std::condition_variable work;                       // lookups due, or stopping
  std::condition_variable answered;                   // a lookup finished
  std::condition_variable changed;                    // for the notifier
  std::map<std::string, Entry, std::less<>> entries;  // GUARDED_BY(mutex)
  bool change_pending = false;                        // GUARDED_BY(mutex)
  bool stopping = false;                              // GUARDED_BY(mutex)
};

UpstreamResolver::UpstreamResolver(Options options, std::function<void()> on_change) {
  if (!options.lookup) {
    options.lookup = system_lookup;
  }
  state_ = std::make_shared<State>(std::move(options), std::move(on_change));
  for (std::size_t i = 0; i < kLookupThreads; ++i) {
    std::thread([state = state_] { lookup_loop(state); }).detach();
  }
  notifier_ = std::thread([state = state_.get()] { notify_loop(*state); });
}

UpstreamResolver::~UpstreamResolver() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->work.notify_all();
  state_->changed.notify_all();
  state_->answered.notify_all();
  notifier_.join();
}

HostAnswers UpstreamResolver::resolve(const std::vector<std::string>& hosts,
                                      std::chrono::milliseconds wait) {
  State& st = *state_;
  std::unique_lock lock(st.mutex);
  const std::set<std::string, std::less<>> wanted(hosts.begin(), hosts.end());
  std::erase_if(st.entries, [&](const auto& e) { return !wanted.contains(e.first); });
  bool added = false;
  for (const auto& host : wanted) {
    added = st.entries.try_emplace(host).second || added;
  }
  if (added) {
    st.work.notify_all();
  }
  st.answered.wait_for(lock, wait, [&] {
    return st.stopping || std::none_of(wanted.begin(), wanted.end(), [&](const std::string& h) {
             return st.entries.at(h).answer.pending;
           });
  });
  HostAnswers out;
  for (const auto& host : wanted) {
    out.emplace(host, st.entries.at(host).answer);
  }
  return out;
}

HostAnswers UpstreamResolver::answers_for(const std::vector<std::string>& hosts) const {
  std::lock_guard lock(state_->mutex);
  HostAnswers out;
  for (const auto& host : hosts) {
    auto it = state_->entries.find(host);
    out.emplace(host, it == state_->entries.end() ? HostAnswer{} : it->second.answer);
  }
  return out;
}

void UpstreamResolver::set_refresh(std::chrono::milliseconds refresh) {
  std::lock_guard lock(state_->mutex);
  state_->options.refresh = refresh;
}

void UpstreamResolver::lookup_loop(const std::shared_ptr<State>& state) {
  State& st = *state;
  std::unique_lock lock(st.mutex);
  while (!st.stopping) {
    auto next = st.next_due();
    if (next == st.entries.end()) {
      st.work.wait(lock);
      continue;
    }
    if (const auto due = next->second.due; due > State::Clock::now()) {
      st.work.wait_until(lock, due);  // a copy: the entry may be forgotten while we wait
      continue;
    }
    const std::string host = next->first;
    next->second.in_flight = true;
    lock.unlock();
    LookupResult result = st.options.lookup(host);
    lock.lock();
    if (st.store(host, std::move(result))) {
      st.change_pending = true;
      st.changed.notify_one();
    }
    st.answered.notify_all();
  }
}

std::map<std::string, UpstreamResolver::State::Entry, std::less<>>::iterator
UpstreamResolver::State::next_due() {
  auto next = entries.end();
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (!it->second.in_flight && (next == entries.end() || it->second.due < next->second.due)) {
      next = it;
    }
  }
  return next;
}

bool UpstreamResolver::State::store(const std::string& host, LookupResult result) {
  auto it = entries.find(host);
  if (it == entries.end()) {
    return false;  // forgotten while it was looked up
  }
  Entry& e = it->second;
  e.in_flight = false;
  HostAnswer next;
  next.pending = false;
  next.error = std::move(result.error);
  if (next.error.empty()) {
    next.addresses = std::move(result.addresses);
    e.backoff = std::chrono::milliseconds(0);
    e.due = Clock::now() + options.refresh;
  } else {
    if (result.temporary) {
      next.addresses = e.answer.addresses;  // stale, but the best there is
    }
    e.backoff = e.backoff.count() == 0 ? std::min(options.first_retry, options.refresh)
                                       : std::min(e.backoff * 2, options.refresh);
    e.due = Clock::now() + e.backoff;
  }
  const bool changed = e.answer.pending || next.addresses != e.answer.addresses ||
                       next.error.empty() != e.answer.error.empty();
  e.answer = std::move(next);
  return changed;
}

void UpstreamResolver::notify_loop(State& st) {
  std::unique_lock lock(st.mutex);
  for (;;) {
    st.changed.wait(lock, [&] { return st.stopping || st.change_pending; });
    if (st.stopping) {
      return;
    }
    st.change_pending = false;
    lock.unlock();
    if (st.on_change) {
      st.on_change();
    }
    lock.lock();
  }
}

}  // namespace rampart::gateway
