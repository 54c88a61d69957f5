// deploy.h: deployments of released versions from a registry, rollback, and what an engine should run.
#pragma once

#include "govern/load.h"
#include "govern/registry.h"

#include <string>
#include <vector>

namespace ethogram::govern {

inline constexpr const char* kDeploymentPurpose = "deployment-v1";

/// One entry of REG/NAME/deployments.jsonl (signed by a deployer): seq, action (deploy or rollback),
/// version, manifest_hash, previous (the version live before it, "" for the first), time, reason.
struct Deployment {
    uint64_t seq = 0;
    std::string action, version, manifest_hash, previous, time, reason, by;
};

/// The checked history of a rule set's deployments (every record signed by a trusted deployer, seq
/// consecutive, previous = the version live before). Empty when nothing was deployed yet.
Expected<std::vector<Deployment>> deployment_history(const Registry& reg, const std::string& name,
                                                     const TrustStore& trust);

/// Makes a released version live: it must verify and carry a valid release record. Appends a signed
/// deployment record and a `deploy` audit entry. Deploying the live version again is refused.
Expected<Deployment> deploy(const Registry& reg, const std::string& id, const TrustStore& trust,
                            const KeyPair& deployer, const std::string& reason);

/// Returns to the version that was live before the current one (deploys push, rollbacks pop), after
/// checking it again like a deploy. Code::Policy when there is nothing to roll back to.
Expected<Deployment> rollback(const Registry& reg, const std::string& name, const TrustStore& trust,
                              const KeyPair& deployer, const std::string& reason);

/// The live version of `name`: its verified bundle (the signers recorded at publication must still be
/// there, the release record must check, and the deployment record's manifest hash must match).
Expected<VerifiedBundle> deployed_bundle(const Registry& reg, const std::string& name,
                                         const TrustStore& trust, std::string* bundle_path = nullptr);

/// The rules an engine runs from a bundle, as `etho run --bundle` takes them: the bundle file `bundle`
/// (load_verified_bundle), or, with `registry` set, the version of the rule set named `bundle` deployed in
/// that registry (deployed_bundle, then compile_bundle).
Expected<VerifiedRules> load_bundle_rules(const std::string& bundle, const TrustStore& trust,
                                          const std::string& registry);

} // namespace ethogram::govern
