#pragma once
// A Store kept in this process's memory, for unit tests: the same semantics as SqliteStore
// (the conformance suite runs against both), nothing durable. Thread-safe (LocalStore).

#include "store/local_store.hpp"

namespace rampart::store {

class MemoryStore final : public LocalStore {
 public:
  explicit MemoryStore(StoreOptions options = {});
};

}  // namespace rampart::store
