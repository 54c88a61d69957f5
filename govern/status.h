// status.h: the value-or-error result of the governance library, with an error kind callers can test.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace ethogram::govern {

/// What went wrong, coarse enough for a caller (the CLI, a deploy watcher) to choose an exit code or to
/// keep running the old bundle, fine enough that every refusal of `verify` has its own kind.
enum class Code {
    Ok,
    Io,            ///< a file cannot be read or written
    Usage,         ///< bad arguments (unknown role, malformed version, missing key...)
    Compile,       ///< the rules do not compile
    Corrupt,       ///< a bundle, key, signature or trust file is malformed (magic, checksum, truncation)
    FutureFormat,  ///< an artifact written by a newer format version
    EngineVersion, ///< the bundle needs another engine version
    Tampered,      ///< content differs from what the manifest or the signature covers
    Unsigned,      ///< no signature file next to the bundle
    Stripped,      ///< a signature file without signatures, or a signature the registry recorded is gone
    BadSignature,  ///< a signature that does not verify with the key it names
    UntrustedKey,  ///< signed by a key that is not in the trust file
    WrongRole,     ///< signed by a trusted key that lacks the role the action needs
    Immutable,     ///< a published version with different content already exists
    Policy,        ///< release refused: not enough approvals, tests failed or cannot run
    AuditBroken,   ///< the audit log's chain, seq, hash or signature does not check
    Revoked,       ///< signed by a key the trust file marks revoked
};

/// Stable lower-case name of a code ("bad_signature"), printed in error messages and used by tests.
const char* code_name(Code c);

struct Error {
    Code code = Code::Io;
    std::string message;
};

/// Nothing, for operations that only succeed or fail.
struct Unit {};

/// Either a value or an Error (kind + message saying where and why). No exceptions cross this boundary.
template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T v) : value_(std::move(v)) {}
    Expected(Error e) : error_(std::move(e)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    T& value() { return *value_; }
    const T& value() const { return *value_; }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    const std::string& error() const { return error_.message; }
    Code code() const { return ok() ? Code::Ok : error_.code; }
    const Error& err() const { return error_; }

private:
    std::optional<T> value_;
    Error error_;
};

using Status = Expected<Unit>;
inline Status ok_status() {
    return Unit{};
}
inline Error fail(Code c, std::string msg) {
    return Error{c, std::move(msg)};
}

} // namespace ethogram::govern
