// registry.h: a local registry (a folder) of published, immutable bundle versions, their approvals and
// releases, and the audit log of what happened to them.
#pragma once

#include "govern/audit.h"
#include "govern/keys.h"
#include "govern/verify.h"

#include <functional>
#include <string>
#include <vector>

namespace ethogram::govern {

/// Layout of a registry folder REG:
///   REG/audit.jsonl, REG/audit.jsonl.head          the audit log and its signed head
///   REG/NAME/VERSION/bundle.etb, bundle.etb.sig     the published bundle and its signatures (read-only)
///   REG/NAME/VERSION/published.json                 who published it and the signers seen then (signed)
///   REG/NAME/VERSION/approvals/KEYNAME.json         one signed approval per approver key
///   REG/NAME/VERSION/released.json                  the signed release record
struct Registry {
    std::string dir;
    std::string version_dir(const std::string& name, const std::string& version) const;
    std::string bundle_path(const std::string& name, const std::string& version) const;
    std::string audit_log() const;
};

inline constexpr const char* kPublishPurpose = "publish-v1";
inline constexpr const char* kApprovalPurpose = "approval-v1";
inline constexpr const char* kReleasePurpose = "release-v1";

/// "name@1.2.3" -> (name, version); Code::Usage when malformed.
Expected<std::pair<std::string, std::string>> parse_bundle_id(const std::string& id);

struct PublishResult {
    std::string id, hash;
    bool already = false; ///< the identical version was already published (nothing written)
};

/// Verifies the bundle (signed by a trusted author) and copies it with its signatures into the registry,
/// atomically (a temporary folder renamed into place). Re-publishing identical content is a no-op;
/// different content under a published version is Code::Immutable. The publisher needs the author role.
Expected<PublishResult> publish(const Registry& reg, const std::string& bundle_path, const TrustStore& trust,
                                const KeyPair& publisher, const std::string& reason);

/// The published bundle of `id` (name@version), verified against the trust file with the signers recorded
/// at publication (a removed signature file is Code::Stripped).
Expected<VerifiedBundle> open_published(const Registry& reg, const std::string& id, const TrustStore& trust);

/// Records an approval of a published version by `approver` (approver role; not one of the bundle's
/// signers: four eyes). A second approval by the same key is refused.
Expected<SignedRecord> approve(const Registry& reg, const std::string& id, const TrustStore& trust,
                               const KeyPair& approver, const std::string& reason);

/// The valid approvals of a published version: well formed, signed, over this manifest hash, by distinct
/// trusted keys with the approver role that did not sign the bundle. `rejected` lists the others and why.
std::vector<std::string> valid_approvals(const Registry& reg, const VerifiedBundle& vb,
                                         const TrustStore& trust,
                                         std::vector<std::string>* rejected = nullptr);

/// The outcome of running a bundle's tests.
struct TestOutcome {
    bool available = false; ///< the runner exists (false: `etho test` is not in this binary)
    bool passed = false;
    std::string command; ///< what was run, for the release record and the audit log
    std::string output;  ///< the runner's output (shown on failure)
};
/// Runs the tests of a bundle extracted under `root` (rules, tests and models at their bundle paths).
using TestRunner = std::function<TestOutcome(const std::string& root, const Manifest& m)>;

/// Releases a published version: the releaser needs the deployer role and a reason; the version must
/// have at least `trust.required_approvals` valid approvals and tests that pass under `run_tests`
/// (a bundle without tests, or a runner that is not available, is refused). Code::Policy says which
/// condition failed; Code::Immutable when it is already released.
Expected<SignedRecord> release(const Registry& reg, const std::string& id, const TrustStore& trust,
                               const KeyPair& releaser, const std::string& reason,
                               const TestRunner& run_tests);

/// The release record of a version, checked (signature, trusted deployer, manifest hash); nullopt-like
/// Code::Policy when the version is not released.
Expected<SignedRecord> release_record(const Registry& reg, const VerifiedBundle& vb, const TrustStore& trust);

} // namespace ethogram::govern
