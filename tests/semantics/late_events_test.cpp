// late_events_test.cpp: pins for docs/semantics.md §1 lateness and reordering, through the runtime
// pipeline (JSON Lines in, detections and dead letters out).
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "runtime/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace ethogram::semantics_test {
namespace {

namespace fs = std::filesystem;

const char* kRules = R"(ruleset late version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; }
event B { key u: string; time ts: timestamp; }
rule a_then_b { label t; pattern a: A -> b: B; }
rule b_then_a { label t; pattern b: B -> a: A; }
)";

struct Outcome {
    runtime::RunSummary summary;
    std::string out, dead;
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// Runs JSON lines (`ts` in epoch seconds) with the given lateness.
Outcome run_lines(const std::string& lines, int64_t lateness_s) {
    fs::path dir = fs::temp_directory_path() / ("ethogram_late_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    { std::ofstream(dir / "in.jsonl") << lines; }
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("late.etho", kRules, diags);
    EXPECT_TRUE(res.ruleset) << diags.render();
    Outcome r;
    if (!res.ruleset) return r;
    ir::StringPool pool;
    ir::seed_string_pool(*res.ruleset, pool);
    auto exec = interp::make_interpreter(*res.ruleset, pool);
    runtime::PipelineOptions opts;
    opts.events_path = (dir / "in.jsonl").string();
    opts.out_path = (dir / "out.jsonl").string();
    opts.dead_letter_path = (dir / "dead.jsonl").string();
    opts.allowed_lateness_us = lateness_s * ir::kMicrosPerSecond;
    opts.epoch_unit = runtime::EpochUnit::Seconds;
    opts.print_summary = false;
    auto summary = runtime::run_pipeline(*res.ruleset, pool, *exec, opts);
    EXPECT_TRUE(summary.ok());
    if (summary.ok()) r.summary = *summary;
    r.out = slurp(dir / "out.jsonl");
    r.dead = slurp(dir / "dead.jsonl");
    fs::remove_all(dir);
    return r;
}

// §1 "An event with time t < W on arrival is late: it goes to the dead-letter output with reason late
// and is counted. It is never processed, never silently dropped." (W = largest time seen - lateness.)
TEST(SemanticsLate, EarlierThanTheWatermarkIsLate) {
    Outcome r = run_lines(R"({"type":"A","u":"u1","ts":1000000010}
{"type":"B","u":"u1","ts":1000000009}
)",
                          0);
    EXPECT_EQ(r.summary.late(), 1u);
    EXPECT_EQ(r.summary.processed, 1u);
    EXPECT_EQ(r.summary.detections, 0u);
    EXPECT_NE(r.dead.find("late"), std::string::npos) << r.dead;
}

// §1 "An event with time t < W" is late: t == W is not.
TEST(SemanticsLate, AtTheWatermarkIsNotLate) {
    Outcome r = run_lines(R"({"type":"A","u":"u1","ts":1000000010}
{"type":"B","u":"u1","ts":1000000010}
)",
                          0);
    EXPECT_EQ(r.summary.late(), 0u);
    EXPECT_EQ(r.summary.processed, 2u);
    EXPECT_NE(r.out.find("a_then_b"), std::string::npos) << r.out;
}

// §1 "Other events wait in a reorder buffer and are released when W >= t, in order of (t, arrival). So
// every key sees its events in event-time order": with 5s of lateness, B at 7 arriving after A at 10 is
// not late and is processed first.
TEST(SemanticsLate, ReorderedWithinTheAllowedLateness) {
    Outcome r = run_lines(R"({"type":"A","u":"u1","ts":1000000010}
{"type":"B","u":"u1","ts":1000000007}
)",
                          5);
    EXPECT_EQ(r.summary.late(), 0u);
    EXPECT_EQ(r.summary.processed, 2u);
    EXPECT_EQ(r.summary.detections, 1u);
    EXPECT_NE(r.out.find("b_then_a"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("a_then_b"), std::string::npos) << r.out;
}

} // namespace
} // namespace ethogram::semantics_test
