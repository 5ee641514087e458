#include "control/mutation.hpp"

#include "control/deployment_service.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace rampart::control::detail {

namespace {

template <class T>
Result<T> decode_stored(const store::KeyValue& kv, Result<T> (*decode)(std::string_view)) {
  auto record = decode(kv.value);
  if (!record) {
    return make_error(Errc::kInternal,
                      fmt::format("stored record \"{}\": {}", kv.key, record.error().message));
  }
  return record;
}

}  // namespace

Result<Ranges> read_ranges(store::Store& store, std::vector<store::RangeOp> ops) {
  store::TxnRequest request;
  request.success.reserve(ops.size());
  for (auto& op : ops) {
    request.success.emplace_back(std::move(op));
  }
  auto response = store.txn(request);
  if (!response) {
    return response.error();
  }
  Ranges out;
  out.revision = response->revision;
  out.ranges.reserve(response->responses.size());
  for (auto& op : response->responses) {
    out.ranges.push_back(std::move(std::get<store::RangeResponse>(op)));
  }
  return out;
}

Result<std::vector<store::KeyValue>> read_ids(store::Store& store, std::string_view base,
                                              std::int64_t first, std::int64_t last) {
  std::vector<store::KeyValue> out;
  first = std::max<std::int64_t>(first, 1);
  last = std::min(last, model::kMaxId);
  const auto prefixes = model::keys::id_range_prefixes(base, first, last);
  for (std::size_t begin = 0; begin < prefixes.size(); begin += store::kMaxOpsPerTxn) {
    const std::size_t end = std::min(prefixes.size(), begin + store::kMaxOpsPerTxn);
    std::vector<store::RangeOp> ops;
    for (std::size_t i = begin; i < end; ++i) {
      ops.push_back(store::RangeOp{.key = prefixes[i], .options = {.prefix = true}});
    }
    auto ranges = read_ranges(store, std::move(ops));
    if (!ranges) {
      return ranges.error();
    }
    for (auto& range : ranges->ranges) {
      for (auto& kv : range.kvs) {
        out.push_back(std::move(kv));
      }
    }
  }
  return out;
}

Result<View> read_view(store::Store& store, std::vector<store::RangeOp> ranges) {
  ranges.push_back(store::RangeOp{.key = model::keys::audit_counter()});
  auto read = read_ranges(store, std::move(ranges));
  if (!read) {
    return read.error();
  }
  View view;
  view.revision = read->revision;
  view.ranges = std::move(read->ranges);
  const store::RangeResponse counter = std::move(view.ranges.back());
  view.ranges.pop_back();
  const store::KeyValue* kv = only(counter);
  auto seq = decode_counter(kv);
  if (!seq) {
    return seq.error();
  }
  view.audit_seq = *seq;
  view.audit_mod_revision = kv != nullptr ? kv->mod_revision : 0;
  return view;
}

void Plan::put(std::string key, std::string value, std::int64_t seen_mod_revision) {
  expect(key, seen_mod_revision);
  writes_.emplace_back(store::PutOp{.key = std::move(key), .value = std::move(value)});
}

void Plan::remove(std::string key, std::int64_t seen_mod_revision) {
  expect(key, seen_mod_revision);
  writes_.emplace_back(store::DeleteOp{.key = std::move(key)});
}

void Plan::expect(std::string key, std::int64_t seen_mod_revision) {
  compares_.push_back(store::Compare{.key = std::move(key),
                                     .target = store::CompareTarget::kModRevision,
                                     .op = store::CompareOp::kEqual,
                                     .number = seen_mod_revision});
}

void Plan::describe(std::int64_t at, std::string_view actor, std::string action, std::string target,
                    boost::json::value before, boost::json::value after) {
  audit.at = at;
  audit.actor = std::string(actor);
  audit.action = std::move(action);
  audit.target = std::move(target);
  audit.before = std::move(before);
  audit.after = std::move(after);
}

Result<std::optional<std::int64_t>> mutate(
    store::Store& store, const std::function<Result<std::optional<Plan>>()>& attempt) {
  for (int i = 0; i < kMaxAttempts; ++i) {
    auto planned = attempt();
    if (!planned) {
      return planned.error();
    }
    if (!*planned) {
      return std::optional<std::int64_t>{};
    }
    Plan& plan = **planned;
    const std::int64_t seq = plan.audit_seq_seen_ + 1;
    if (seq > model::kMaxId) {
      return make_error(Errc::kInternal,
                        fmt::format("the audit log is full ({} events)", plan.audit_seq_seen_));
    }
    plan.audit.seq = seq;
    plan.put(model::keys::audit(seq), model::encode(plan.audit), 0);
    plan.put(model::keys::audit_counter(), std::to_string(seq), plan.audit_mod_revision_seen_);
    if (plan.writes_.size() > store::kMaxOpsPerTxn) {
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("this change writes {} keys (its audit event included); one transaction "
                      "may write at most {}: make it in smaller parts",
                      plan.writes_.size(), store::kMaxOpsPerTxn));
    }
    store::TxnRequest request{.compares = std::move(plan.compares_),
                              .success = std::move(plan.writes_)};
    auto response = store.txn(request);
    if (!response) {
      return response.error();
    }
    if (response->succeeded) {
      return std::optional<std::int64_t>{response->revision};
    }
    // Another mutation committed since our read: read again and decide again.
    std::this_thread::yield();
  }
  return make_error(Errc::kConflict,
                    fmt::format("gave up after {} attempts: other changes kept committing first; "
                                "try again",
                                kMaxAttempts));
}

const store::KeyValue* only(const store::RangeResponse& range) {
  return range.kvs.empty() ? nullptr : &range.kvs.front();
}

Result<model::Service> decode_service(const store::KeyValue& kv) {
  return decode_stored(kv, &model::decode_service);
}

Result<model::Version> decode_version(const store::KeyValue& kv) {
  return decode_stored(kv, &model::decode_version);
}

Result<model::Deployment> decode_deployment(const store::KeyValue& kv) {
  auto d = decode_stored(kv, &model::decode_deployment);
  if (d) {
    d->revision = kv.mod_revision;
  }
  return d;
}

Result<model::Checkpoint> decode_checkpoint(const store::KeyValue& kv) {
  return decode_stored(kv, &model::decode_checkpoint);
}

Result<model::AuditEvent> decode_audit_event(const store::KeyValue& kv) {
  auto a = decode_stored(kv, &model::decode_audit_event);
  if (a) {
    a->revision = kv.mod_revision;
  }
  return a;
}

Result<model::Token> decode_token(const store::KeyValue& kv) {
  return decode_stored(kv, &model::decode_token);
}

Result<std::int64_t> decode_counter(const store::KeyValue* kv) {
  if (kv == nullptr) {
    return std::int64_t{0};
  }
  std::int64_t value = 0;
  bool ok = !kv->value.empty() && kv->value.size() <= 10;
  for (char c : kv->value) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (!ok) {
    return make_error(Errc::kInternal,
                      fmt::format("stored counter \"{}\" is not a number", kv->key));
  }
  return value;
}

}  // namespace rampart::control::detail
