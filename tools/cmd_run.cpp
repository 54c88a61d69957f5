// cmd_run.cpp: `etho run`: compile the rules, then stream events through the runtime and an executor.
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "runtime/config.h"
#include "runtime/parallel.h"
#include "runtime/pipeline.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <thread>

namespace ethogram::tools {

namespace {

int usage_error(const std::string& msg) {
    fmt::print(stderr, "etho: {}\n", msg);
    return kExitUsage;
}

// Lists the taxonomy so that a typo in --only is easy to fix.
std::string known_nodes(const ir::RuleSet& rs) {
    std::string out;
    for (size_t i = 0; i < rs.taxonomy.size() && i < 20; ++i) out += (i ? ", " : "") + rs.taxonomy[i].path;
    if (rs.taxonomy.size() > 20) out += ", ...";
    return out.empty() ? "none declared" : out;
}

} // namespace

CLI::App* add_run(CLI::App& app, RunOptions& o) {
    CLI::App* cmd = app.add_subcommand("run", "Run a rule set over a JSON Lines event stream");
    cmd->add_option("rules_path", o.positional, "Rule files or folders (same as --rules)");
    cmd->add_option("--rules", o.rules, "Rule file or folder of *.etho files (repeatable)");
    cmd->add_option("--events", o.events, "JSON Lines events, or - for stdin (or input.path in --config)");
    cmd->add_option("--out", o.out, "Detections (JSON Lines); - for stdout (default)");
    cmd->add_option("--dead-letter", o.dead_letter,
                    "Dead letters (JSONL); default <out>.dead.jsonl, or stderr lines when --out is stdout");
    cmd->add_option("--suppressed", o.suppressed,
                    "Suppressed detections (JSONL); default: counted and logged");
    cmd->add_option("--config", o.config, "YAML configuration (flags override it)");
    cmd->add_flag("--explain", o.explain,
                  "Add an explanation (bound events and predicates) to each detection");
    cmd->add_option("--max-events-per-alias", o.max_events_per_alias,
                    "List at most N (most recent) events per alias in a detection; the rest are counted "
                    "under \"omitted\" (output.max_events_per_alias, default 1000)")
        ->check(CLI::Range(1u, UINT32_MAX));
    cmd->add_option("--only", o.only,
                    "Keep detections labelled in this taxonomy subtree (e.g. intent.purchase)");
    cmd->add_option("--engine", o.engine, "Executor: interp")->check(CLI::IsMember({"interp"}));
    cmd->add_flag("--dump-ast", o.dump_ast, "Print the parsed syntax tree to stderr");
    cmd->add_flag("--dump-ir", o.dump_ir, "Print the compiled IR to stderr");
    cmd->add_option("--summary-json", o.summary_json, "Also write the run summary as JSON");
    cmd->add_option("--lateness", o.lateness, "Allowed lateness, e.g. 5s (time.allowed_lateness)");
    cmd->add_option("--threads", o.threads,
                    "Worker shards (events partitioned by key); default: all cores; 1 = single-threaded")
        ->check(CLI::Range(1u, 1024u));
    cmd->add_flag("--ordered", o.ordered,
                  "With --threads > 1: write detections in a deterministic order (time, key, production)");
    cmd->add_flag("--stats", o.stats,
                  "Print statistics at the end: live keys, partial matches, bytes of key state, evictions, "
                  "overflow and budget drops (and, with --threads > 1, queue high-water marks)");
    cmd->add_option("--max-state-bytes", o.max_state_bytes,
                    "Budget for per-key state, e.g. 512MiB (state.max_state_bytes); over it the least "
                    "recently active keys are dropped, counted and warned");
    cmd->add_flag("--no-evict", o.no_evict, "Keep idle keys (eviction never changes the output)");
    cmd->add_option("--epoch-unit", o.epoch_unit, "Unit of numeric timestamps: ms or s")
        ->check(CLI::IsMember({"ms", "s"}));
    return cmd;
}

int run_run(const RunOptions& o, const CLI::App& cmd) {
    // Configuration: defaults < config file < flags.
    runtime::EngineConfig cfg;
    if (!o.config.empty()) {
        auto c = runtime::load_config(o.config);
        if (!c) return usage_error(c.error());
        cfg = *c;
    }
    runtime::PipelineOptions p;
    p.events_path = cmd.count("--events") ? o.events : cfg.input_path;
    p.out_path = cmd.count("--out") ? o.out : (cfg.output_path.empty() ? "-" : cfg.output_path);
    p.dead_letter_path = cmd.count("--dead-letter") ? o.dead_letter : cfg.dead_letter_path;
    p.suppressed_path = cmd.count("--suppressed") ? o.suppressed : cfg.suppressed_path;
    p.summary_json_path = cmd.count("--summary-json") ? o.summary_json : cfg.summary_json_path;
    p.explain = o.explain || cfg.explain;
    p.max_events_per_alias =
        cmd.count("--max-events-per-alias") ? o.max_events_per_alias : cfg.max_events_per_alias;
    p.type_field = cfg.type_field;
    p.allowed_lateness_us = cfg.allowed_lateness_us;
    if (cmd.count("--lateness")) {
        auto d = runtime::parse_duration(o.lateness);
        if (!d) return usage_error(fmt::format("--lateness: {}", d.error()));
        p.allowed_lateness_us = *d;
    }
    p.epoch_unit = cfg.epoch_unit;
    if (cmd.count("--epoch-unit")) p.epoch_unit = *runtime::parse_epoch_unit(o.epoch_unit);

    std::vector<std::string> rules = o.rules;
    rules.insert(rules.end(), o.positional.begin(), o.positional.end());
    if (rules.empty()) return usage_error("run: no rules given (pass --rules PATH or a path)");
    if (p.events_path.empty())
        return usage_error("run: no events given (pass --events PATH, or - for stdin)");
    if (!paths_exist(rules)) return kExitUsage;
    if (p.events_path != "-" && !paths_exist({p.events_path})) return kExitUsage;

    compiler::Diagnostics diags;
    compiler::CompileOptions copts;
    copts.dump_ast = o.dump_ast;
    compiler::CompileResult res = compiler::compile_paths(rules, diags, copts);
    diags.print(std::cerr);
    if (o.dump_ast) std::cerr << res.ast_dump;
    if (!res.ruleset || diags.error_count() > 0) {
        fmt::print(stderr, "etho: the rules do not compile: {} error(s)\n", diags.error_count());
        return kExitCompile;
    }
    const ir::RuleSet& rs = *res.ruleset;
    if (o.dump_ir) std::cerr << compiler::dump_ir(rs);
    if (!o.only.empty()) {
        int node = rs.find_taxonomy(o.only);
        if (node < 0)
            return usage_error(
                fmt::format("--only: unknown taxonomy node '{}' (known: {})", o.only, known_nodes(rs)));
        p.only = node;
    }

    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    ir::ExecutorOptions eopts;
    eopts.max_partial_matches = cfg.max_partial_matches;
    eopts.max_scope_events = cfg.max_scope_events;
    eopts.max_state_bytes = cfg.max_state_bytes;
    if (cmd.count("--max-state-bytes")) {
        auto b = runtime::parse_bytes(o.max_state_bytes);
        if (!b) return usage_error(fmt::format("--max-state-bytes: {}", b.error()));
        eopts.max_state_bytes = *b;
    }
    eopts.evict_idle_keys = !o.no_evict;
    uint32_t threads = o.threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    spdlog::debug("running {} {} ({} rules) with the {} engine on {} thread(s)", rs.name, rs.version,
                  rs.rules.size(), o.engine, threads);

    runtime::Expected<runtime::RunSummary> summary = runtime::Error{};
    runtime::ParallelStats pstats;
    if (threads == 1) {
        std::unique_ptr<ir::Executor> exec = interp::make_interpreter(rs, pool, eopts);
        summary = runtime::run_pipeline(rs, pool, *exec, p);
    } else {
        runtime::ParallelOptions po;
        po.threads = threads;
        po.ordered = o.ordered;
        runtime::ExecutorFactory make = [eopts](const ir::RuleSet& r, ir::StringPool& sp) {
            return interp::make_interpreter(r, sp, eopts);
        };
        summary = runtime::run_parallel_pipeline(rs, make, p, po, &pstats);
    }
    if (!summary) return usage_error(summary.error());
    if (o.stats) {
        fmt::print(stderr, "{}", runtime::format_stats(*summary));
        if (threads > 1) fmt::print(stderr, "{}", runtime::format_parallel_stats(pstats));
    }
    if (p.dead_letter_path.empty() && p.out_path == "-" && summary->dead_total() > 0)
        spdlog::warn(
            "{} dead letter(s) were written to stderr; pass --dead-letter PATH to keep them in a file",
            summary->dead_total());
    return kExitOk;
}

} // namespace ethogram::tools
