// patterns_test.cpp: pins for docs/semantics.md §4 (sequence patterns).
#include "tests/semantics/semantics_harness.h"

#include <gtest/gtest.h>

namespace ethogram::semantics_test {
namespace {

using V = std::vector<uint64_t>;

std::string with(const std::string& body) {
    return prelude() + body;
}

// §4 "Every event that satisfies the first step starts a new partial match"; with keep all both complete.
TEST(SemanticsPatterns, EveryFirstStepEventStartsAMatch) {
    Harness h(with("rule ab { label t; pattern a: A -> b: B; keep all; }\n"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 1);
    h.ev("B", "u1", 2);
    h.run();
    auto d = h.of("ab");
    ASSERT_EQ(d.size(), 2u);
    // "every completed match is emitted, earliest first event first"
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{1}));
    EXPECT_EQ(Harness::seqs(d[1], "a"), (V{2}));
}

// §4 "Selection: skip-till-next-match ... advances on the first later event of the key that satisfies
// the next step; events that satisfy nothing are skipped."
TEST(SemanticsPatterns, SkipTillNextMatch) {
    Harness h(with("rule ab { label t; pattern a: A -> b: B where b.x == 1; }\n"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 1);
    h.ev("B", "u1", 2, {{"x", int64_t{0}}});
    h.ev("B", "u1", 3, {{"x", int64_t{1}}});
    h.ev("B", "u1", 4, {{"x", int64_t{1}}});
    h.run();
    auto d = h.of("ab");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "b"), (V{4}));
}

// §4 "Order of candidates ... a Kleene step takes every qualifying event until the following step fires,
// and the following step wins an event both would take."
TEST(SemanticsPatterns, FollowingStepWins) {
    Harness h(with("rule kl { label t; pattern f: A+ -> g: A where g.x == 1; }\n"));
    h.ev("A", "u1", 0, {{"x", int64_t{0}}});
    h.ev("A", "u1", 1, {{"x", int64_t{0}}});
    h.ev("A", "u1", 2, {{"x", int64_t{1}}}); // both f and g would take it: g wins
    h.run();
    auto d = h.of("kl");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "f"), (V{1, 2}));
    EXPECT_EQ(Harness::seqs(d[0], "g"), (V{3}));
}

// §4 "... (2) otherwise ... step i itself when c < max(i)": below its minimum a Kleene step keeps the
// event even if the following step would take it.
TEST(SemanticsPatterns, BelowMinimumTheKleeneStepTakesIt) {
    Harness h(with("rule kl { label t; pattern f: A{2} -> g: A; }\n"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 1);
    h.ev("A", "u1", 2);
    h.run();
    auto d = h.of("kl");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "f"), (V{1, 2}));
    EXPECT_EQ(Harness::seqs(d[0], "g"), (V{3}));
}

// §4 "A pattern completes when its last positive step holds its minimum count: a trailing f{3,} completes
// with exactly 3 events."
TEST(SemanticsPatterns, TrailingKleeneCompletesAtMinimum) {
    Harness h(with("rule kl { label t; pattern a: B -> f: A{3,}; }\n"));
    h.ev("B", "u1", 0);
    for (int i = 1; i <= 5; ++i) h.ev("A", "u1", i);
    h.run();
    auto d = h.of("kl");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "f"), (V{2, 3, 4}));
    EXPECT_EQ(Harness::sec(d[0].time), 3.0);
}

// §4 "Strict next (A => B): once A is complete, the next event of the key (any type) that the partial
// match does not consume kills it." Events of other keys do not count.
TEST(SemanticsPatterns, StrictNext) {
    Harness h(with("rule st { label t; pattern a: A => b: B; }\n"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 1); // kills the match started at 0
    h.ev("B", "u1", 2);
    h.ev("A", "u1", 3);
    h.ev("C", "u2", 4); // another key: no effect
    h.ev("B", "u1", 5);
    h.run();
    auto d = h.of("st");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{4}));
    EXPECT_EQ(Harness::seqs(d[0], "b"), (V{6}));
}

// §4 "Inside a Kleene step contiguity is relaxed": before f holds its minimum, other events are skipped.
TEST(SemanticsPatterns, StrictRelaxedInsideKleene) {
    Harness h(with("rule st { label t; pattern f: A{2} => b: B; }\n"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 1); // f holds 1 < 2: skipped
    h.ev("A", "u1", 2);
    h.ev("B", "u1", 3);
    h.run();
    auto d = h.of("st");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "f"), (V{1, 3}));
}

// §4 "Negation (A -> not N -> B): once A is complete and until B binds, an event that satisfies N and that
// the partial match does not consume kills it."
TEST(SemanticsPatterns, Negation) {
    Harness h(with("rule ng { label t; pattern a: A -> not n: C where n.x == 1 -> b: B; }\n"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 1, {{"x", int64_t{0}}}); // not an N
    h.ev("B", "u1", 2);                      // match 1
    h.ev("A", "u1", 3);
    h.ev("C", "u1", 4, {{"x", int64_t{1}}}); // kills
    h.ev("B", "u1", 5);
    h.run();
    auto d = h.of("ng");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "b"), (V{3}));
}

