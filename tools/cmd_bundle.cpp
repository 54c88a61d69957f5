// cmd_bundle.cpp: `etho keygen`, `etho build`, `etho sign`, `etho verify`, and the change-control hook.
#include "govern/audit.h"
#include "govern/build.h"
#include "govern/deploy.h"
#include "govern/files.h"
#include "govern/keys.h"
#include "govern/load.h"
#include "govern/verify.h"
#include "tools/cmd_govern.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

namespace ethogram::tools {

int govern_fail(const govern::Error& e) {
    using govern::Code;
    fmt::print(stderr, "etho: error[{}]: {}\n", govern::code_name(e.code), e.message);
    switch (e.code) {
    case Code::Ok: return kExitOk;
    case Code::Compile: return kExitCompile;
    case Code::Io:
    case Code::Usage: return kExitUsage;
    case Code::Immutable:
    case Code::Policy: return kExitPolicy;
    default: return kExitVerify;
    }
}

namespace {

// Appends an audit entry when --audit LOG was given; the key signs it.
int audit_if(const std::string& log, const std::string& action, const govern::Bundle& b,
             const govern::KeyPair& k) {
    if (log.empty()) return kExitOk;
    auto r = govern::audit_append(log, govern::AuditEvent{action, b.manifest.id(), b.hash_hex(), ""}, k);
    if (!r) return govern_fail(r.err());
    return kExitOk;
}

} // namespace

CLI::App* add_keygen(CLI::App& app, KeygenOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("keygen", "Make an ed25519 key pair NAME.key / NAME.pub bound to roles");
    cmd->add_option("--name", o.name, "Key name (who signs: a person or a service)")->required();
    cmd->add_option("--role", o.roles, "author, approver or deployer (repeatable)")
        ->required()
        ->check(CLI::IsMember({"author", "approver", "deployer"}));
    cmd->add_option("--out", o.out, "Folder for NAME.key (mode 0600) and NAME.pub")->required();
    cmd->add_option("--trust", o.trust,
                    "Also add the public key and roles to this trust file (created if absent)");
    return cmd;
}

int run_keygen(const KeygenOptions& o) {
    std::vector<govern::Role> roles;
    for (const auto& r : o.roles) roles.push_back(*govern::parse_role(r));
    auto kp = govern::keygen(o.name, roles, o.out);
    if (!kp) return govern_fail(kp.err());
    if (!o.trust.empty())
        if (auto s = govern::add_to_trust(o.trust, kp->name, kp->pk, kp->roles); !s)
            return govern_fail(s.err());
    fmt::print("key {} ({}) written to {}/{}.key and .pub{}\n", kp->name, govern::fingerprint(kp->pk), o.out,
               kp->name, o.trust.empty() ? "" : "; trusted in " + o.trust);
    return kExitOk;
}

CLI::App* add_build(CLI::App& app, BuildOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("build", "Compile a rule set and pack it with its tests and models into a bundle");
    cmd->add_option("rules", o.rules, "Rule folder (or file), as `etho run` takes it")->required();
    cmd->add_option("--out", o.out, "The bundle file to write (e.g. shop-1.4.0.etb)")->required();
    cmd->add_option("--name", o.name, "Rule-set name; must equal the `ruleset` header's");
    cmd->add_option("--version", o.version, "Semantic version; must equal the `ruleset` header's");
    cmd->add_option("--tests", o.tests, "Folder of the rule set's tests (packed recursively)");
    cmd->add_option("--models", o.models,
                    "Extra model files to pack (checked); the models the rules declare are always packed");
    cmd->add_option("--config", o.config, "The engine configuration (YAML) the rules and tests run with");
    cmd->add_option("--include", o.include,
                    "Data files the tests read (e.g. an events file), packed with them");
    cmd->add_option("--key", o.key, "Author key: its name becomes created_by and it signs the audit entry");
    cmd->add_option("--by", o.by, "created_by when no --key is given (default: $USER)");
    cmd->add_option("--audit", o.audit, "Append a `build` entry to this audit log (needs --key)");
    return cmd;
}

int run_build(const BuildOptions& o) {
    govern::BuildOptions b;
    b.rules_dir = o.rules;
    b.name = o.name;
    b.version = o.version;
    b.tests_dir = o.tests;
    b.models = o.models;
    b.config = o.config;
    b.include = o.include;
    std::optional<govern::KeyPair> key;
    if (!o.key.empty()) {
        auto k = govern::load_key(o.key);
        if (!k) return govern_fail(k.err());
        key = *k;
        b.created_by = k->name;
    } else if (!o.audit.empty()) {
        return govern_fail({govern::Code::Usage, "--audit needs --key (every audit entry is signed)"});
    } else {
        const char* user = std::getenv("USER");
        b.created_by = !o.by.empty() ? o.by : (user && *user ? user : "unknown");
    }
    std::string diags;
    auto bundle = govern::build_bundle(b, diags);
    std::cerr << diags;
    if (!bundle) return govern_fail(bundle.err());
    if (auto s = govern::write_file_atomic(o.out, govern::encode_bundle(*bundle)); !s)
        return govern_fail(s.err());
    if (key)
        if (int rc = audit_if(o.audit, "build", *bundle, *key); rc != kExitOk) return rc;
    const auto& m = bundle->manifest;
    fmt::print("built {}: {} ({} rules, {} files), manifest hash {}\n", o.out, m.id(), m.rules.size(),
               m.files.size(), bundle->hash_hex());
    return kExitOk;
}

CLI::App* add_sign(CLI::App& app, SignOptions& o) {
    CLI::App* cmd = app.add_subcommand("sign", "Sign a bundle (detached signature appended to BUNDLE.sig)");
    cmd->add_option("bundle", o.bundle, "The bundle file")->required();
    cmd->add_option("--key", o.key, "Secret key file (NAME.key) of an author")->required();
    cmd->add_option("--trusted", o.trusted,
                    "Trust file: refuse to sign with a key that is not a trusted author");
    cmd->add_option("--audit", o.audit, "Append a `sign` entry to this audit log");
    return cmd;
}

int run_sign(const SignOptions& o) {
    auto k = govern::load_key(o.key);
    if (!k) return govern_fail(k.err());
    if (!o.trusted.empty()) {
        auto t = govern::load_trust(o.trusted);
        if (!t) return govern_fail(t.err());
        const govern::TrustedKey* tk = t->find(k->pk);
        if (!tk) return govern_fail({govern::Code::UntrustedKey, k->name + "'s key is not in " + o.trusted});
        if (!tk->has(govern::Role::Author))
            return govern_fail(
                {govern::Code::WrongRole, tk->name + " lacks the author role in " + o.trusted});
    }
    auto b = govern::read_bundle(o.bundle);
    if (!b) return govern_fail(b.err());
    if (auto s = govern::add_signature(o.bundle, *b, *k); !s) return govern_fail(s.err());
    if (int rc = audit_if(o.audit, "sign", *b, *k); rc != kExitOk) return rc;
    fmt::print("signed {} ({}) as {}: {}\n", o.bundle, b->manifest.id(), k->name,
               govern::signature_path(o.bundle));
    return kExitOk;
}

CLI::App* add_verify(CLI::App& app, VerifyOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "verify", "Verify a bundle: format, content hashes and signatures (exit 3 if refused)");
    cmd->add_option("bundle", o.bundle, "The bundle file (its signatures are read from BUNDLE.sig)")
        ->required();
    cmd->add_option("--trusted", o.trusted, "Trust file: the keys and roles to accept")->required();
    return cmd;
}

