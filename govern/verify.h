// verify.h: detached bundle signatures (BUNDLE.sig) and the verification an engine or registry runs.
#pragma once

#include "govern/bundle.h"
#include "govern/keys.h"
#include "govern/record.h"

#include <optional>
#include <string>
#include <vector>

namespace ethogram::govern {

/// Domain tag of bundle signatures (see signing_message).
inline constexpr const char* kBundleSignaturePurpose = "bundle-signature-v1";

/// The detached signature file of a bundle: the bundle's path + ".sig".
std::string signature_path(const std::string& bundle_path);

/// A signature record over one bundle: fields bundle (name@version), manifest_hash, signed_at, role.
SignedRecord sign_bundle(const Bundle& b, const KeyPair& k);

/// Appends a signature by `k` to BUNDLE.sig (created when absent; atomic rewrite). A second signature
/// by the same key replaces nothing and is refused (Code::Usage).
Status add_signature(const std::string& bundle_path, const Bundle& b, const KeyPair& k);

/// The records of a signature file, one per non-empty line. Code::Corrupt names the line.
Expected<std::vector<SignedRecord>> parse_signature_file(std::string_view text, const std::string& where);

struct VerifyOptions {
    /// Signers a registry recorded when the bundle was published: a missing signature file, or one that
    /// lacks any of them, is then Code::Stripped instead of Code::Unsigned.
    std::vector<std::string> recorded_signers;
    bool check_engine = true; ///< also check the bundle's engine range
};

/// A bundle that passed verification and who signed it.
struct VerifiedBundle {
    Bundle bundle;
    std::vector<std::string> signers;
};

/// Checks signatures of a decoded bundle. Every signature must be well formed, cover this bundle's
/// manifest hash (else Tampered), verify (BadSignature), come from a key of the trust file (UntrustedKey);
/// at least one must come from a key with the author role (WrongRole). No signature file: Unsigned;
/// an empty one: Stripped.
Expected<std::vector<std::string>> verify_signatures(const Bundle& b,
                                                     const std::optional<std::string>& sig_text,
                                                     const TrustStore& trust, const std::string& where,
                                                     const VerifyOptions& opts = {});

/// Reads BUNDLE and BUNDLE.sig and runs every check: container, manifest, files, engine range, signatures.
Expected<VerifiedBundle> verify_bundle_file(const std::string& path, const TrustStore& trust,
                                            const VerifyOptions& opts = {});

} // namespace ethogram::govern
