// commands.h: the `etho` sub-commands (check, run, fmt, train, eval, drift): options filled by CLI11, then
// executed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ethogram::tools {

/// Process exit codes of every sub-command.
/// train/eval/drift: 2 also covers spec errors; 3 = `etho drift` over its threshold; 4 = unusable input data
/// or model file (corrupt, incompatible, no usable events).
enum ExitCode : int { kExitOk = 0, kExitCompile = 1, kExitUsage = 2, kExitDrift = 3, kExitData = 4 };
/// `etho test`: some case failed (or a test file is malformed); `etho diff --fail-on-change`: a change.
constexpr int kExitTestFailed = 1;

struct CheckOptions {
    std::vector<std::string> files;
    bool dump_ast = false;
    bool dump_ir = false;
};

struct RunOptions {
    std::vector<std::string> rules;      ///< --rules PATH (files or folders)
    std::vector<std::string> positional; ///< rule paths given without --rules
    std::string events, out, dead_letter, suppressed, config, only, summary_json, lateness, epoch_unit;
    std::string engine = "jit";
    std::string jit_cache;     ///< --jit-cache DIR (empty: the default directory)
    bool no_jit_cache = false; ///< --no-jit-cache
    bool explain = false, dump_ast = false, dump_ir = false;
    uint32_t max_events_per_alias = 0; ///< 0: not given (config or the default applies)
    std::string bundle, trusted;       ///< --bundle B --trusted FILE: rules from a verified bundle
    std::string registry;              ///< with --bundle NAME: run the version deployed in this registry
    uint32_t threads = 0;              ///< --threads: 0 (the default) = all cores; 1 = single-threaded
    bool ordered = false;              ///< --ordered: deterministic global output order
    bool stats = false;                ///< --stats: executor and parallel statistics on stderr
    bool no_evict = false;             ///< --no-evict: keep idle keys (for comparisons)
    std::string max_state_bytes;       ///< --max-state-bytes (overrides state.max_state_bytes)
    std::string checkpoint_dir;        ///< --checkpoint-dir: snapshots and exactly-once resume
    std::string checkpoint_every;      ///< --checkpoint-every N (input lines) or T (wall time, e.g. 5s)
    bool drop_state = false;           ///< --drop-incompatible-state
    bool watch = false;                ///< --watch: hot swap to new deployments (tools/cmd_watch.h)
    bool follow = false;               ///< --follow: follow the --events file like tail -f (cmd_watch.h)
    std::string poll, swap_log;        ///< --poll D, --swap-log FILE
    uint64_t poll_events = 0;          ///< --poll-events N
    std::string shadow, shadow_out;    ///< --shadow BUNDLE --shadow-out FILE
};

struct BenchOptions {
    uint64_t events = 200000;
    uint32_t users = 20000;
    uint64_t seed = 20261129;
    std::string rules_dir, json, workload;
    std::vector<uint32_t> compile_sizes = {10, 100, 1000};
    int repeat = 3;
    bool matcher_only = false;
    uint32_t heap_reserve_mib = 64;
};

struct FmtOptions {
    std::vector<std::string> files;
    bool check = false;
};

struct TestOptions {
    std::vector<std::string> paths;
    std::string format = "text", out, jitter;
    bool coverage = false, verbose = false;
    uint32_t jitter_runs = 5;
    uint64_t seed = 1;
};

struct SynthOptions {
    std::string scenario, out;
    uint64_t seed = 0;
    bool seed_given = false;
};

struct DiffOptions {
    std::string old_rules, new_rules, events, config, format = "text";
    uint32_t examples = 3;
};

struct TrainOptions {
    std::string spec, events, labels, out, dead_letter;
};

struct EvalOptions {
    std::string model, events, labels, detections, rule, positive, dead_letter;
    std::string format = "text";
    uint32_t folds = 0;
};

struct DriftOptions {
    std::string model, events, dead_letter;
    std::string format = "text";
    double threshold = 0.25;
};

/// Registers the sub-command on `app`; the options object must outlive parsing.
CLI::App* add_check(CLI::App& app, CheckOptions& o);
CLI::App* add_run(CLI::App& app, RunOptions& o);
CLI::App* add_fmt(CLI::App& app, FmtOptions& o);
/// `etho bench` exists only in builds with the JIT (LLVM 19).
CLI::App* add_bench(CLI::App& app, BenchOptions& o);
CLI::App* add_test(CLI::App& app, TestOptions& o);
CLI::App* add_synth(CLI::App& app, SynthOptions& o);
CLI::App* add_diff(CLI::App& app, DiffOptions& o);
CLI::App* add_train(CLI::App& app, TrainOptions& o);
CLI::App* add_eval(CLI::App& app, EvalOptions& o);
CLI::App* add_drift(CLI::App& app, DriftOptions& o);

int run_check(const CheckOptions& o);
/// `cmd` is the parsed sub-command: flags given on it override the config file.
int run_run(const RunOptions& o, const CLI::App& cmd);
int run_fmt(const FmtOptions& o);
int run_bench(const BenchOptions& o);
int run_test(const TestOptions& o);
int run_synth(const SynthOptions& o);
int run_diff(const DiffOptions& o);
int run_train(const TrainOptions& o);
int run_eval(const EvalOptions& o);
int run_drift(const DriftOptions& o);

/// False (after printing "etho: PATH: no such file or directory") when a path does not exist.
bool paths_exist(const std::vector<std::string>& paths);

} // namespace ethogram::tools
