// runner.h: runs rule test files: compiles each rule set once, builds each case's events, replays them
// through the interpreter as `etho run` would, and matches the detections against the expectations.
#pragma once

#include "compiler/interp/coverage.h"
#include "compiler/ir/ir.h"
#include "tools/ruletest/replay.h"
#include "tools/ruletest/spec.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ethogram::ruletest {

struct RunnerOptions {
    int64_t jitter_us = 0;    ///< --jitter: 0 = off
    uint32_t jitter_runs = 5; ///< perturbed reruns per case
    uint64_t seed = 1;        ///< jitter seed
    bool coverage = false;    ///< count coverage (interp::Coverage) on the unperturbed runs
};

/// A detection present in the unperturbed run and missing from a perturbed one ("lost"), or the reverse.
struct Flip {
    bool lost = true;
    uint32_t runs = 0; ///< how many perturbed runs showed it
    std::string json;  ///< the detection as `etho run` prints it
};

struct CaseResult {
    enum Status { Pass, Fail, Error };
    std::string name;
    Pos pos;
    Status status = Pass;
    std::vector<std::string> failures; ///< why it failed (Fail) or what is wrong with it (Error)
    std::vector<ReplayDetection> actual;
    std::vector<DeadLine> dead;
    std::vector<Flip> flips;
    bool stable = true;
    int64_t start = 0; ///< time zero of the case's relative times
};

struct FileResult {
    std::string path;
    std::string error; ///< the file could not be run at all (malformed, rules missing or not compiling)
    std::vector<CaseResult> cases;
};

/// One compiled rule set, shared by every test file that names the same rule paths.
struct CompiledRules {
    std::vector<std::string> paths;
    std::unique_ptr<ir::RuleSet> rs;
    std::string diagnostics; ///< rendered errors when `rs` is null
    interp::Coverage coverage;
    uint32_t cases = 0; ///< test cases run against it
};

class Runner {
public:
    explicit Runner(RunnerOptions opts) : opts_(opts) {}

    FileResult run_file(const std::string& path);
    /// Every rule set compiled so far, in first-use order.
    std::vector<const CompiledRules*> rule_sets() const;

private:
    CompiledRules& compile(const std::vector<std::string>& paths);
    void run_case(const TestFile& tf, const TestCase& tc, CompiledRules& cr, const ReplayOptions& ro,
                  CaseResult& out);
    /// Replays the case's `lines` with perturbed event times (RunnerOptions::jitter_us) and records in
    /// `out.flips` the detections that appear or disappear; a flip fails a case marked stable.
    void check_stability(const TestCase& tc, const ir::RuleSet& rs, const std::vector<std::string>& lines,
                         const ReplayOptions& base, CaseResult& out) const;

    RunnerOptions opts_;
    std::map<std::string, std::unique_ptr<CompiledRules>> cache_;
    std::vector<const CompiledRules*> order_;
};

/// `+1m30s` style offset (negative: `-10s`).
std::string format_offset(int64_t us);

/// Test files under `path`: the file itself, or a folder's `*.test.yaml` / `*.test.yml`, recursively, sorted.
std::vector<std::string> find_test_files(const std::string& path, std::string& error);

} // namespace ethogram::ruletest
