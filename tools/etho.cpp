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
    if (int rc = run_govern(govern); rc >= 0) return rc;
    return kExitUsage;
}
