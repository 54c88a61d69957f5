// cmd_test.cpp: `etho test`: run rule test files (docs/testing.md), report for people or CI, coverage.
#include "runtime/output_file.h"
#include "runtime/time.h"
#include "tools/commands.h"
#include "tools/ruletest/report.h"
#include "tools/ruletest/runner.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ethogram::tools {

CLI::App* add_test(CLI::App& app, TestOptions& o) {
    CLI::App* cmd = app.add_subcommand("test", "Run rule tests (*.test.yaml files, see docs/testing.md)");
    cmd->add_option("paths", o.paths, "Test files, or folders searched for *.test.yaml (default: .)");
    cmd->add_option("--format", o.format, "Report format: text, junit or json")
        ->check(CLI::IsMember({"text", "junit", "json"}))
        ->capture_default_str();
    cmd->add_option("--out", o.out, "Write the report to this file instead of stdout");
    cmd->add_flag("--coverage", o.coverage,
                  "Report rules, pattern steps and condition branches no test exercised");
    cmd->add_option("--jitter", o.jitter,
                    "Rerun each case with event times moved by up to this duration (e.g. 2s), keeping each "
                    "key's order, and report detections that flip");
    cmd->add_option("--jitter-runs", o.jitter_runs, "Perturbed runs per case with --jitter")
        ->check(CLI::Range(1u, 1000u))
        ->capture_default_str();
    cmd->add_option("--seed", o.seed, "Seed of the --jitter perturbations")->capture_default_str();
    cmd->add_flag("-v,--verbose", o.verbose, "Also list the detections of passing cases");
    return cmd;
}

int run_test(const TestOptions& o) {
    ruletest::RunnerOptions ro;
    ro.coverage = o.coverage;
    ro.jitter_runs = o.jitter_runs;
    ro.seed = o.seed;
    if (!o.jitter.empty()) {
        auto d = ruletest::parse_compound_duration(o.jitter);
        if (!d || *d <= 0) {
            fmt::print(stderr, "etho: --jitter: expected a positive duration such as 2s or 500ms, got '{}'\n",
                       o.jitter);
            return kExitUsage;
        }
        ro.jitter_us = *d;
    }
    std::vector<std::string> files;
    const std::vector<std::string> paths = o.paths.empty() ? std::vector<std::string>{"."} : o.paths;
    for (const std::string& p : paths) {
        std::string err;
        auto found = ruletest::find_test_files(p, err);
        if (!err.empty()) {
            fmt::print(stderr, "{}\n", err);
            return kExitUsage;
        }
        files.insert(files.end(), found.begin(), found.end());
    }
    if (files.empty()) {
        fmt::print(stderr, "etho: test: no *.test.yaml files found under {}\n", fmt::join(paths, ", "));
        return kExitUsage;
    }

    ruletest::Runner runner(ro);
    std::vector<ruletest::FileResult> results;
    for (const std::string& f : files) results.push_back(runner.run_file(f));

    std::string report;
    const auto sets = runner.rule_sets();
    if (o.format == "junit") {
        report = ruletest::junit_report(results);
    } else if (o.format == "json") {
        report = ruletest::json_report(results, o.coverage ? ruletest::coverage_json(sets) : "");
    } else {
        report = ruletest::text_report(results, o.verbose);
        if (o.coverage) report += ruletest::coverage_text(sets);
    }
    auto out = runtime::OutputFile::open(o.out.empty() ? "-" : o.out);
    if (!out) {
        fmt::print(stderr, "etho: {}\n", out.error());
        return kExitUsage;
    }
    (*out)->write(report);
    if (auto r = (*out)->close(); !r) {
        fmt::print(stderr, "etho: {}\n", r.error());
        return kExitUsage;
    }
    // The machine-readable formats keep stdout clean; people still see the totals (and coverage).
    const ruletest::Totals t = ruletest::totals(results);
    if (o.format != "text" || !o.out.empty()) {
        fmt::print(stderr, "etho test: {} case(s): {} passed, {} failed, {} error(s)\n", t.cases, t.passed,
                   t.failed, t.errors);
        if (o.coverage && o.format == "junit") fmt::print(stderr, "{}", ruletest::coverage_text(sets));
    }
    return t.ok() ? kExitOk : kExitTestFailed;
}

} // namespace ethogram::tools
