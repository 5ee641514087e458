#include "store/store.hpp"

#include <fmt/format.h>

#include <utility>

namespace rampart::store {

namespace {

constexpr std::string_view kCompactedPrefix = "compacted: ";

}  // namespace

bool is_compacted(const Error& error) {
  return error.code == Errc::kNotFound && error.message.starts_with(kCompactedPrefix);
}

Error make_compacted_error(std::int64_t requested, std::int64_t compacted) {
  return make_error(Errc::kNotFound,
                    fmt::format("{}revision {} has been compacted (history starts after {}); "
                                "re-read the state with a range and resume from its revision",
                                kCompactedPrefix, requested, compacted));
}

Subscription::Subscription(Subscription&& other) noexcept : cancel_(std::move(other.cancel_)) {
  other.cancel_ = nullptr;
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    cancel_ = std::move(other.cancel_);
    other.cancel_ = nullptr;
  }
  return *this;
}

void Subscription::reset() {
  if (!cancel_) {
    return;
  }
  auto cancel = std::move(cancel_);
  cancel_ = nullptr;
  cancel();
}

Result<std::int64_t> Store::put(std::string key, std::string value, LeaseId lease) {
  TxnRequest request;
  request.success.emplace_back(
      PutOp{.key = std::move(key), .value = std::move(value), .lease = lease});
  auto response = txn(request);
  if (!response) {
    return response.error();
  }
  return response->revision;
}

Result<std::optional<KeyValue>> Store::get(std::string key) {
  auto response = range(key);
  if (!response) {
    return response.error();
  }
  if (response->kvs.empty()) {
    return std::optional<KeyValue>{};
  }
  return std::optional<KeyValue>{std::move(response->kvs.front())};
}

Result<std::int64_t> Store::del(std::string key, bool prefix) {
  TxnRequest request;
  request.success.emplace_back(DeleteOp{.key = std::move(key), .prefix = prefix});
  auto response = txn(request);
  if (!response) {
    return response.error();
  }
  return std::get<DeleteResponse>(response->responses.front()).deleted;
}

}  // namespace rampart::store
