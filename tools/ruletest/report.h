// report.h: test results for people (text), for CI (JUnit XML, JSON), and the coverage report.
#pragma once

#include "tools/ruletest/runner.h"

#include <string>
#include <vector>

namespace ethogram::ruletest {

struct Totals {
    size_t files = 0, cases = 0, passed = 0, failed = 0, errors = 0;
    bool ok() const { return failed == 0 && errors == 0; }
};

Totals totals(const std::vector<FileResult>& files);

/// Pass/fail per case; a failure lists why, the detections that fired (as `etho run --explain` prints
/// them) and the dead letters. `verbose` also lists the detections of passing cases.
std::string text_report(const std::vector<FileResult>& files, bool verbose);
/// JUnit XML: one testsuite per file, one testcase per case (a file that cannot run is one error).
std::string junit_report(const std::vector<FileResult>& files);
/// One JSON object: files, cases, failures, detections; `coverage` (may be empty) is added as it is.
std::string json_report(const std::vector<FileResult>& files, const std::string& coverage_json);

/// What was never exercised: rules that never fired, pattern steps that never bound (or, for negations
/// and absences, never killed a match), threshold condition branches never true / never false.
struct CoverageSummary {
    size_t rules = 0, rules_hit = 0, steps = 0, steps_hit = 0, outcomes = 0, outcomes_hit = 0;
};
CoverageSummary coverage_summary(const std::vector<const CompiledRules*>& sets);
std::string coverage_text(const std::vector<const CompiledRules*>& sets);
std::string coverage_json(const std::vector<const CompiledRules*>& sets);

/// Readable text of an IR expression (field and aggregate names resolved), for reports and diffs. With
/// `step` >= 0 the expression is that pattern step's predicate (its candidate's fields get the alias).
std::string expr_text(const ir::RuleSet& rs, const ir::Rule& rule, ir::ExprId id, int32_t step = -1);

} // namespace ethogram::ruletest
