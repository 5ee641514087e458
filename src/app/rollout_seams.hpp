#pragma once
// The rollout controller's seams as the server fills them (control/rollout_controller.hpp): the
// checks a rollout waits for and the confirm-promotion hooks, over the real network.

#include "control/deployment_service.hpp"
#include "control/rollout_checks.hpp"
#include "model/rollout_record.hpp"
#include "runner/fleet.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace rampart::app {

using ChecksSeam =
    std::function<control::CheckOutcome(const model::Rollout&, const std::atomic<bool>&)>;
using ConfirmSeam = std::function<std::optional<std::string>(const model::Rollout&, std::uint32_t,
                                                             const std::atomic<bool>&)>;

// The checks a rollout waits for (pending: before traffic; verifying: after full promotion):
// the service's policy, the new version's upstreams, and the gateway's own address for the
// verify requests. A version that rampart runs is first waited for in `fleet` (every instance
// started and healthy, up to kInstanceStartWait); its start failure, with the instance's last
// log lines, fails the checks, so no traffic moves to it.
inline constexpr std::chrono::seconds kInstanceStartWait{60};
ChecksSeam rollout_checks(control::DeploymentService& service, const runner::Fleet& fleet,
                          const boost::asio::ip::tcp::endpoint& gateway);

// The service's policy as stored now, its hooks asked over HTTP(S), each attempt cut short when
// the controller stops waiting.
ConfirmSeam rollout_confirm(control::DeploymentService& service);

}  // namespace rampart::app
