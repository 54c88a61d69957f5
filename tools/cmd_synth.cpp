// cmd_synth.cpp: `etho synth`: synthetic user journeys (JSON Lines) from a scenario file.
#include "runtime/output_file.h"
#include "tools/commands.h"
#include "tools/ruletest/synth.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ethogram::tools {

CLI::App* add_synth(CLI::App& app, SynthOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("synth", "Generate synthetic user journeys from a scenario (docs/testing.md)");
    cmd->add_option("--scenario", o.scenario, "Scenario file (YAML)")->required();
    cmd->add_option("--seed", o.seed, "Random seed (default: the scenario's seed, else 1)")
        ->each([&o](const std::string&) { o.seed_given = true; });
    cmd->add_option("--out", o.out, "Events (JSON Lines); default stdout");
    return cmd;
}

int run_synth(const SynthOptions& o) {
    if (!paths_exist({o.scenario})) return kExitUsage;
    ruletest::SynthResult res;
    std::string err;
    std::optional<uint64_t> seed;
    if (o.seed_given) seed = o.seed;
    if (!ruletest::synthesize(o.scenario, seed, res, err)) {
        fmt::print(stderr, "{}\n", err);
        return kExitUsage;
    }
    auto out = runtime::OutputFile::open(o.out.empty() ? "-" : o.out);
    if (!out) {
        fmt::print(stderr, "etho: {}\n", out.error());
        return kExitUsage;
    }
    (*out)->write(res.jsonl);
    if (auto r = (*out)->close(); !r) {
        fmt::print(stderr, "etho: {}\n", r.error());
        return kExitUsage;
    }
    fmt::print(stderr, "synth: {} user(s), {} event(s)\n", res.users, res.events);
    return kExitOk;
}

} // namespace ethogram::tools
