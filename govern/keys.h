// keys.h: ed25519 key files, roles, and the trust file that binds public keys to names and roles.
#pragma once

#include "govern/crypto.h"
#include "govern/status.h"

#include <string>
#include <vector>

namespace ethogram::govern {

/// What a key may do. author: build and sign bundles, publish them; approver: approve a published
/// version; deployer: release, deploy and roll back.
enum class Role : uint8_t { Author, Approver, Deployer };
const char* role_name(Role r);
/// "author" / "approver" / "deployer"; Code::Usage otherwise.
Expected<Role> parse_role(std::string_view s);

/// A secret key as loaded from NAME.key (the roles in it are informational: the trust file decides).
struct KeyPair {
    std::string name;
    std::vector<Role> roles;
    PublicKey pk{};
    SecretKey sk{};
};

/// One trusted key of the trust file.
struct TrustedKey {
    std::string name;
    PublicKey pk{};
    std::vector<Role> roles;
    /// When the key was revoked (RFC 3339 UTC, `revoked:` in the trust file); empty: not revoked. A revoked
    /// key's signatures count for nothing from then on (docs/governance.md, "Revoking a key").
    std::string revoked;
    std::string revoked_reason;
    bool has(Role r) const;
    bool is_revoked() const { return !revoked.empty(); }
    /// True when a record the key signed at `time` (RFC 3339 UTC, the record's own clock) is after the
    /// revocation (records without a time count as after it).
    bool revoked_at(const std::string& time) const {
        return is_revoked() && (time.empty() || time >= revoked);
    }
    /// "'NAME' was revoked at TIME (REASON)", for refusals.
    std::string revocation_text() const;
};

/// The trust file: the keys a verifier accepts and the release policy.
struct TrustStore {
    std::vector<TrustedKey> keys;
    /// Approvals from distinct approver keys that `release` requires (default 1).
    uint32_t required_approvals = 1;
    /// The key with this public key, or nullptr.
    const TrustedKey* find(const PublicKey& pk) const;
    const TrustedKey* find_name(const std::string& name) const;
};

/// A key name: 1..64 characters of [A-Za-z0-9._-] (it becomes a file name).
bool valid_key_name(std::string_view name);

/// Short printable fingerprint of a public key: the first 16 hex digits of the key.
std::string fingerprint(const PublicKey& pk);

/// Generates a key pair and writes DIR/NAME.key (mode 0600) and DIR/NAME.pub. Refuses to overwrite.
Expected<KeyPair> keygen(const std::string& name, const std::vector<Role>& roles, const std::string& dir);

/// Loads NAME.key; checks format, hex, and that the public key is the secret key's public half.
Expected<KeyPair> load_key(const std::string& path);

/// Marks key `name` of the trust file at `path` revoked at `time` (RFC 3339 UTC) with `reason`. A key
/// already revoked keeps its first revocation (Code::Usage); an unknown name is Code::Usage.
Status revoke_in_trust(const std::string& path, const std::string& name, const std::string& time,
                       const std::string& reason);

/// Loads a trust file (YAML). Errors name the file and the entry.
Expected<TrustStore> load_trust(const std::string& path);

/// The trust file's text (deterministic; the format load_trust reads).
std::string format_trust(const TrustStore& t);

/// Adds `key` to the trust file at `path` (created when absent, with required_approvals 1). A key with
/// the same name and public key merges the roles; the same name with another key is refused.
Status add_to_trust(const std::string& path, const std::string& name, const PublicKey& pk,
                    const std::vector<Role>& roles);

} // namespace ethogram::govern
