// ruletest_test.cpp: the rule-test library: in-memory replay equals `etho run`, coverage counters,
// jitter, expectations and errors, synth, and diff matching.
#include "compiler/driver/compile.h"
#include "runtime/config.h"
#include "tools/ruletest/diff.h"
#include "tools/ruletest/replay.h"
#include "tools/ruletest/report.h"
#include "tools/ruletest/runner.h"
#include "tools/ruletest/synth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace {

using namespace ethogram;
using namespace ethogram::ruletest;

const std::string kRoot = ETHOGRAM_SOURCE_DIR;
const std::string kData = kRoot + "/tests/ruletest/data";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::unique_ptr<ir::RuleSet> compile(const std::string& path) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_paths({path}, diags);
    EXPECT_TRUE(res.ruleset) << diags.render();
    return std::move(res.ruleset);
}

ReplayOptions example_options(const std::string& ex) {
    auto cfg = runtime::load_config(kRoot + "/examples/" + ex + "/config.yaml");
    EXPECT_TRUE(cfg) << cfg.error();
    ReplayOptions ro;
    ro.allowed_lateness_us = cfg->allowed_lateness_us;
    ro.epoch_unit = cfg->epoch_unit;
    ro.type_field = cfg->type_field;
    return ro;
}

// The in-memory path must print exactly what `etho run` prints: the examples' golden detections.
TEST(Replay, EqualsEthoRunOnTheExamples) {
    for (const std::string ex : {"ecommerce", "fraud", "support"}) {
        auto rs = compile(kRoot + "/examples/" + ex + "/rules");
        ASSERT_TRUE(rs);
        const auto lines = split_lines(slurp(kRoot + "/examples/" + ex + "/events.jsonl"));
        ReplayResult r = replay(*rs, lines, example_options(ex));
        std::string emitted, suppressed;
        for (const auto& d : r.detections) (d.suppressed ? suppressed : emitted) += d.json + "\n";
        EXPECT_EQ(emitted, slurp(kRoot + "/examples/" + ex + "/expected/detections.jsonl")) << ex;
        const std::string sup_path = kRoot + "/examples/" + ex + "/expected/suppressed.jsonl";
        if (std::filesystem::exists(sup_path)) {
            EXPECT_EQ(suppressed, slurp(sup_path)) << ex;
        }
        const auto dead = split_lines(slurp(kRoot + "/examples/" + ex + "/expected/dead_letter.jsonl"));
        EXPECT_EQ(r.dead.size(), dead.size()) << ex;
    }
}

// Counting coverage changes nothing in the detections, and counts what happened.
TEST(Coverage, CountsWithoutChangingDetections) {
    auto rs = compile(kRoot + "/examples/fraud/rules");
    ASSERT_TRUE(rs);
    const auto lines = split_lines(slurp(kRoot + "/examples/fraud/events.jsonl"));
    ReplayOptions ro = example_options("fraud");
    ReplayResult plain = replay(*rs, lines, ro);
    interp::Coverage cov(*rs);
    ro.coverage = &cov;
    ReplayResult counted = replay(*rs, lines, ro);
    ASSERT_EQ(plain.detections.size(), counted.detections.size());
    for (size_t i = 0; i < plain.detections.size(); ++i)
        EXPECT_EQ(plain.detections[i].json, counted.detections[i].json);
    std::map<std::string, uint64_t> fired;
    for (const auto& d : plain.detections) ++fired[d.rule_name];
    for (size_t r = 0; r < rs->rules.size(); ++r) {
        EXPECT_EQ(cov.rules[r].detections, fired[rs->rules[r].name]) << rs->rules[r].name;
        // Every positive step of a rule that fired bound at least one event per detection.
        for (size_t s = 0; s < rs->rules[r].pattern.steps.size(); ++s) {
            if (rs->rules[r].pattern.steps[s].kind == ir::StepKind::Positive) {
                EXPECT_GE(cov.rules[r].step_hits[s], cov.rules[r].detections);
            }
        }
    }
}

