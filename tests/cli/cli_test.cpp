// cli_test.cpp: runs the built `etho` binary: exit codes, bad flags, missing files, stdin input, outputs.
#include "tests/support/cli_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace {

using ethogram::test_support::has;
using ethogram::test_support::slurp;
using Result = ethogram::test_support::CliResult;

class Cli : public ethogram::test_support::CliFixture {
protected:
    void SetUp() override {
        make_dir("etho_cli");
        write("rules.etho", R"(ruleset test.cli version 2.3.4;
event click {
    key user: string;
    time ts: timestamp;
    id eid: string?;
    button: enum(buy, help);
}
taxonomy { intent { purchase; } risk { bot; } }
rule rapid_buying {
    label intent.purchase;
    severity high;
    over last 10s;
    on click;
    when count(click where button == buy) >= 2;
    emit clicks = count(click);
}
)");
        write("events.jsonl",
              R"({"type":"click","user":"u1","ts":"2026-01-01T00:00:00Z","button":"buy","eid":"a"}
{"type":"click","user":"u1","ts":"2026-01-01T00:00:01Z","button":"buy","eid":"b"}
{"type":"click","user":"u2","ts":"2026-01-01T00:00:02Z","button":"nope"}
not json
)");
    }
};

TEST_F(Cli, CheckOk) {
    Result r = etho("check " + path("rules.etho"));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "ok: test.cli 2.3.4: 1 rules, 1 event types\n");
}

TEST_F(Cli, CheckCompileErrorExits1) {
    write("bad.etho", "ruleset x version 1.0.0;\nrule r { label nowhere; when 1 > ; }\n");
    Result r = etho("check " + path("bad.etho"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "bad.etho")) << r.err;
    EXPECT_TRUE(has(r.err, "error")) << r.err;
}

TEST_F(Cli, CheckDumpIr) {
    Result r = etho("check --dump-ir " + path("rules.etho"));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "rapid_buying")) << r.out;
}

TEST_F(Cli, MissingFilesExit2NamingThem) {
    Result c = etho("check " + path("nope.etho"));
    EXPECT_EQ(c.code, 2);
    EXPECT_TRUE(has(c.err, "nope.etho")) << c.err;
    Result r = etho("run " + path("rules.etho") + " --events " + path("missing.jsonl"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "missing.jsonl")) << r.err;
}

TEST_F(Cli, BadFlagsExit2WithUsage) {
    Result r = etho("run --no-such-flag");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err + r.out, "--no-such-flag")) << r.err;
    EXPECT_TRUE(has(r.err + r.out, "Usage")) << r.err;
    EXPECT_EQ(etho("").code, 2);           // no sub-command
    EXPECT_EQ(etho("frobnicate").code, 2); // unknown sub-command
    EXPECT_EQ(etho("run --rules " + path("rules.etho") + " --events - --epoch-unit ns").code, 2);
    EXPECT_EQ(etho("run --rules " + path("rules.etho") + " --events - --engine bogus").code, 2);
    Result lat = etho("run --rules " + path("rules.etho") + " --events - --lateness soon");
    EXPECT_EQ(lat.code, 2);
    EXPECT_TRUE(has(lat.err, "soon")) << lat.err;
    EXPECT_EQ(etho("--help").code, 0);
}

TEST_F(Cli, LogLevelBeforeOrAfterTheSubCommand) {
    std::string run = "run " + path("rules.etho") + " --events " + path("events.jsonl") + " --dead-letter " +
                      path("d.jsonl");
    Result debug = etho(run + " --log-level debug");
    EXPECT_EQ(debug.code, 0) << debug.err;
    EXPECT_TRUE(has(debug.err, "etho: debug: running test.cli 2.3.4")) << debug.err;
    Result quiet = etho("--log-level warn " + run);
    EXPECT_EQ(quiet.code, 0) << quiet.err;
    EXPECT_FALSE(has(quiet.err, "debug:")) << quiet.err;
    EXPECT_EQ(etho(run + " --log-level loud").code, 2);
}

TEST_F(Cli, ThreadsDefaultToAllCoresAndWatchLoopsRefuseMore) {
    std::string run = "run " + path("rules.etho") + " --events " + path("events.jsonl") + " --dead-letter " +
                      path("d.jsonl") + " --log-level debug";
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    Result all = etho(run);
    EXPECT_EQ(all.code, 0) << all.err;
    if (cores > 1) {
        EXPECT_TRUE(has(all.err, "on " + std::to_string(cores) + " threads")) << all.err;
    }
    EXPECT_TRUE(has(all.err, "4 events in, 2 processed, 2 dead-lettered")) << all.err;
    Result one = etho(run + " --threads 1");
    EXPECT_EQ(one.code, 0) << one.err;
    EXPECT_FALSE(has(one.err, " threads")) << one.err;
    EXPECT_EQ(all.out, one.out); // one detection: the same line either way
    // --follow is single-threaded: an explicit request for more threads is refused, not ignored.
    Result follow = etho(run + " --follow --threads 2");
    EXPECT_EQ(follow.code, 2);
    EXPECT_TRUE(has(follow.err, "run single-threaded (drop --threads)")) << follow.err;
}

