// cmd_diff.cpp: `etho diff OLD NEW [--events corpus.jsonl]`: structural and replay diff of two rule sets.
#include "compiler/driver/compile.h"
#include "runtime/config.h"
#include "runtime/output_file.h"
#include "tools/commands.h"
#include "tools/ruletest/diff.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace ethogram::tools {

CLI::App* add_diff(CLI::App& app, DiffOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("diff", "Compare two versions of a rule set (and their detections on a corpus)");
    cmd->add_option("old", o.old_rules, "The old rules: a file or folder")->required();
    cmd->add_option("new", o.new_rules, "The new rules: a file or folder")->required();
    cmd->add_option("--events", o.events,
                    "Replay this JSON Lines corpus through both and diff the detections");
    cmd->add_option("--config", o.config,
                    "Engine configuration for the replay (lateness, input, state caps)");
    cmd->add_option("--format", o.format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->add_option("--examples", o.examples, "Examples shown per rule and kind of change")
        ->capture_default_str();
    return cmd;
}

namespace {

std::unique_ptr<ir::RuleSet> compile(const std::string& path, const char* which) {
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_paths({path}, diags);
    diags.print(std::cerr);
    if (!res.ruleset || diags.error_count() > 0) {
        fmt::print(stderr, "etho: the {} rules ({}) do not compile: {} error(s)\n", which, path,
                   diags.error_count());
        return nullptr;
    }
    return std::move(res.ruleset);
}

} // namespace

int run_diff(const DiffOptions& o) {
    if (!paths_exist({o.old_rules, o.new_rules})) return kExitUsage;
    if (!o.events.empty() && !paths_exist({o.events})) return kExitUsage;
    auto a = compile(o.old_rules, "old");
    if (!a) return kExitCompile;
    auto b = compile(o.new_rules, "new");
    if (!b) return kExitCompile;
    ruletest::StructuralDiff s = ruletest::structural_diff(*a, *b);
    std::optional<ruletest::ReplayDiff> r;
    if (!o.events.empty()) {
        ruletest::ReplayOptions ro;
        ro.explain = false; // the diff shows detections as `etho run` prints them
        if (!o.config.empty()) {
            auto cfg = runtime::load_config(o.config);
            if (!cfg) {
                fmt::print(stderr, "etho: {}\n", cfg.error());
                return kExitUsage;
            }
            ro.allowed_lateness_us = cfg->allowed_lateness_us;
            ro.epoch_unit = cfg->epoch_unit;
            ro.type_field = cfg->type_field;
            ro.exec.max_partial_matches = cfg->max_partial_matches;
            ro.exec.max_scope_events = cfg->max_scope_events;
            ro.max_events_per_alias = cfg->max_events_per_alias;
        }
        std::ifstream in(o.events, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const auto lines = ruletest::split_lines(ss.str());
        r = ruletest::replay_diff(ruletest::replay(*a, lines, ro), ruletest::replay(*b, lines, ro));
    }
    const ruletest::ReplayDiff* rp = r ? &*r : nullptr;
    std::string text = o.format == "json" ? ruletest::diff_json(s, rp, o.events, o.examples)
                                          : ruletest::diff_text(s, rp, o.events, o.examples);
    fmt::print("{}", text);
    return kExitOk;
}

} // namespace ethogram::tools