TEST(Coverage, ThresholdBranchesAndMerge) {
    auto rs = compile(kData + "/rules");
    ASSERT_TRUE(rs);
    interp::Coverage cov(*rs);
    const ir::Rule& eager = rs->rules[0];
    ASSERT_EQ(eager.name, "eager");
    ASSERT_EQ(cov.rules[0].cond.op, ir::Op::And);
    ASSERT_EQ(cov.rules[0].cond.exprs.size(), 2u);
    EXPECT_EQ(expr_text(*rs, eager, cov.rules[0].cond.exprs[0]), "count(view) >= 3");
    EXPECT_EQ(expr_text(*rs, eager, cov.rules[0].cond.exprs[1]), "count(view where page == product) >= 2");
    ReplayOptions ro;
    ro.coverage = &cov;
    const std::vector<std::string> lines = {
        R"({"type":"view","user":"a","ts":"2026-01-01T00:00:00Z","page":"home"})",
        R"({"type":"view","user":"a","ts":"2026-01-01T00:00:01Z","page":"home"})",
        R"({"type":"view","user":"a","ts":"2026-01-01T00:00:02Z","page":"home"})",
    };
    replay(*rs, lines, ro);
    EXPECT_EQ(cov.rules[0].cond_false, 3u);
    EXPECT_EQ(cov.rules[0].cond.held[0], 1u); // the third view: count 3
    EXPECT_EQ(cov.rules[0].cond.failed[0], 2u);
    EXPECT_EQ(cov.rules[0].cond.held[1], 0u); // never a product
    interp::Coverage twice(*rs);
    twice.merge(cov);
    twice.merge(cov);
    EXPECT_EQ(twice.rules[0].cond.failed[0], 4u);
}

TEST(Jitter, DeterministicAndKeepsEachKeysOrder) {
    auto rs = compile(kRoot + "/examples/support/rules");
    ASSERT_TRUE(rs);
    const auto lines = split_lines(slurp(kRoot + "/examples/support/events.jsonl"));
    ReplayOptions ro = example_options("support");
    ro.jitter_us = 2'000'000;
    ro.jitter_seed = 42;
    ReplayResult a = replay(*rs, lines, ro), b = replay(*rs, lines, ro);
    ASSERT_EQ(a.detections.size(), b.detections.size());
    for (size_t i = 0; i < a.detections.size(); ++i) EXPECT_EQ(a.detections[i].json, b.detections[i].json);
    // Within each detection, bound events keep their time order.
    for (const auto& d : a.detections) EXPECT_LE(d.first, d.last);
    ro.jitter_seed = 43;
    ReplayResult c = replay(*rs, lines, ro);
    std::string ja, jc;
    for (const auto& d : a.detections) ja += d.json;
    for (const auto& d : c.detections) jc += d.json;
    EXPECT_NE(ja, jc); // times moved differently
}