TEST_F(Cli, RunFromStdinToStdoutWithDeadLettersOnStderr) {
    Result r = etho("run --rules " + path("rules.etho") + " --events -", slurp(path("events.jsonl")));
    EXPECT_EQ(r.code, 0) << r.err;
    // Two buy clicks within 10 s: one detection at the second click.
    EXPECT_EQ(r.out.rfind(R"({"rule":"rapid_buying","behaviour":"intent.purchase","key":"u1",)"
                          R"("time":"2026-01-01T00:00:01.000Z")",
                          0),
              0u)
        << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
    EXPECT_TRUE(has(r.out, R"("fields":{"clicks":2})")) << r.out;
    EXPECT_TRUE(has(r.out, R"("ruleset":"test.cli","version":"2.3.4")")) << r.out;
    EXPECT_TRUE(has(r.err, R"(dead-letter: {"line":3,"reason":"bad_field")")) << r.err;
    EXPECT_TRUE(has(r.err, R"(dead-letter: {"line":4,"reason":"parse_error")")) << r.err;
    EXPECT_TRUE(has(r.err, "4 events in, 2 processed, 2 dead-lettered")) << r.err;
}

TEST_F(Cli, EpochUnitAndLatenessFlagsOverrideTheConfig) {
    write("cfg.yaml", "input: { epoch_unit: ms }\ntime: { allowed_lateness: 0s }\n");
    // Epoch seconds; the second buy arrives 1 s out of order (late with 0s lateness, fine with 2s).
    std::string events = R"({"type":"click","user":"u1","ts":1767225601,"button":"buy"}
{"type":"click","user":"u1","ts":1767225600,"button":"buy"}
)";
    std::string base =
        "run " + path("rules.etho") + " --events - --config " + path("cfg.yaml") + " --epoch-unit s";
    Result strict = etho(base, events);
    EXPECT_EQ(strict.code, 0) << strict.err;
    EXPECT_EQ(strict.out, "");
    EXPECT_TRUE(has(strict.err, R"(dead-letter: {"line":2,"reason":"late")")) << strict.err;
    Result lenient = etho(base + " --lateness 2s", events);
    EXPECT_EQ(lenient.code, 0) << lenient.err;
    // Reordered: the detection fires on the later event, at 2026-01-01T00:00:01Z.
    EXPECT_TRUE(has(lenient.out, R"("time":"2026-01-01T00:00:01.000Z","first":"2026-01-01T00:00:00.000Z")"))
        << lenient.out;
    EXPECT_TRUE(has(lenient.err, "2 events in, 2 processed, 0 dead-lettered")) << lenient.err;
}

TEST_F(Cli, RunToFilesWithConfigAndSummary) {
    write("cfg.yaml", "time: { allowed_lateness: 5s }\noutput: { explain: true }\n");
    Result r = etho("run " + path("rules.etho") + " --events " + path("events.jsonl") + " --out " +
                    path("o.jsonl") + " --config " + path("cfg.yaml") + " --summary-json " + path("s.json"));
    EXPECT_EQ(r.code, 0) << r.err;
    std::string out = slurp(path("o.jsonl"));
    EXPECT_TRUE(has(out, R"("explain":[)")) << out;
    std::string dead = slurp(path("o.jsonl.dead.jsonl")); // default dead-letter file next to --out
    EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 2) << dead;
    EXPECT_TRUE(has(slurp(path("s.json")), R"("events_in":4,"events_processed":2,"detections":1)"));
}

TEST_F(Cli, OnlyFiltersAndUnknownNodeIsAnError) {
    Result risk = etho("run " + path("rules.etho") + " --events " + path("events.jsonl") +
                       " --only risk --out -" + " --dead-letter " + path("d.jsonl"));
    EXPECT_EQ(risk.code, 0) << risk.err;
    EXPECT_EQ(risk.out, "");
    Result intent = etho("run " + path("rules.etho") + " --events " + path("events.jsonl") +
                         " --only intent" + " --dead-letter " + path("d.jsonl"));
    EXPECT_EQ(std::count(intent.out.begin(), intent.out.end(), '\n'), 1) << intent.err;
    Result bad = etho("run " + path("rules.etho") + " --events " + path("events.jsonl") + " --only nowhere");
    EXPECT_EQ(bad.code, 2);
    EXPECT_TRUE(has(bad.err, "nowhere")) << bad.err;
}

