#include "app/rollout_seams.hpp"

#include "control/webhook_delivery.hpp"
#include "control/webhook_notifier.hpp"

#include <chrono>
#include <thread>

namespace rampart::app {

using boost::asio::ip::tcp;

namespace {

// The base URLs of the rollout's new version once the fleet runs it, or why it does not.
Result<std::vector<std::string>> instance_upstreams(const runner::Fleet& fleet,
                                                    const model::Rollout& r,
                                                    const std::atomic<bool>& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + kInstanceStartWait;
  if (auto s = fleet.wait_running(r.service, r.plan.version, deadline, cancelled); !s) {
    return make_error(s.error().code, "the instances of " + r.plan.version +
                                          " did not start: " + s.error().message);
  }
  return fleet.addresses(r.service, r.plan.version);
}

}  // namespace

ChecksSeam rollout_checks(control::DeploymentService& service, const runner::Fleet& fleet,
                          const tcp::endpoint& gateway) {
  std::string host = gateway.address().is_unspecified()
                         ? (gateway.address().is_v6() ? "::1" : "127.0.0.1")
                         : gateway.address().to_string();
  return [&service, &fleet, host, port = gateway.port()](const model::Rollout& r,
                                                         const std::atomic<bool>& cancelled) {
    auto svc = service.service(r.service);
    auto versions = service.versions(r.service);
    if (!svc || !versions) {
      return control::CheckOutcome{false,
                                   "cannot read service " + r.service + ": " +
                                       (!svc ? svc.error().message : versions.error().message),
                                   {}};
    }
    control::CheckTargets targets;
    targets.version = r.plan.version;
    targets.gateway_host = host;
    targets.gateway_port = port;
    const model::Version* version = nullptr;
    for (const auto& v : *versions) {
      if (v.name == r.plan.version) {
        version = &v;
        targets.upstreams = v.upstreams;
      }
    }
    if (version != nullptr && version->run) {
      auto up = instance_upstreams(fleet, r, cancelled);
      if (!up) {
        return control::CheckOutcome{false, up.error().message, {up.error().message}};
      }
      targets.upstreams = std::move(*up);
    }
    for (const auto& route : svc->routes) {
      if (!route.host.empty()) {
        targets.route_host = route.host;
        break;
      }
    }
    // Sleeps in slices, so that a cancelled check (the rollout aborted, the server stopping)
    // ends within 50 ms of a probe.
    auto sleep = [&cancelled](std::chrono::milliseconds d) {
      const auto until = std::chrono::steady_clock::now() + d;
      while (!cancelled && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return !cancelled.load();
    };
    if (r.progress.phase == rollout::Phase::kVerifying) {
      return control::run_verify(svc->rollout, targets, control::http_probe(), sleep);
    }
    return control::run_checks(svc->rollout, targets, control::http_probe(), sleep);
  };
}

ConfirmSeam rollout_confirm(control::DeploymentService& service) {
  return [&service](const model::Rollout& r, std::uint32_t next_step,
                    const std::atomic<bool>& cancelled) -> std::optional<std::string> {
    auto svc = service.service(r.service);
    if (!svc) {
      return "cannot read service " + r.service + ": " + svc.error().message;
    }
    auto send = [&cancelled](const control::PostRequest& request) {
      return control::http_post(request, [&cancelled] { return cancelled.load(); });
    };
    return control::confirm_promotion(svc->rollout, r, next_step, control::system_unix_ms(), send,
                                      control::secret_from_environment);
  };
}

}  // namespace rampart::app