TEST(Spec, Durations) {
    EXPECT_EQ(parse_compound_duration("90s"), 90'000'000);
    EXPECT_EQ(parse_compound_duration("1m30s"), 90'000'000);
    EXPECT_EQ(parse_compound_duration("1h0m1s"), 3'601'000'000);
    EXPECT_EQ(parse_compound_duration("250ms"), 250'000);
    EXPECT_FALSE(parse_compound_duration(""));
    EXPECT_FALSE(parse_compound_duration("1x"));
    EXPECT_FALSE(parse_compound_duration("m"));
    EXPECT_EQ(format_offset(90'000'000), "+1m30s");
    EXPECT_EQ(format_offset(-1'500'000), "-1s500ms");
    EXPECT_EQ(format_offset(0), "+0s");
}

TEST(Runner, PassFailAndErrors) {
    Runner runner(RunnerOptions{});
    FileResult ok = runner.run_file(kData + "/ok.test.yaml");
    EXPECT_TRUE(ok.error.empty()) << ok.error;
    ASSERT_EQ(ok.cases.size(), 4u);
    for (const auto& c : ok.cases) EXPECT_EQ(c.status, CaseResult::Pass) << c.name;
    FileResult bad = runner.run_file(kData + "/failing.test.yaml");
    ASSERT_EQ(bad.cases.size(), 6u);
    const Totals t = totals({ok, bad});
    EXPECT_EQ(t.passed, 5u);
    EXPECT_EQ(t.failed, 5u);
    EXPECT_FALSE(t.ok());
    // Both files name the same rules: compiled once.
    EXPECT_EQ(runner.rule_sets().size(), 1u);
    EXPECT_EQ(runner.rule_sets()[0]->cases, 10u);

    FileResult unknown = runner.run_file(kData + "/malformed/unknown_rule.test.yaml");
    ASSERT_EQ(unknown.cases.size(), 1u);
    EXPECT_EQ(unknown.cases[0].status, CaseResult::Error);
    EXPECT_NE(unknown.cases[0].failures[0].find("unknown_rule.test.yaml:7:9: error: unknown rule 'eagre'"),
              std::string::npos)
        << unknown.cases[0].failures[0];
    FileResult yaml = runner.run_file(kData + "/malformed/bad_yaml.test.yaml");
    EXPECT_NE(yaml.error.find("bad_yaml.test.yaml:5:1: error: not valid YAML"), std::string::npos)
        << yaml.error;
    FileResult missing = runner.run_file(kData + "/malformed/missing_rules.test.yaml");
    EXPECT_NE(
        missing.error.find("missing_rules.test.yaml:1:8: error: rules: '../no_such_rules' does not exist"),
        std::string::npos)
        << missing.error;
}

TEST(Runner, JitterFlipsOnlyFailStableCases) {
    RunnerOptions o;
    o.jitter_us = 5'000'000;
    Runner runner(o);
    FileResult r = runner.run_file(kData + "/jitter.test.yaml");
    ASSERT_EQ(r.cases.size(), 3u);
    EXPECT_EQ(r.cases[0].status, CaseResult::Fail);
    EXPECT_FALSE(r.cases[0].flips.empty());
    EXPECT_TRUE(r.cases[0].flips[0].lost);
    EXPECT_EQ(r.cases[1].status, CaseResult::Pass); // stable: false
    EXPECT_FALSE(r.cases[1].flips.empty());
    EXPECT_EQ(r.cases[2].status, CaseResult::Pass);
    EXPECT_TRUE(r.cases[2].flips.empty());
}

TEST(Synth, DeterministicSortedAndSeeded) {
    SynthResult a, b, c;
    std::string err;
    ASSERT_TRUE(synthesize(kData + "/scenario.yaml", std::nullopt, a, err)) << err;
    ASSERT_TRUE(synthesize(kData + "/scenario.yaml", 7, b, err)) << err;
    ASSERT_TRUE(synthesize(kData + "/scenario.yaml", 99, c, err)) << err;
    EXPECT_EQ(a.jsonl, b.jsonl);
    EXPECT_NE(a.jsonl, c.jsonl);
    EXPECT_EQ(a.users, 15u);
    // Valid events for the rules they were written for, in time order.
    auto rs = compile(kData + "/rules");
    ASSERT_TRUE(rs);
    ReplayResult r = replay(*rs, split_lines(a.jsonl), ReplayOptions{});
    EXPECT_TRUE(r.dead.empty());
    EXPECT_EQ(r.processed, a.events);
    std::string prev;
    for (const std::string& l : split_lines(a.jsonl)) {
        const std::string ts = l.substr(l.find("\"ts\":"), 32);
        EXPECT_LE(prev, ts);
        prev = ts;
    }
}

TEST(Synth, ErrorsNameTheLine) {
    const std::string path = std::filesystem::temp_directory_path() / "etho_bad_scenario.yaml";
    std::ofstream(path)
        << "journeys:\n  - name: x\n    steps:\n      - type: view\n        gap: {poisson: 3s}\n";
    SynthResult r;
    std::string err;
    EXPECT_FALSE(synthesize(path, std::nullopt, r, err));
    EXPECT_NE(err.find(":5:15: error: unknown key 'poisson' in a gap"), std::string::npos) << err;
    std::filesystem::remove(path);
}

TEST(Diff, StructuralAndReplay) {
    auto a = compile(kData + "/rules"), b = compile(kData + "/rules_v2");
    ASSERT_TRUE(a && b);
    StructuralDiff s = structural_diff(*a, *b);
    EXPECT_EQ(s.added, std::vector<std::string>{"big_buy"});
    EXPECT_TRUE(s.removed.empty());
    ASSERT_EQ(s.changed.size(), 2u);
    EXPECT_EQ(s.changed[0].rule, "eager");
    EXPECT_EQ(s.changed[0].changes,
              std::vector<std::string>{"condition branch 1: `count(view) >= 3` -> `count(view) >= 4`"});
    StructuralDiff same = structural_diff(*a, *a);
    EXPECT_TRUE(same.changed.empty() && same.added.empty() && same.removed.empty());
    EXPECT_EQ(same.unchanged.size(), 2u);

    const auto lines = split_lines(slurp(kData + "/corpus.jsonl"));
    ReplayDiff r = replay_diff(replay(*a, lines, {}), replay(*b, lines, {}));
    std::map<std::string, const RuleReplayDiff*> per;
    for (const auto& x : r.rules) per[x.rule] = &x;
    ASSERT_TRUE(per.count("big_buy"));
    EXPECT_EQ(per["big_buy"]->old_count, 0u);
    EXPECT_EQ(per["big_buy"]->added.size(), per["big_buy"]->new_count);
    // Severity went from medium to high: every direct_buy kept in version 2 is "changed", none "same".
    ASSERT_TRUE(per.count("direct_buy"));
    EXPECT_EQ(per["direct_buy"]->same, 0u);
    EXPECT_EQ(per["direct_buy"]->changed.size(), per["direct_buy"]->new_count);
    EXPECT_EQ(per["direct_buy"]->changed.size() + per["direct_buy"]->removed.size(),
              per["direct_buy"]->old_count);
    // A run diffed with itself: everything the same.
    ReplayResult once = replay(*a, lines, {});
    ReplayDiff self = replay_diff(once, once);
    for (const auto& x : self.rules) {
        EXPECT_EQ(x.same, x.old_count);
        EXPECT_TRUE(x.added.empty() && x.removed.empty() && x.changed.empty());
    }
}

} // namespace

namespace {

// A rule whose text changed only in comments and layout is "changed" by hash but cosmetic.
TEST(Diff, CommentsAndLayoutOnlyAreCosmetic) {
    const auto dir = std::filesystem::temp_directory_path() / ("etho_diff_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    std::string text = slurp(kData + "/rules/shop.etho");
    std::ofstream(dir / "a" / "shop.etho") << text;
    const std::string from = "    on view;\n";
    ASSERT_NE(text.find(from), std::string::npos);
    text.replace(text.find(from), from.size(), "    // triggered by views only\n    on   view ;\n");
    std::ofstream(dir / "b" / "shop.etho") << text;
    auto a = compile((dir / "a").string()), b = compile((dir / "b").string());
    ASSERT_TRUE(a && b);
    StructuralDiff s = structural_diff(*a, *b);
    ASSERT_EQ(s.changed.size(), 1u);
    EXPECT_EQ(s.changed[0].rule, "eager");
    EXPECT_NE(s.changed[0].old_hash, s.changed[0].new_hash);
    EXPECT_TRUE(s.changed[0].cosmetic);
    EXPECT_TRUE(s.changed[0].changes.empty());
    EXPECT_TRUE(s.changed[0].text_diff.empty());
    std::filesystem::remove_all(dir);
}

} // namespace
