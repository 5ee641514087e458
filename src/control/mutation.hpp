#pragma once
// Internal to src/control: the read-decide-commit loop every mutation of DeploymentService runs
// (see deployment_service.hpp for the contract), and helpers to decode stored records.

#include "common/result.hpp"
#include "model/records.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control::detail {

// Range reads answered by one read-only transaction, i.e. at one revision.
struct Ranges {
  std::int64_t revision = 0;
  std::vector<store::RangeResponse> ranges;  // one per RangeOp, in order
};
Result<Ranges> read_ranges(store::Store& store, std::vector<store::RangeOp> ops);

// The kvs of the ids [first, last] under `base` (keys::id_range_prefixes), in id order,
// without reading the rest of `base`. Reads in several transactions when the interval needs
// more than store::kMaxOpsPerTxn prefixes: only for immutable records (deployments,
// checkpoints, audit events).
Result<std::vector<store::KeyValue>> read_ids(store::Store& store, std::string_view base,
                                              std::int64_t first, std::int64_t last);

// What one attempt read, at one revision: the ranges it asked for (in order) and the audit
// counter.
struct View {
  std::int64_t revision = 0;
  std::vector<store::RangeResponse> ranges;
  std::int64_t audit_seq = 0;           // the last audit seq written (0: none yet)
  std::int64_t audit_mod_revision = 0;  // the counter key's mod_revision (0: absent)
};

// One read-only transaction: `ranges` plus the audit counter.
Result<View> read_view(store::Store& store, std::vector<store::RangeOp> ranges);

// What one attempt wants written, and the audit event describing it.
class Plan {
 public:
  explicit Plan(const View& view)
      : audit_seq_seen_(view.audit_seq), audit_mod_revision_seen_(view.audit_mod_revision) {}

  // Puts `key` if its mod_revision is still `seen_mod_revision` (0: the key must not exist).
  void put(std::string key, std::string value, std::int64_t seen_mod_revision);
  // Deletes `key` if its mod_revision is still `seen_mod_revision`.
  void remove(std::string key, std::int64_t seen_mod_revision);
  // Adds a compare that does not write: the key's mod_revision is still `seen_mod_revision`.
  void expect(std::string key, std::int64_t seen_mod_revision);

  bool empty() const { return writes_.empty(); }

  // Fills in the audit event (all but seq, which mutate() assigns from the counter).
  void describe(std::int64_t at, std::string_view actor, std::string action, std::string target,
                boost::json::value before, boost::json::value after);

  // Everything but seq is the attempt's to fill (describe() does it at once).
  model::AuditEvent audit;

 private:
  friend Result<std::optional<std::int64_t>> mutate(
      store::Store& store, const std::function<Result<std::optional<Plan>>()>& attempt);

  std::int64_t audit_seq_seen_;
  std::int64_t audit_mod_revision_seen_;
  std::vector<store::Compare> compares_;
  std::vector<store::Op> writes_;
};

// Runs attempt() until its plan commits together with its audit event (seq = the counter + 1)
// and the advanced counter, guarded by the counter's mod_revision. attempt() answers an error
// (returned as is), std::nullopt (nothing to write: mutate answers std::nullopt) or a plan.
// A plan that lost the race is dropped and attempt() runs again, up to kMaxAttempts times
// (then kConflict). A plan too large for one transaction answers kInvalidArgument.
Result<std::optional<std::int64_t>> mutate(
    store::Store& store, const std::function<Result<std::optional<Plan>>()>& attempt);

// The only kv of a range of one key, or nullptr.
const store::KeyValue* only(const store::RangeResponse& range);

// Decodes a stored record; a failure becomes kInternal naming the key. Deployments and audit
// events get their revision from the kv.
Result<model::Service> decode_service(const store::KeyValue& kv);
Result<model::Version> decode_version(const store::KeyValue& kv);
Result<model::Deployment> decode_deployment(const store::KeyValue& kv);
Result<model::Checkpoint> decode_checkpoint(const store::KeyValue& kv);
Result<model::AuditEvent> decode_audit_event(const store::KeyValue& kv);
Result<model::Token> decode_token(const store::KeyValue& kv);

// A counter's value ("42"); a missing counter (nullptr) is 0.
Result<std::int64_t> decode_counter(const store::KeyValue* kv);

}  // namespace rampart::control::detail
