// commands.h: the `etho` sub-commands (check, run, fmt, train, eval, drift): options filled by CLI11, then
// executed.
#pragma once

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
};

struct FmtOptions {
    std::vector<std::string> files;
    bool check = false;
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
CLI::App* add_train(CLI::App& app, TrainOptions& o);
CLI::App* add_eval(CLI::App& app, EvalOptions& o);
CLI::App* add_drift(CLI::App& app, DriftOptions& o);

int run_check(const CheckOptions& o);
/// `cmd` is the parsed sub-command: flags given on it override the config file.
int run_run(const RunOptions& o, const CLI::App& cmd);
int run_fmt(const FmtOptions& o);
int run_train(const TrainOptions& o);
int run_eval(const EvalOptions& o);
int run_drift(const DriftOptions& o);

/// False (after printing "etho: PATH: no such file or directory") when a path does not exist.
bool paths_exist(const std::vector<std::string>& paths);

} // namespace ethogram::tools
