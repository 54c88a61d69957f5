// thresholds_test.cpp: pins for docs/semantics.md §3 (threshold behaviours).
#include "tests/semantics/semantics_harness.h"

#include <gtest/gtest.h>

namespace ethogram::semantics_test {
namespace {

using V = std::vector<uint64_t>;

std::string with(const std::string& body) {
    return prelude() + body;
}

// §3 "evaluated on each event of its on types (after the event has been added to the scope)": the first
// A already counts itself; B events do not trigger an evaluation.
TEST(SemanticsThresholds, EvaluatedAfterTheEventJoinsTheScope) {
    Harness h(with("rule first { label t; over last 10s; on A; when count(A) >= 1; }\n"));
    h.ev("B", "u1", 0);
    h.ev("A", "u1", 1);
    h.run();
    auto d = h.of("first");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "trigger"), (V{2}));
    // "The explanation binds trigger (the evaluated event) and scope (the scope's events, oldest first)."
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 2}));
}

// §3 "Scope last D: the key's events with time in [t - D, t]": an event exactly D before the trigger is
// in scope (language.md §4 says the same since cf5ebe5).
TEST(SemanticsThresholds, LastDurationIsInclusiveAtBothEnds) {
    Harness h(with("rule two { label t; over last 10s; on A; when count(A) >= 2; }\n"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 10); // [0, 10] holds both
    h.ev("A", "u2", 0);
    h.ev("A", "u2", 10.5); // [0.5, 10.5] holds one
    h.run();
    auto d = h.of("two");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(h.key_name(d[0].key), "u1");
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 2}));
}

// §3 "last N events: the key's N most recent events (the trigger included)", of every type.
TEST(SemanticsThresholds, LastNEventsIncludesTheTrigger) {
    Harness h(
        with("rule three { label t; over last 3 events; on A; when count(A) == 1 and count(any) == 3; }\n"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 1);
    h.ev("B", "u1", 2);
    h.ev("A", "u1", 3); // scope B, B, A
    h.run();
    auto d = h.of("three");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{2, 3, 4}));
    EXPECT_EQ(Harness::seqs(d[0], "trigger"), (V{4}));
}

// §3 "Edge-triggered: a per-event rule fires when its condition is true and was false (or never
// evaluated) at the previous evaluation for this key ... a condition that stays true fires once, and fires
// again after it has been false."
TEST(SemanticsThresholds, EdgeTriggered) {
    Harness h(with("rule big { label t; over last 1 events; on A; when max(A.x) >= 5; }\n"));
    h.ev("A", "u1", 0, {{"x", int64_t{7}}}); // true, never evaluated before: fires
    h.ev("A", "u1", 1, {{"x", int64_t{8}}}); // still true: silent
    h.ev("A", "u2", 1, {{"x", int64_t{9}}}); // another key has its own memory: fires
    h.ev("A", "u1", 2, {{"x", int64_t{1}}}); // false
    h.ev("A", "u1", 3, {{"x", int64_t{6}}}); // true again: fires
    h.run();
    auto d = h.of("big");
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(Harness::seqs(d[0], "trigger"), (V{1}));
    EXPECT_EQ(Harness::seqs(d[1], "trigger"), (V{3}));
    EXPECT_EQ(Harness::seqs(d[2], "trigger"), (V{5}));
}

// §3 "for over session rules the memory resets with each new session".
TEST(SemanticsThresholds, SessionEdgeMemoryResets) {
    Harness h(with(R"(
session s { gap 5s; }
rule any_a { label t; over session s; on A; when count(A) >= 1; }
)"));
    h.ev("A", "u1", 0);  // fires
    h.ev("A", "u1", 1);  // stays true: silent
    h.ev("A", "u1", 20); // new session: fires again although the condition never went false
    h.run();
    auto d = h.of("any_a");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::seqs(d[1], "trigger"), (V{3}));
    EXPECT_EQ(Harness::seqs(d[1], "scope"), (V{3}));
}

// §3 "at session end ... evaluated once" per session, not edge-triggered across sessions.
TEST(SemanticsThresholds, AtSessionEndOncePerSession) {
    Harness h(with(R"(
session s { gap 5s; }
rule ended { label t; over session s; at session end; when count(A) >= 2; }
)"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 1);
    h.ev("A", "u1", 20);
    h.ev("A", "u1", 21);
    h.ev("A", "u1", 40); // one A only: condition false
    h.run();
    auto d = h.of("ended");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::sec(d[0].time), 6.0);
    EXPECT_EQ(Harness::sec(d[1].time), 26.0);
}

// §3 "Aggregates skip missing values; avg, min, max, first, last over no values are missing, and a
// comparison with missing is false; count, sum, distinct over nothing are 0."
TEST(SemanticsThresholds, MissingValues) {
    Harness h(with(R"(
rule sum0 { label t; over last 1 events; on A; when sum(A.o) == 0 and distinct(A.o) == 0; }
rule min_missing { label t; over last 1 events; on A; when min(A.o) < 100; }
rule not_min { label t; over last 1 events; on A; when not (min(A.o) < 100); }
rule avg_skips { label t; over last 2 events; on A; when avg(A.o) == 4; }
rule counts_all { label t; over last 2 events; on A; when count(A) == 2; }
)"));
    h.ev("A", "u1", 0);                      // 1: o missing
    h.ev("A", "u2", 0, {{"o", int64_t{4}}}); // 2
    h.ev("A", "u2", 1);                      // 3: o missing
    h.ev("A", "u3", 1);                      // 4: o missing
    h.ev("A", "u3", 2, {{"o", int64_t{4}}}); // 5
    h.run();
    auto triggers = [&](const char* rule) {
        V v;
        for (const auto& d : h.of(rule)) v.push_back(Harness::seqs(d, "trigger").at(0));
        return v;
    };
    // sum and distinct over no values are 0 (1, 3, 4); with o = 4 the sum is 4 (2, 5: false).
    EXPECT_EQ(triggers("sum0"), (V{1, 3, 4}));
    // min over no values is missing and `missing < 100` is false (1, 3, 4).
    EXPECT_EQ(triggers("min_missing"), (V{2, 5}));
    // ... so `not (missing < 100)` is true.
    EXPECT_EQ(triggers("not_min"), (V{1, 3, 4}));
    // avg skips the missing value: avg(4, missing) == 4 (5); 3 stays true after 2 (edge).
    EXPECT_EQ(triggers("avg_skips"), (V{2, 5}));
    // count counts events, missing o or not.
    EXPECT_EQ(triggers("counts_all"), (V{3, 5}));
}

} // namespace
} // namespace ethogram::semantics_test
