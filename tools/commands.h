// commands.h: the `etho` sub-commands (check, run, fmt): options filled by CLI11, then executed.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ethogram::tools {

/// Process exit codes of every sub-command.
enum ExitCode : int { kExitOk = 0, kExitCompile = 1, kExitUsage = 2 };

struct CheckOptions {
    std::vector<std::string> files;
    bool dump_ast = false;
    bool dump_ir = false;
};

struct RunOptions {
    std::vector<std::string> rules;      ///< --rules PATH (files or folders)
    std::vector<std::string> positional; ///< rule paths given without --rules
    std::string events, out, dead_letter, suppressed, config, only, summary_json, lateness, epoch_unit;
    std::string engine = "interp";
    bool explain = false, dump_ast = false, dump_ir = false;
    uint32_t max_events_per_alias = 0; ///< 0: not given (config or the default applies)
    uint32_t threads = 0;              ///< --threads: 0 = all cores; 1 = the single-threaded pipeline
    bool ordered = false;              ///< --ordered: deterministic global output order
    bool stats = false;                ///< --stats: executor and parallel statistics on stderr
    bool no_evict = false;             ///< --no-evict: keep idle keys (for comparisons)
    std::string max_state_bytes;       ///< --max-state-bytes (overrides state.max_state_bytes)
};

struct FmtOptions {
    std::vector<std::string> files;
    bool check = false;
};

/// Registers the sub-command on `app`; the options object must outlive parsing.
CLI::App* add_check(CLI::App& app, CheckOptions& o);
CLI::App* add_run(CLI::App& app, RunOptions& o);
CLI::App* add_fmt(CLI::App& app, FmtOptions& o);

int run_check(const CheckOptions& o);
/// `cmd` is the parsed sub-command: flags given on it override the config file.
int run_run(const RunOptions& o, const CLI::App& cmd);
int run_fmt(const FmtOptions& o);

/// False (after printing "etho: PATH: no such file or directory") when a path does not exist.
bool paths_exist(const std::vector<std::string>& paths);

} // namespace ethogram::tools
