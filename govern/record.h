// record.h: signed records: one canonical JSON object per line, hashed and signed by a named key.
// Bundle signatures, approvals, publish and release records and audit-log entries are all records.
#pragma once

#include "govern/crypto.h"
#include "govern/keys.h"
#include "govern/status.h"

#include <string>
#include <vector>

namespace ethogram::govern {

/// A field of a record: a string, or an unsigned number when is_num.
struct Field {
    std::string key;
    std::string str;
    bool is_num = false;
    uint64_t num = 0;
    static Field s(std::string k, std::string v) { return Field{std::move(k), std::move(v), false, 0}; }
    static Field n(std::string k, uint64_t v) { return Field{std::move(k), "", true, v}; }
    bool operator==(const Field&) const = default;
};

/// A record as stored: its fields, then `<who>` (key name), `key` (public key hex), `hash` (BLAKE2b-256
/// of the canonical text of everything before it) and `sig` (ed25519 over the purpose-tagged hash).
struct SignedRecord {
    std::vector<Field> fields;
    std::string who_field = "signer"; ///< "signer", or "actor" in the audit log
    std::string who;                  ///< key name
    PublicKey key{};
    Digest hash{};
    SignatureBytes sig{};

    /// The string field `k`, or "" when absent.
    const std::string& get(std::string_view k) const;
    /// The numeric field `k`, or 0.
    uint64_t num(std::string_view k) const;
};

/// The canonical text the hash covers: `{"f1":...,...,"<who_field>":"...","key":"..."}`.
std::string record_body(const SignedRecord& r);
/// One line (no newline): the body with `"hash"` and `"sig"` appended.
std::string encode_record(const SignedRecord& r);

/// Makes and signs a record. `purpose` separates domains ("bundle-signature", "approval", "audit-entry"...).
SignedRecord make_record(std::string_view purpose, std::vector<Field> fields, const KeyPair& k,
                         std::string who_field = "signer");

/// Parses one line. Code::Corrupt when it is not exactly the canonical encoding of what it parses to (no
/// reordered, duplicated or extra fields, no whitespace), or lacks the trailing who/key/hash/sig fields.
/// It does not check the hash or the signature: see check_record.
Expected<SignedRecord> parse_record(std::string_view line, const std::string& where,
                                    const std::string& who_field = "signer");

/// Recomputes the hash (Code::Tampered when it differs: the fields were edited) and checks the signature
/// (Code::BadSignature). Trust and roles are the caller's business.
Status check_record(std::string_view purpose, const SignedRecord& r, const std::string& where);

} // namespace ethogram::govern