// §4 "Trailing absence: ... An N event with t <= deadline kills it; when the deadline passes (a later
// event or the watermark), it completes with detection time = deadline."
TEST(SemanticsPatterns, TrailingAbsenceAtTheDeadline) {
    Harness h(with("rule ab { label t; pattern a: A -> not n: B within 10s; }\n"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 10); // at the deadline: kills
    h.ev("A", "u1", 20);
    h.ev("B", "u1", 30.5); // after the deadline 30: the match completed at 30
    h.run();
    auto d = h.of("ab");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{3}));
    EXPECT_EQ(Harness::sec(d[0].time), 30.0);
    EXPECT_EQ(d[0].trigger, "absence");
}

// §4 "when A completes at time tA, the match waits until deadline tA + D": D counts from the completion
// of the last positive step, not from the first event. (The other case, "first + within when the step
// has no within", cannot be written in .etho: the grammar always attaches a trailing `within` to the
// absence step, so it is pinned at the IR level by tests/oracle instead.)
TEST(SemanticsPatterns, TrailingAbsenceCountsFromTheLastStep) {
    Harness h(with("rule ab { label t; pattern a: A -> b: B -> not n: C within 10s; }\n"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 4);
    h.ev("C", "u1", 11); // before 4 + 10: kills
    h.ev("A", "u2", 20);
    h.ev("B", "u2", 24);
    h.ev("C", "u2", 34.5); // after 24 + 10: completed at 34
    h.run();
    auto d = h.of("ab");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(h.key_name(d[0].key), "u2");
    EXPECT_EQ(Harness::sec(d[0].time), 34.0);
}

// §4 "Window (within W): a partial match dies when an event arrives with t > first + W ... A match
// completes only if last - first <= W." Inclusive: exactly W completes.
TEST(SemanticsPatterns, WindowInclusive) {
    Harness h(with("rule w { label t; pattern a: A -> b: B within 30s; }\n"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 30); // exactly W: completes
    h.ev("A", "u1", 40);
    h.ev("B", "u1", 70.001); // 1ms too late
    h.run();
    auto d = h.of("w");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "b"), (V{2}));
}

// §4 "A match already waiting out a trailing absence that has its own within runs to that deadline, even
// past first + W".
TEST(SemanticsPatterns, AbsenceDeadlineOutlivesThePatternWindow) {
    Harness h(with("rule ab { label t; pattern a: A -> b: B -> not n: C within 10s within 5s; }\n"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 4); // positive part done at 4 (within 5s); waits until 14
    h.ev("A", "u2", 20);
    h.run();
    auto d = h.of("ab");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::sec(d[0].time), 14.0);
}

// §4 "Negation across optional steps. A negation guard between A and B stays active while the partial
// match crosses optional (minimum 0) steps between them": with `x -> a? -> not n -> b`, an N while the
// match still waits at x (a unfilled) kills it, even when a binds later.
TEST(SemanticsPatterns, NegationAcrossOptionalSteps) {
    Harness h(with("rule ng { label t; pattern x: A -> a: B? -> not n: A -> b: C; }\n"));
    h.ev("A", "u1", 0); // starts match 1
    h.ev("A", "u1", 1); // an N for match 1 (kills it); starts match 2
    h.ev("B", "u1", 2);
    h.ev("C", "u1", 3);
    h.run();
    auto d = h.of("ng");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "x"), (V{2}));
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{3}));
}

// §4 "Consumption (default) ... the one with the earliest first event is emitted and every partial match
// ... whose first event is at or before the match's last event is discarded."
TEST(SemanticsPatterns, ConsumptionEarliestStartWins) {
    Harness h(with("rule c { label t; pattern a: A -> b: B; }\n"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 1); // discarded when (1, 3) completes
    h.ev("B", "u1", 2);
    h.ev("A", "u1", 3);
    h.ev("B", "u1", 4);
    h.run();
    auto d = h.of("c");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{1}));
    EXPECT_EQ(Harness::seqs(d[1], "a"), (V{4}));
}

// §4 "Bounded state. At most state.max_partial_matches partial matches per key and rule; starting one
// more drops the oldest, counts it (overflow_drops)".
TEST(SemanticsPatterns, BoundedStateDropsTheOldest) {
    ir::ExecutorOptions opts;
    opts.max_partial_matches = 2;
    Harness h(with("rule c { label t; pattern a: A -> b: B; keep all; }\n"), opts);
    h.ev("A", "u1", 0); // dropped when the third starts
    h.ev("A", "u1", 1);
    h.ev("A", "u1", 2);
    h.ev("B", "u1", 3);
    h.run(/*check_oracle=*/false); // the oracle has no cap
    auto d = h.of("c");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::seqs(d[0], "a"), (V{2}));
    EXPECT_EQ(Harness::seqs(d[1], "a"), (V{3}));
    EXPECT_EQ(h.stats().overflow_drops, 1u);
}

} // namespace
} // namespace ethogram::semantics_test
