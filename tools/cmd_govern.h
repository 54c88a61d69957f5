// cmd_govern.h: the change-control sub-commands (keygen, build, sign, verify, publish, approve, release,
// audit verify): options filled by CLI11, then executed. Implementations: cmd_bundle.cpp, cmd_registry.cpp,
// cmd_audit.cpp.
#pragma once

#include "compiler/ir/ir.h"

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ethogram::govern {
struct Error;
}

namespace ethogram::tools {

/// Prints `etho: error[KIND]: message` on stderr and returns the exit code of the error's kind.
int govern_fail(const govern::Error& e);

/// Exit codes of the change-control commands, beyond commands.h's 0 (ok), 1 (compile error), 2 (usage or
/// I/O): 3 = refused by verification (corrupt, tampered, unsigned, stripped, badly signed, untrusted key,
/// wrong role, engine version, broken audit chain); 4 = refused by policy (immutable version, missing
/// approvals, tests failing or unavailable).
enum GovernExitCode : int { kExitVerify = 3, kExitPolicy = 4 };

struct KeygenOptions {
    std::string name, out, trust;
    std::vector<std::string> roles;
};
struct BuildOptions {
    std::string rules, name, version, tests, out, key, by, audit, config;
    std::vector<std::string> models, include;
};
struct SignOptions {
    std::string bundle, key, trusted, audit;
};
struct VerifyOptions {
    std::string bundle, trusted;
};
/// publish, approve and release share their flags.
struct RegistryOptions {
    std::string bundle, registry, trusted, key, reason;
};
struct AuditOptions {
    std::string log, trusted;
};
struct RevokeOptions {
    std::string name, trusted, reason, at;
};

/// Registers the command(s) on `app`; the options objects must outlive parsing.
CLI::App* add_keygen(CLI::App& app, KeygenOptions& o);
CLI::App* add_build(CLI::App& app, BuildOptions& o);
CLI::App* add_sign(CLI::App& app, SignOptions& o);
CLI::App* add_verify(CLI::App& app, VerifyOptions& o);
CLI::App* add_publish(CLI::App& app, RegistryOptions& o);
CLI::App* add_approve(CLI::App& app, RegistryOptions& o);
CLI::App* add_release(CLI::App& app, RegistryOptions& o);
CLI::App* add_deploy(CLI::App& app, RegistryOptions& o);
CLI::App* add_rollback(CLI::App& app, RegistryOptions& o);
int run_deploy(const RegistryOptions& o);
int run_rollback(const RegistryOptions& o);
/// `etho audit verify LOG`; returns the `audit` command (its `verify` sub-command is `*verify_cmd`).
CLI::App* add_audit(CLI::App& app, AuditOptions& o, CLI::App** verify_cmd);

int run_keygen(const KeygenOptions& o);
int run_build(const BuildOptions& o);
int run_sign(const SignOptions& o);
int run_verify(const VerifyOptions& o);
int run_publish(const RegistryOptions& o);
int run_approve(const RegistryOptions& o);
/// `test_available`: this binary has an `etho test` command (else release refuses, saying so).
int run_release(const RegistryOptions& o, bool test_available);
int run_audit_verify(const AuditOptions& o);
/// `etho revoke NAME --trusted FILE --reason TEXT [--at TIME]` (cmd_revoke.cpp).
CLI::App* add_revoke(CLI::App& app, RevokeOptions& o);
int run_revoke(const RevokeOptions& o);

/// The rules of a bundle for `etho run --bundle`: verified against the trust file (refusals printed with
/// their kind), compiled from the bundle's own bytes. `code` is the exit code when `rules` is null.
struct BundleRules {
    std::unique_ptr<ir::RuleSet> rules;
    int code = 0;
    explicit operator bool() const { return rules != nullptr; }
};
/// Fills `bundle_hash` (the manifest hash) for the detections' provenance fields.
/// With `registry` not empty, `bundle` is a rule-set name and the version deployed there is loaded.
BundleRules load_bundle_rules(const std::string& bundle, const std::string& trusted,
                              const std::string& registry, std::string& bundle_hash);

/// Every change-control command with its options, registered at once (the only hook etho.cpp needs).
struct GovernCli {
    KeygenOptions keygen;
    BuildOptions build;
    SignOptions sign;
    VerifyOptions verify;
    RegistryOptions publish, approve, release, deploy, rollback;
    AuditOptions audit;
    RevokeOptions revoke;
    CLI::App* revoke_cmd = nullptr;
    CLI::App* app = nullptr; ///< the root: `release` looks up whether a `test` command is built in
    CLI::App *keygen_cmd = nullptr, *build_cmd = nullptr, *sign_cmd = nullptr, *verify_cmd = nullptr,
             *publish_cmd = nullptr, *approve_cmd = nullptr, *release_cmd = nullptr, *deploy_cmd = nullptr,
             *rollback_cmd = nullptr, *audit_cmd = nullptr, *audit_verify_cmd = nullptr;
};
void add_govern(CLI::App& app, GovernCli& g);
/// The exit code of the change-control command that was given, or -1 when none was.
int run_govern(const GovernCli& g);

} // namespace ethogram::tools
