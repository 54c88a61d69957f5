// expected.h: a minimal value-or-error result at the JIT's boundaries (no exceptions; same shape as
// runtime/expected.h).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace ethogram::jit {

/// An error message, wrapped so that `Expected<std::string>` stays unambiguous.
struct Error {
    std::string message;
};

/// Either a value or an error message saying what went wrong and why. The error path allocates; the
/// success path does not (beyond T itself).
template <class T>
class Expected {
public:
    Expected(T v) : value_(std::move(v)) {}
    Expected(Error e) : error_(std::move(e.message)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    T& value() { return *value_; }
    const T& value() const { return *value_; }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    /// The error message (empty when ok()).
    const std::string& error() const { return error_; }

private:
    std::optional<T> value_;
    std::string error_;
};

} // namespace ethogram::jit