TEST_F(Cli, RunCompileErrorExits1) {
    write("bad.etho", "ruleset x version 1.0.0;\nrule r { when ; }\n");
    EXPECT_EQ(etho("run " + path("bad.etho") + " --events " + path("events.jsonl")).code, 1);
}

TEST_F(Cli, BadConfigExits2NamingKey) {
    write("cfg.yaml", "time: { lateness: 5s }\n");
    Result r = etho("run " + path("rules.etho") + " --events " + path("events.jsonl") + " --config " +
                    path("cfg.yaml"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "time.lateness")) << r.err;
}

TEST_F(Cli, FmtCheckAndRewrite) {
    std::string ugly =
        write("ugly.etho", "ruleset  x   version 1.0.0;\nevent e {key k: string; time t: timestamp;}\n");
    Result check = etho("fmt --check " + ugly);
    EXPECT_EQ(check.code, 1);
    EXPECT_TRUE(has(check.out, "ugly.etho")) << check.out;
    EXPECT_EQ(slurp(ugly), "ruleset  x   version 1.0.0;\nevent e {key k: string; time t: timestamp;}\n");
    Result rewrite = etho("fmt " + ugly);
    EXPECT_EQ(rewrite.code, 0) << rewrite.err;
    EXPECT_NE(slurp(ugly), "ruleset  x   version 1.0.0;\nevent e {key k: string; time t: timestamp;}\n");
    EXPECT_EQ(etho("fmt --check " + ugly).code, 0); // idempotent: now canonical
    EXPECT_EQ(etho("fmt " + path("absent.etho")).code, 2);
    EXPECT_EQ(etho("fmt " + dir).code, 2); // a folder is not a file to rewrite
    std::string broken = write("broken.etho", "rule {{{\n");
    Result b = etho("fmt " + broken);
    EXPECT_EQ(b.code, 1);
    EXPECT_EQ(slurp(broken), "rule {{{\n"); // left untouched
}

#ifdef ETHO_HAS_BENCH
/// Counts the non-overlapping occurrences of `part` in `s`.
size_t count(const std::string& s, const std::string& part) {
    size_t n = 0;
    for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
    return n;
}

// Page faults are part of a timing's CPU time, and how many a run takes depends on the heap it finds
// (docs/performance-history.md, "`etho bench`: the same heap for every matcher"): every timing in the report
// carries its faults, every matcher-only timing those of each timed run and of its warm-up (the end-to-end
// ones: of the warm-up), and the report names the heap reserve the runs had.
TEST_F(Cli, BenchReportsThePageFaultsOfEveryTiming) {
    Result r = etho("bench --events 2000 --users 200 --repeat 2 --compile-sizes 10 --heap-reserve 8 --json " +
                    path("bench.json"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "minor page faults per timed run (after one untimed warm-up run each; heap "
                           "reserve 8 MiB)"))
        << r.out;
    EXPECT_TRUE(has(r.out, ", hand-written ")) << r.out;
    EXPECT_TRUE(has(r.out, ", hand-written full ")) << r.out;
    EXPECT_TRUE(has(r.out, "hand-written, full detections")) << r.out;
    EXPECT_TRUE(has(r.out, "same detections as interp and jit: yes")) << r.out;
    const std::string j = slurp(path("bench.json"));
    EXPECT_TRUE(has(j, "\"heap_reserve_mib\": 8,")) << j;
    EXPECT_TRUE(has(j, "\"warmup_runs\": 1,")) << j;
    // parse-only, 2 x 50-rule matcher, 4 x 3-rule matcher (interp, jit, hand-written count-only and full),
    // 3 end to end.
    EXPECT_EQ(count(j, "\"cpu_s\""), 10u) << j;
    EXPECT_EQ(count(j, "\"minor_faults\": "), 10u) << j;
    EXPECT_EQ(count(j, "\"warmup_minor_faults\": "), 9u) << j; // and the 3 end-to-end runs
    // --repeat 2: two timed runs each.
    size_t lists = 0;
    for (size_t at = j.find("\"minor_faults_per_run\": ["); at != std::string::npos;
         at = j.find("\"minor_faults_per_run\": [", at + 1)) {
        const size_t end = j.find(']', at);
        ASSERT_NE(end, std::string::npos);
        EXPECT_EQ(count(j.substr(at, end - at), ","), 1u) << j.substr(at, end - at);
        ++lists;
    }
    EXPECT_EQ(lists, 6u) << j;
    EXPECT_TRUE(has(j, "\"handwritten\": {\"cpu_s\"")) << j;
    EXPECT_TRUE(has(j, "\"handwritten_full\": {\"cpu_s\"")) << j;
    EXPECT_TRUE(has(j, "\"handwritten_full_agrees\": true")) << j;
}
#endif

} // namespace
