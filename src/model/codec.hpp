#pragma once
// JSON codecs of the records (model/records.hpp): what the store holds as values.
//
// encode() writes the record's current schema (`"schema": N` first, then the fields in a fixed
// order, so equal records encode to equal bytes). The decoders:
//   - accept every schema from 1 to the current one; a field added by a later schema is
//     required in records of that schema and filled with its default in older ones
//     (additive changes only);
//   - refuse a record of a newer schema than this build knows, naming both numbers;
//   - ignore fields they do not know (a newer writer's additions within a known schema);
//   - check types and ranges, not semantics (names and splits are checked on write,
//     model/validate.hpp).
// Every decoder error is kInvalidArgument; its message starts with the record's kind
// ("deployment record: ...") and names the field.
// Fields documented "not encoded" (Deployment::revision, AuditEvent::revision) are left 0.

#include "common/result.hpp"
#include "model/records.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::model {

std::string encode(const Service& service);
std::string encode(const Version& version);
std::string encode(const Deployment& deployment);
std::string encode(const Checkpoint& checkpoint);
std::string encode(const AuditEvent& event);
std::string encode(const Token& token);

// The object encode() serializes, for callers that embed a record in a larger document (audit
// events, API responses).
boost::json::object to_json(const Service& service);
boost::json::object to_json(const Version& version);
boost::json::object to_json(const Deployment& deployment);
boost::json::object to_json(const Checkpoint& checkpoint);
boost::json::object to_json(const AuditEvent& event);
boost::json::object to_json(const Token& token);

// A share in percent as the API and the CLI write it: a whole number when it is one (90),
// else a number with up to two decimals (12.5). Not the stored form (basis points).
boost::json::value percent_json(std::uint32_t basis_points);

Result<Service> decode_service(std::string_view json);
Result<Version> decode_version(std::string_view json);
Result<Deployment> decode_deployment(std::string_view json);
Result<Checkpoint> decode_checkpoint(std::string_view json);
Result<AuditEvent> decode_audit_event(std::string_view json);
Result<Token> decode_token(std::string_view json);

}  // namespace rampart::model
