# rampart — the front door. Every target installs what it needs first.
#   make demo      the main job: a gateway splitting live traffic between two versions
#   make test      build and run every unit and integration test
#   make bench     rampart vs nginx vs HAProxy on this machine (bench/proxy.sh, idle.sh, cpu.sh, control.sh, instructions.sh), and rollbacks (rollout.sh)
#   make sanitize  ASan+UBSan on all tests, TSan on the threaded ones
#   make lint      clang-format check; clang-tidy on the curated files changed since .ci/tidy-base
#   make lint-all  the same with clang-tidy on the whole curated set (~10 min)
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build test unit integration demo bench sanitize asan tsan lint lint-all format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit
	ctest --test-dir $(BUILD) --output-on-failure -L integration

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration

demo: build
	@bash scripts/demo.sh

bench: build
	bash bench/proxy.sh
	bash bench/idle.sh
	bash bench/cpu.sh
	bash bench/control.sh
	bash bench/instructions.sh
	bash bench/rollout.sh

sanitize: asan tsan

# The integration suites that ASan leaves to the Release run: the rollout controller's, whose
# waits are wall-clock steps and analysis windows (minutes under ASan for little new code: the
# controller, the judge and the machine run under ASan in their unit tests, and the gateway,
# API, CLI, store, durability, runner, secrets and tail suites run here in full).
ASAN_SKIP = ^(Rollout|RolloutApi|RolloutLifecycle|SequentialJudge|DeployCli|Webhook)Test\.

# Built with clang: at -O0 with ASan+UBSan it compiles these Boost-heavy sources in less than
# half of GCC's time (UBSan's instrumentation of inlined templates is most of GCC's), and a
# second compiler reads the code with other eyes.
asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DRAMPART_SANITIZE=address -DRAMPART_BUILD_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -L unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -L integration -E '$(ASAN_SKIP)'

# Only what the tests labelled tsan run (tests/CMakeLists.txt, tests/integration/CMakeLists.txt).
TSAN_TARGETS = metrics_test gateway_test store_test control_test webhook_test runner_test \
  runner_supervisor_test rampart demo-app \
  gateway_integration_test api_integration_test change_path_integration_test \
  rollout_integration_test rollout_lifecycle_integration_test webhook_integration_test \
  runner_integration_test

# TSan covers the threaded parts: metrics shards, snapshot publication, and the gateway binary
# (several workers) under the integration tests that drive load and reloads.
# -O1 -g1: TSan's usual level, and line tables are all its reports need (-O2 -g took 1.8x the
# compile time).
tsan: deps
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DRAMPART_SANITIZE=thread \
	  -DRAMPART_BUILD_BENCH=OFF
	cmake --build build-tsan -j $(JOBS) --target $(TSAN_TARGETS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -L tsan

lint: deps $(BUILD)/build.ninja
	@bash scripts/lint.sh $(BUILD)

lint-all: deps $(BUILD)/build.ninja
	@bash scripts/lint.sh $(BUILD) --all

format:
	find src tests examples bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf build build-asan build-tsan
