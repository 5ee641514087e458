#!/usr/bin/env bash
# clang-format check on every source file; clang-tidy on a curated set of sources.
#
#   scripts/lint.sh [BUILD] [--all]
#
# clang-tidy takes 5-30 s a file on these Boost-heavy sources, ~10 minutes for the whole
# curated set on two cores, so by default it runs on the curated files changed since
# .ci/tidy-base, the commit at which the whole set last passed (a header's change brings in
# the curated sources of its folder), plus a few pure-logic files that are quick. --all runs the
# whole set; after it passes, record the commit: git rev-parse HEAD > .ci/tidy-base. Without
# that commit in the history (a shallow clone) only the quick files are checked, and it says so.
set -euo pipefail
build=build
all=0
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    *) build=$arg ;;
  esac
done
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' \
  'examples/*.cpp' 'examples/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
echo "clang-format: ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

# Always checked: pure logic, no Asio or Beast, a few seconds each.
quick=(
  src/common/result.cpp
  src/common/duration.cpp
  src/gateway/picker.cpp
  src/http/headers.cpp
  src/metrics/latency_histogram.cpp
  src/rollout/sequential.cpp
  src/rollout/judge.cpp
  src/rollout/strategy.cpp
  src/runner/env_check.cpp
  src/model/run_spec.cpp
)

curated=(
  src/common/result.cpp
  src/gateway/picker.cpp
  src/gateway/request_routing.cpp
  src/gateway/route_table.cpp
  src/http/headers.cpp
  src/metrics/latency_histogram.cpp
  src/config/config.cpp
  src/config/values.cpp
  src/http/wire.cpp
  src/http/upstream_response.cpp
  src/gateway/deadline.cpp
  src/gateway/session.cpp
  src/gateway/worker.cpp
  src/store/local_store.cpp
  src/store/sqlite_store.cpp
  src/metrics/prometheus.cpp
  src/common/json_text.cpp
  src/control/route_publisher.cpp
  src/admin/api.cpp
  src/admin/api_json.cpp
  src/admin/router.cpp
  src/admin/audit_api.cpp
  src/admin/deployments_api.cpp
  src/admin/services_api.cpp
  src/admin/tokens_api.cpp
  src/admin/secrets_api.cpp
  src/runner/env_check.cpp
  src/cli/secret_commands.cpp
  src/admin/rollouts_api.cpp
  src/admin/run_version.cpp
  src/cli/api_call.cpp
  src/cli/verbs.cpp
  src/app/server_verb.cpp
  src/cli/split_arg.cpp
  src/gateway/tail.cpp
  src/runner/log_reader.cpp
  src/admin/tail_api.cpp
  src/admin/logs_api.cpp
  src/cli/observe_commands.cpp
  src/cli/times.cpp
  src/cli/settings.cpp
  src/cli/table.cpp
  src/cli/render.cpp
  src/cli/rollout_commands.cpp
  src/gateway/resolver.cpp
  src/gateway/listeners.cpp
  src/model/run_spec.cpp
  src/model/run_codec.cpp
  src/config/run_reader.cpp
  src/runner/instance_env.cpp
  src/runner/fleet.cpp
  src/cli/instance_commands.cpp
  src/admin/instances_api.cpp
  src/app/instances.cpp
  src/model/seed.cpp
  src/app/data_dir.cpp
  src/app/server_endpoints.cpp
  src/common/duration.cpp
  src/common/private_file.cpp
  src/config/reader.cpp
  src/config/rollout_reader.cpp
  src/rollout/analysis.cpp
  src/rollout/judge.cpp
  src/rollout/machine.cpp
  src/rollout/policy.cpp
  src/rollout/strategy.cpp
  src/model/policy_codec.cpp
  src/model/rollout_codec.cpp
  src/control/rollout_service.cpp
  src/control/rollout_controller.cpp
  src/control/rollout_checks.cpp
  src/control/rollout_start.cpp
  src/rollout/sequential.cpp
  src/rollout/sequential_judge.cpp
  src/cli/deploy_command.cpp
  src/cli/pre_checks.cpp
  src/cli/progress_view.cpp
  src/cli/rollout_text.cpp
  src/control/webhook_delivery.cpp
  src/control/webhook_payload.cpp
  src/control/webhook_deliveries.cpp
  src/control/webhook_notifier.cpp
  src/secrets/master_key.cpp
  src/secrets/cipher.cpp
  src/secrets/secret_store.cpp
  src/runner/instance.cpp
  src/runner/log_file.cpp
  src/runner/supervisor.cpp
)
# The curated files to check now: all of them, or the quick ones and those changed since the
# base.
select_files() {
  if [ "$all" = 1 ]; then
    printf '%s\n' "${curated[@]}"
    return
  fi
  printf '%s\n' "${quick[@]}"
  local base
  base=$(cat .ci/tidy-base 2>/dev/null || true)
  if [ -z "$base" ] || ! git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
    echo "clang-tidy: base ${base:-none} is not in this history; the quick files only" >&2
    return
  fi
  local changed dirs
  changed=$( (git diff --name-only "$base" -- src; git ls-files --others --exclude-standard src) | sort -u)
  dirs=$(printf '%s\n' "$changed" | { grep '\.hpp$' || true; } | xargs -r -n1 dirname | sort -u)
  for f in "${curated[@]}"; do
    if printf '%s\n' "$changed" | grep -qx "$f" || printf '%s\n' "$dirs" | grep -qx "$(dirname "$f")"; then
      echo "$f"
    fi
  done
}
mapfile -t chosen < <(select_files | sort -u)
existing=()
for f in "${chosen[@]}"; do
  [ -f "$f" ] && existing+=("$f")
done
echo "clang-tidy: ${#existing[@]} of ${#curated[@]} curated files: ${existing[*]}"
# Two files at a time (the machine's two cores); each file's output kept apart, shown in order.
status=0
rm -rf "$build/clang-tidy" && mkdir -p "$build/clang-tidy"
printf '%s\n' "${existing[@]}" | xargs -P 2 -I{} sh -c \
  'clang-tidy -p "$1" --quiet --warnings-as-errors="*" "$2" >"$1/clang-tidy/$(echo "$2" | tr / _).log" 2>&1' \
  _ "$build" {} || status=$?
for f in "${existing[@]}"; do
  grep -v "warnings generated" "$build/clang-tidy/$(echo "$f" | tr / _).log" || true
done
if [ "$status" = 0 ] && [ "$all" = 1 ]; then
  echo "clang-tidy: the whole curated set passed at $(git rev-parse HEAD)$(git diff --quiet HEAD -- src || echo ' plus uncommitted changes')"
fi
exit "$status"
