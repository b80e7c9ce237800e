#pragma once
// A value or a one-line error: how pure code reports expected failures (STYLE.md, "Errors").
#include <optional>
#include <string>
#include <utility>

#include "exit_code.h"

namespace pginit {

/// An expected failure: the exit code it maps to and one sentence that names the problem.
struct Failure {
  ExitCode code = ExitCode::kConfig;
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}              // NOLINT: implicit by design
  Result(Failure failure) : failure_(std::move(failure)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const Failure& failure() const { return failure_; }
  const std::string& error() const { return failure_.message; }

 private:
  std::optional<T> value_;
  Failure failure_;
};

}  // namespace pginit
