// cmd_run.cpp: `etho run`: compile the rules, then stream events through the runtime and an executor.
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#ifdef ETHOGRAM_HAVE_JIT
#include "compiler/jit/jit.h"
#endif
#include "models/model_file.h"
#include "runtime/checkpointer.h"
#include "runtime/config.h"
#include "runtime/parallel.h"
#include "runtime/pipeline.h"
#include "tools/cmd_govern.h"
#include "tools/cmd_watch.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <mutex>
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

// --checkpoint-*: fills p.checkpoint; returns an error message, or "" when the flags are usable.
std::string checkpoint_options(const RunOptions& o, const CLI::App& cmd, runtime::PipelineOptions& p,
                               const ir::ExecutorOptions& eopts) {
    if (o.checkpoint_dir.empty()) {
        if (cmd.count("--checkpoint-every") || o.drop_state)
            return "--checkpoint-every and --drop-incompatible-state need --checkpoint-dir";
        return "";
    }
    if (p.events_path == "-")
        return "--checkpoint-dir needs a regular input file to resume from (not stdin): pass --events PATH";
    if (p.out_path == "-" || p.dead_letter_path == "-" || p.suppressed_path == "-")
        return "--checkpoint-dir needs file outputs (not stdout): pass --out PATH (and file paths for "
               "--dead-letter/--suppressed)";
    runtime::CheckpointOptions& c = p.checkpoint;
    c.dir = o.checkpoint_dir;
    c.drop_incompatible = o.drop_state;
    c.engine_version = models::kEngineVersion;
    if (!o.checkpoint_every.empty()) {
        const std::string& e = o.checkpoint_every;
        if (e.find_first_not_of("0123456789") == std::string::npos) {
            c.every_events = std::strtoull(e.c_str(), nullptr, 10);
            if (c.every_events == 0) return "--checkpoint-every: must be at least 1";
        } else {
            auto d = runtime::parse_duration(e);
            if (!d || *d <= 0)
                return fmt::format(
                    "--checkpoint-every: '{}' is neither a count of events nor a duration ({})", e,
                    d ? "not positive" : d.error());
            c.every_wall_us = *d;
        }
    }
    // What shapes the state and the bytes of the outputs: a snapshot taken with other values is refused.
    c.run_identity =
        fmt::format("events={}\nout={}\ndead={}\nsuppressed={}\nlateness={}\nepoch={}\ntype_field={}"
                    "\nexplain={}\nonly={}\n"
                    "max_alias={}\nbundle={}\ncaps={},{}\nevict={}\nbudget={}\n",
                    p.events_path, p.out_path, p.dead_letter_path, p.suppressed_path, p.allowed_lateness_us,
                    static_cast<int>(p.epoch_unit), p.type_field, p.explain, p.only, p.max_events_per_alias,
                    p.bundle_hash, eopts.max_partial_matches, eopts.max_scope_events, eopts.evict_idle_keys,
                    eopts.max_state_bytes);
    return "";
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
    cmd->add_option("--engine", o.engine,
                    "Executor: jit (native code, LLVM ORC; the default) or interp (the reference "
                    "interpreter). If the JIT cannot start, a warning and the interpreter take over")
        ->check(CLI::IsMember({"jit", "interp"}));
    cmd->add_option("--jit-cache", o.jit_cache,
                    "JIT object cache directory (default $ETHOGRAM_JIT_CACHE, else ~/.cache/ethogram/jit)");
    cmd->add_flag("--no-jit-cache", o.no_jit_cache,
                  "Compile without reading or writing the JIT object cache");
    cmd->add_flag("--dump-ast", o.dump_ast, "Print the parsed syntax tree to stderr");
    cmd->add_flag("--dump-ir", o.dump_ir, "Print the compiled IR to stderr");
    cmd->add_option("--summary-json", o.summary_json, "Also write the run summary as JSON");
    cmd->add_option("--lateness", o.lateness, "Allowed lateness, e.g. 5s (time.allowed_lateness)");
    cmd->add_option("--bundle", o.bundle,
                    "Run the rules of a verified bundle (needs --trusted) instead of RULES");
    cmd->add_option("--trusted", o.trusted, "Trust file the bundle's signatures are checked against");
    cmd->add_option("--registry", o.registry,
                    "With --bundle NAME: run the version of NAME deployed in this registry");
    cmd->add_option("--threads", o.threads,
                    "Worker shards (events partitioned by key); default 0 = all cores; 1 = single-threaded "
                    "(the order of the goldens). With several, the output is the same multiset of lines; "
                    "--ordered makes its order deterministic")
        ->check(CLI::Range(0u, 1024u));
    cmd->add_flag("--ordered", o.ordered,
                  "With --threads > 1: write detections in a deterministic order (time, key, production)");
    cmd->add_flag("--stats", o.stats,
                  "Print statistics at the end: live keys, partial matches, bytes of key state, evictions, "
                  "overflow and budget drops (and, with --threads > 1, queue high-water marks)");
    cmd->add_option("--max-state-bytes", o.max_state_bytes,
                    "Budget for per-key state, e.g. 512MiB (state.max_state_bytes); over it the least "
                    "recently active keys are dropped, counted and warned");
    cmd->add_flag("--no-evict", o.no_evict, "Keep idle keys (eviction never changes the output)");
    cmd->add_option("--checkpoint-dir", o.checkpoint_dir,
                    "Snapshot all engine state into DIR and, when DIR holds a snapshot, resume from it "
                    "exactly once (needs an input file and file outputs; docs/architecture.md)");
    cmd->add_option("--checkpoint-every", o.checkpoint_every,
                    "With --checkpoint-dir: a snapshot every N input lines (e.g. 50000, the default "
                    "100000) or every T of wall-clock time (e.g. 5s)");
    cmd->add_flag("--drop-incompatible-state", o.drop_state,
                  "With --checkpoint-dir: when the snapshot belongs to another rule set, engine version or "
                  "run arguments, delete it and start from the beginning of the input instead of failing");
    cmd->add_option("--epoch-unit", o.epoch_unit, "Unit of numeric timestamps: ms or s")
        ->check(CLI::IsMember({"ms", "s"}));
    add_watch_flags(cmd, o);
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
    p.exit_after = true; // etho exits when the run ends: the executors' state is left to the OS
    if (cmd.count("--epoch-unit")) p.epoch_unit = *runtime::parse_epoch_unit(o.epoch_unit);

    std::vector<std::string> rules = o.rules;
    rules.insert(rules.end(), o.positional.begin(), o.positional.end());
    std::unique_ptr<ir::RuleSet> bundle_rules; // --bundle: compiled from the verified bundle's own bytes
    if (!o.bundle.empty()) {
        if (!rules.empty()) return usage_error("run: give either RULES or --bundle, not both");
        if (o.trusted.empty()) return usage_error("run: --bundle needs --trusted FILE (the keys to accept)");
        auto loaded = load_bundle_rules(o.bundle, o.trusted, o.registry, p.bundle_hash);
        if (!loaded) return loaded.code;
        bundle_rules = std::move(loaded.rules);
    } else if (rules.empty()) {
        return usage_error("run: no rules given (pass --rules PATH or a path, or --bundle FILE)");
    }
    if (p.events_path.empty())
        return usage_error("run: no events given (pass --events PATH, or - for stdin)");
    if (!bundle_rules && !paths_exist(rules)) return kExitUsage;
    if (p.events_path != "-" && !paths_exist({p.events_path})) return kExitUsage;

    compiler::Diagnostics diags;
    compiler::CompileOptions copts;
    copts.dump_ast = o.dump_ast;
    compiler::CompileResult res;
    if (bundle_rules)
        res.ruleset = std::move(bundle_rules);
    else
        res = compiler::compile_paths(rules, diags, copts);
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
    if (o.watch || !o.shadow.empty() || o.follow) {
        // The watch loop has its own reader and swaps executors: snapshots of it are not built yet.
        if (!o.checkpoint_dir.empty())
            return usage_error("--checkpoint-dir cannot be combined with --watch, --shadow or --follow yet");
        // These loops are single-threaded: the default (all cores) quietly means one here, an explicit
        // request for more is refused rather than ignored.
        if (cmd.count("--threads") > 0 && o.threads != 1)
            return usage_error("--watch, --shadow and --follow run single-threaded (drop --threads)");
        return run_watch(o, p, eopts, std::move(res.ruleset));
    }
    if (auto bad = checkpoint_options(o, cmd, p, eopts); !bad.empty()) return usage_error(bad);
    uint32_t threads = o.threads;
    // A snapshot's state is split over the shard count it was taken with: without an explicit --threads a
    // resume takes that count rather than this machine's cores (which may differ from the first run's).
    if (cmd.count("--threads") == 0 && !p.checkpoint.dir.empty()) {
        if (auto n = runtime::Checkpointer::resume_threads(p.checkpoint.dir)) {
            spdlog::info("resuming with --threads {}, the shard count of the checkpoint", *n);
            threads = *n;
        }
    }
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    // One executor per shard (one in all with --threads 1); the JIT compiles once and the other shards
    // load the same code from its cache. What the first creation says is logged once.
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    std::once_flag logged;
    std::string engine = o.engine;
    auto make_executor = [&](const ir::RuleSet& r, ir::StringPool& sp) -> std::unique_ptr<ir::Executor> {
        if (o.engine == "jit") {
#ifdef ETHOGRAM_HAVE_JIT
            jit::JitOptions jopts;
            jopts.cache_dir =
                o.no_jit_cache ? "" : (o.jit_cache.empty() ? jit::default_cache_dir() : o.jit_cache);
            jit::CompileStats cstats;
            auto j = jit::make_jit_executor(r, sp, eopts, jopts, &cstats);
            std::call_once(logged, [&] {
                if (!j) {
                    spdlog::warn("the JIT engine cannot run these rules ({}); using the interpreter",
                                 j.error());
                    engine = "interp";
                    return;
                }
                if (!cstats.cache_warning.empty()) spdlog::warn("JIT cache: {}", cstats.cache_warning);
                if (!cstats.cache_note.empty()) spdlog::debug("JIT cache: {}", cstats.cache_note);
                spdlog::debug("JIT: {} native functions in {:.1f} ms ({})", cstats.functions, cstats.total_ms,
                              cstats.cache_hit ? "from the cache" : "compiled");
            });
            if (j) return std::move(*j);
#else
            std::call_once(logged, [&] {
                spdlog::warn("this etho was built without LLVM (no JIT engine); using the interpreter");
                engine = "interp";
            });
#endif
        }
        return interp::make_interpreter(r, sp, eopts);
    };

    runtime::Expected<runtime::RunSummary> summary = runtime::Error{};
    runtime::ParallelStats pstats;
    if (threads == 1) {
        std::unique_ptr<ir::Executor> exec = make_executor(rs, pool);
        spdlog::debug("running {} {} ({} rules) with the {} engine", rs.name, rs.version, rs.rules.size(),
                      engine);
        spdlog::debug("allocator {}", runtime::process_allocator());
        summary = runtime::run_pipeline(rs, pool, *exec, p);
        // Freeing the state object by object costs time after the last event; the OS takes it back at exit.
        if (runtime::skip_final_free(p)) (void)exec.release();
    } else {
        runtime::ParallelOptions po;
        po.threads = threads;
        po.ordered = o.ordered;
        runtime::ExecutorFactory make = [&](const ir::RuleSet& r, ir::StringPool& sp) {
            return make_executor(r, sp);
        };
        spdlog::debug("running {} {} ({} rules) with the {} engine on {} threads", rs.name, rs.version,
                      rs.rules.size(), o.engine, threads);
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
