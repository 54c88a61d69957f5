// etho.cpp: the `etho` command-line tool: check, run and fmt rule sets (CLI11).
#include "tools/cmd_govern.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

using namespace ethogram::tools;

int main(int argc, char** argv) {
    CLI::App app{"etho: the Ethogram complex-event-processing engine", "etho"};
    app.require_subcommand(1);
    app.failure_message(CLI::FailureMessage::help);
    app.fallthrough(); // sub-commands inherit it: `etho run ... --log-level debug` reaches the top-level flag
    std::string log_level = "info";
    app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->capture_default_str();

    CheckOptions check;
    RunOptions run;
    FmtOptions fmt_opts;
    CLI::App* check_cmd = add_check(app, check);
    CLI::App* run_cmd = add_run(app, run);
    CLI::App* fmt_cmd = add_fmt(app, fmt_opts);
#ifdef ETHOGRAM_HAVE_BENCH
    BenchOptions bench_opts;
    CLI::App* bench_cmd = add_bench(app, bench_opts);
#endif
    TestOptions test_opts;
    SynthOptions synth_opts;
    DiffOptions diff_opts;
    CLI::App* test_cmd = add_test(app, test_opts);
    CLI::App* synth_cmd = add_synth(app, synth_opts);
    CLI::App* diff_cmd = add_diff(app, diff_opts);
    TrainOptions train;
    EvalOptions eval;
    DriftOptions drift;
    CLI::App* train_cmd = add_train(app, train);
    CLI::App* eval_cmd = add_eval(app, eval);
    CLI::App* drift_cmd = add_drift(app, drift);
    GovernCli govern; // keygen, build, sign, verify, publish, approve, release, audit
    add_govern(app, govern);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e); // prints help for --help, or the error and usage
        return e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success) ? rc : kExitUsage;
    }

    auto logger = spdlog::stderr_color_mt("etho");
    logger->set_pattern("etho: %l: %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (*check_cmd) return run_check(check);
    if (*run_cmd) return run_run(run, *run_cmd);
    if (*fmt_cmd) return run_fmt(fmt_opts);
#ifdef ETHOGRAM_HAVE_BENCH
    if (*bench_cmd) return run_bench(bench_opts);
#endif
    if (*test_cmd) return run_test(test_opts);
    if (*synth_cmd) return run_synth(synth_opts);
    if (*diff_cmd) return run_diff(diff_opts);
    if (*train_cmd) return run_train(train);
    if (*eval_cmd) return run_eval(eval);
    if (*drift_cmd) return run_drift(drift);
    if (int rc = run_govern(govern); rc >= 0) return rc;
    return kExitUsage;
}
