// audit.h: the append-only, hash-chained, signed audit log of governance actions (JSONL) and its check.
#pragma once

#include "govern/keys.h"
#include "govern/record.h"

#include <string>
#include <vector>

namespace ethogram::govern {

inline constexpr const char* kAuditEntryPurpose = "audit-entry-v1";
inline constexpr const char* kAuditHeadPurpose = "audit-head-v1";

/// What happened, to what, and why.
struct AuditEvent {
    std::string action;       ///< build, sign, publish, approve, release, deploy, rollback
    std::string subject;      ///< bundle name@version
    std::string subject_hash; ///< the bundle's manifest hash (hex)
    std::string reason;       ///< free text (required for release, deploy and rollback)
};

/// The role a key needs in the trust file for an action (author for build/sign/publish, approver for
/// approve, deployer for release/deploy/rollback); Code::Usage for an unknown action.
Expected<Role> role_for_action(std::string_view action);

/// The signed head file kept beside the log: LOG + ".head".
std::string audit_head_path(const std::string& log_path);

/// Appends one entry signed by `k` under an exclusive lock (flock on the log): seq = last seq + 1,
/// prev = the last entry's hash (64 zeros for the first), time = now. The log is fsync'ed, then the head
/// file (seq and hash of the last entry, signed by `k`) is replaced atomically. The log is checked first
/// (its last line must parse), so nothing is appended to a damaged tail.
Expected<SignedRecord> audit_append(const std::string& log_path, const AuditEvent& ev, const KeyPair& k);

struct AuditReport {
    uint64_t entries = 0;
    std::string last_hash;     ///< hex, "" for an empty log
    bool head_present = false; ///< a signed head was found and matched the last entry
};

/// Checks every entry: canonical form, seq = line number, prev = the previous entry's hash, hash of the
/// content, signature, key in the trust file under the same name and with the action's role, and a
/// required reason where the action needs one; then the head (its signature, and that the log still
/// contains the entry it names: a truncated tail is caught). The first bad entry is named by line and
/// seq: Code::AuditBroken.
Expected<AuditReport> audit_verify(const std::string& log_path, const TrustStore& trust);

} // namespace ethogram::govern
