// cmd_revoke.cpp: `etho revoke NAME --trusted FILE --reason TEXT`: marks a key of a trust file revoked.
#include "govern/crypto.h"
#include "govern/keys.h"
#include "tools/cmd_govern.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ethogram::tools {

CLI::App* add_revoke(CLI::App& app, RevokeOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "revoke", "Revoke a key in a trust file: its signatures count for nothing from then on");
    cmd->add_option("name", o.name, "The key's name in the trust file")->required();
    cmd->add_option("--trusted", o.trusted, "Trust file to change")->required();
    cmd->add_option("--reason", o.reason, "Why (kept in the trust file)")->required();
    cmd->add_option("--at", o.at, "Revocation time, RFC 3339 UTC (default: now)");
    return cmd;
}

int run_revoke(const RevokeOptions& o) {
    const std::string at = o.at.empty() ? govern::now_rfc3339() : o.at;
    if (auto s = govern::revoke_in_trust(o.trusted, o.name, at, o.reason); !s) return govern_fail(s.err());
    // Read back: the file must still load (the time is checked there).
    auto t = govern::load_trust(o.trusted);
    if (!t) return govern_fail(t.err());
    fmt::print("revoked '{}' in {} at {}\n", o.name, o.trusted, at);
    return kExitOk;
}

} // namespace ethogram::tools
