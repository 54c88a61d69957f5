// cmd_bench.cpp: `etho bench`: the benchmark of docs/performance.md (bench/bench.h).
#include "bench/bench.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>

namespace ethogram::tools {

CLI::App* add_bench(CLI::App& app, BenchOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("bench", "Benchmark the engines (interp, jit) against parse-only and "
                                    "hand-written baselines (count-only, and full detections); see "
                                    "docs/performance.md");
    cmd->add_option("--events", o.events, "Workload size in events (100k .. 10M)")
        ->check(CLI::Range(1000u, 100000000u));
    cmd->add_option("--users", o.users, "Distinct users (keys)")->check(CLI::Range(1u, 10000000u));
    cmd->add_option("--seed", o.seed, "Workload seed");
    cmd->add_option("--rules-dir", o.rules_dir, "Folder with schema.etho, reference.etho, three.etho");
    cmd->add_option("--json", o.json, "Also write the results as JSON to this file");
    cmd->add_option("--keep-workload", o.workload, "Keep the generated JSON Lines workload at this path");
    cmd->add_option("--compile-sizes", o.compile_sizes, "Rule counts for the compile-time runs");
    cmd->add_option("--repeat", o.repeat, "Matcher-only runs per engine (the fastest counts)")
        ->check(CLI::Range(1, 100));
    cmd->add_option("--heap-reserve", o.heap_reserve_mib,
                    "MiB of small-object heap kept mapped for every timed run, so that none pays for first "
                    "touches of fresh pages (0: none; docs/performance.md)")
        ->check(CLI::Range(0u, 65536u));
    cmd->add_flag("--matcher-only", o.matcher_only,
                  "Only the parse-only and matcher-only runs (no end-to-end or compile-time runs)");
    return cmd;
}

int run_bench(const BenchOptions& o) {
    bench::BenchOptions b;
    b.events = o.events;
    b.users = o.users;
    b.seed = o.seed;
    b.rules_dir = o.rules_dir.empty() ? ETHOGRAM_BENCH_RULES : o.rules_dir;
    b.json_path = o.json;
    b.workload_path = o.workload;
    b.compile_sizes = o.compile_sizes;
    b.repeat = o.repeat;
    b.matcher_only = o.matcher_only;
    b.heap_reserve_mib = o.heap_reserve_mib;
    return bench::run_bench(b);
}

} // namespace ethogram::tools
