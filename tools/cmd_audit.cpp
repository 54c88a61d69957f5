// cmd_audit.cpp: `etho audit verify LOG --trusted FILE`: check the whole hash chain, signatures and head.
#include "govern/audit.h"
#include "tools/cmd_govern.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ethogram::tools {

CLI::App* add_audit(CLI::App& app, AuditOptions& o, CLI::App** verify_cmd) {
    CLI::App* cmd = app.add_subcommand("audit", "The change-control audit log");
    cmd->require_subcommand(1);
    CLI::App* v = cmd->add_subcommand(
        "verify",
        "Check every entry (chain, seq, hashes, signatures, roles) and the signed head; exit 3 if broken");
    v->add_option("log", o.log, "The audit log (JSON Lines; its signed head is LOG.head)")->required();
    v->add_option("--trusted", o.trusted, "Trust file: the keys allowed to write entries")->required();
    *verify_cmd = v;
    return cmd;
}

int run_audit_verify(const AuditOptions& o) {
    auto t = govern::load_trust(o.trusted);
    if (!t) return govern_fail(t.err());
    auto r = govern::audit_verify(o.log, *t);
    if (!r) return govern_fail(r.err());
    fmt::print("ok: {}: {} entries, chain and signatures intact{}\n", o.log, r->entries,
               r->entries == 0 ? "" : fmt::format(", head {} matches", r->last_hash.substr(0, 16)));
    return kExitOk;
}

} // namespace ethogram::tools