int run_verify(const VerifyOptions& o) {
    auto t = govern::load_trust(o.trusted);
    if (!t) return govern_fail(t.err());
    auto v = govern::verify_bundle_file(o.bundle, *t);
    if (!v) return govern_fail(v.err());
    const auto& m = v->bundle.manifest;
    std::string who;
    for (const auto& s : v->signers) who += (who.empty() ? "" : ", ") + s;
    fmt::print("ok: {}: {} ({} rules, {} files), manifest hash {}, signed by {}; built by {} at {}\n",
               o.bundle, m.id(), m.rules.size(), m.files.size(), v->bundle.hash_hex(), who, m.created_by,
               m.created_at);
    return kExitOk;
}

BundleRules load_bundle_rules(const std::string& bundle, const std::string& trusted,
                              const std::string& registry, std::string& bundle_hash) {
    BundleRules out;
    auto t = govern::load_trust(trusted);
    if (!t) {
        out.code = govern_fail(t.err());
        return out;
    }
    auto v = govern::load_bundle_rules(bundle, *t, registry);
    if (!v) {
        out.code = govern_fail(v.err());
        return out;
    }
    std::cerr << v->rules.diagnostics;
    const auto& m = v->verified.bundle.manifest;
    bundle_hash = v->verified.bundle.hash_hex();
    spdlog::info("bundle {} verified (manifest {}, signed by {})", m.id(), bundle_hash.substr(0, 16),
                 v->verified.signers.empty() ? "" : v->verified.signers.front());
    out.rules = std::move(v->rules.ruleset);
    return out;
}

void add_govern(CLI::App& app, GovernCli& g) {
    g.app = &app;
    g.keygen_cmd = add_keygen(app, g.keygen);
    g.build_cmd = add_build(app, g.build);
    g.sign_cmd = add_sign(app, g.sign);
    g.verify_cmd = add_verify(app, g.verify);
    g.publish_cmd = add_publish(app, g.publish);
    g.approve_cmd = add_approve(app, g.approve);
    g.release_cmd = add_release(app, g.release);
    g.deploy_cmd = add_deploy(app, g.deploy);
    g.rollback_cmd = add_rollback(app, g.rollback);
    g.audit_cmd = add_audit(app, g.audit, &g.audit_verify_cmd);
    g.revoke_cmd = add_revoke(app, g.revoke);
}

int run_govern(const GovernCli& g) {
    if (*g.keygen_cmd) return run_keygen(g.keygen);
    if (*g.revoke_cmd) return run_revoke(g.revoke);
    if (*g.build_cmd) return run_build(g.build);
    if (*g.sign_cmd) return run_sign(g.sign);
    if (*g.verify_cmd) return run_verify(g.verify);
    if (*g.publish_cmd) return run_publish(g.publish);
    if (*g.approve_cmd) return run_approve(g.approve);
    if (*g.release_cmd) {
        auto test = g.app->get_subcommands([](CLI::App* a) { return a->get_name() == "test"; });
        return run_release(g.release, !test.empty());
    }
    if (*g.deploy_cmd) return run_deploy(g.deploy);
    if (*g.rollback_cmd) return run_rollback(g.rollback);
    if (*g.audit_verify_cmd) return run_audit_verify(g.audit);
    return -1;
}

} // namespace ethogram::tools
