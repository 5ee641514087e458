#pragma once
// Shared by the store tests: a fake clock, a temporary directory, result matchers.

#include "common/result.hpp"
#include "store/store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace rampart::store::testing {

// A steady clock that moves only when told to. Thread-safe.
class FakeClock {
 public:
  std::chrono::steady_clock::time_point now() const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns_.load()));
  }
  void advance(std::chrono::nanoseconds by) { ns_ += by.count(); }
  Clock as_clock() {
    return [this] { return now(); };
  }

 private:
  std::atomic<std::int64_t> ns_{1'000'000'000'000};
};

using rampart::testing::TempDir;

// EXPECT_TRUE(fails_with(result, Errc::kX, "fragment")): the result is an error with that
// code whose message contains the fragment.
template <class R>
::testing::AssertionResult fails_with(const R& result, Errc code, std::string_view fragment = "") {
  if (result) {
    return ::testing::AssertionFailure() << "succeeded; expected " << to_string(code);
  }
  const Error& e = result.error();
  if (e.code != code) {
    return ::testing::AssertionFailure() << "failed with " << to_string(e.code) << " (" << e.message
                                         << "); expected " << to_string(code);
  }
  if (e.message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message \"" << e.message << "\" lacks \"" << fragment << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <class R>
::testing::AssertionResult succeeded(const R& result) {
  if (result) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << to_string(result.error().code) << ": " << result.error().message;
}

}  // namespace rampart::store::testing
