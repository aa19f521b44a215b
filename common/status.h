#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/check.h"

namespace ingest {

// gRPC's status codes, so the conversion to grpc::Status happens in one place.
enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* StatusCodeName(StatusCode code);

// The outcome of an operation that can fail: a code and a message that names
// the thing that failed. Cheap to copy when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: manifest.json: no such file"
  std::string ToString() const;

  // Returns this status with `context` prefixed to the message.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

// Status from the current errno, naming `what` (a path, usually).
Status ErrnoStatus(int err, const std::string& what);

// A value or the Status that explains its absence.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    INGEST_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    INGEST_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    INGEST_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    INGEST_CHECK(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ingest

#define INGEST_CONCAT_INNER(a, b) a##b
#define INGEST_CONCAT(a, b) INGEST_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` yields a non-ok Status.
#define INGEST_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::ingest::Status ingest_status_ = (expr);        \
    if (!ingest_status_.ok()) return ingest_status_; \
  } while (0)

// `INGEST_ASSIGN_OR_RETURN(auto x, F());` binds the value or returns the error.
#define INGEST_ASSIGN_OR_RETURN(lhs, expr) \
  INGEST_ASSIGN_OR_RETURN_IMPL(INGEST_CONCAT(ingest_result_, __LINE__), lhs, expr)
// `lhs` is a declaration or an lvalue: it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define INGEST_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.ok()) return result.status();             \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
