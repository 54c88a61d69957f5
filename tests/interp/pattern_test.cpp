// pattern_test.cpp: sequence patterns against docs/semantics.md section 4.
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

namespace ethogram::interp::testing {
namespace {

using ir::Op;
using ir::Type;
using ir::Value;
using Seqs = std::vector<uint64_t>;

struct Types {
    IrBuilder b;
    uint16_t A = b.event("A", {{"v", Type::Int}});
    uint16_t B = b.event("B", {{"v", Type::Int}});
    uint16_t C = b.event("C");
    uint16_t N = b.event("N", {{"v", Type::Int}});
};

TEST(Pattern, FollowedBySkipsIrrelevantEvents) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})});
    Runner r(t.b.rs);
    auto a = r.ev(t.A, "k", 0);
    r.ev(t.C, "k", 1 * kSec);
    r.ev(t.A, "other", 2 * kSec); // another key: never mixes
    auto b = r.ev(t.B, "k", 3 * kSec);
    ASSERT_EQ(r.sink.out.size(), 1u);
    const auto& d = r.sink.out[0];
    EXPECT_EQ(d.trigger, "event");
    EXPECT_EQ(d.time, 3 * kSec);
    EXPECT_EQ(d.first_time, 0);
    EXPECT_EQ(d.last_time, 3 * kSec);
    ASSERT_EQ(d.bindings.size(), 2u);
    EXPECT_EQ(d.bindings[0].alias, "a");
    EXPECT_EQ(d.bindings[0].step, 0u);
    EXPECT_EQ(seqs(d, 0), Seqs{a});
    EXPECT_EQ(d.bindings[1].alias, "b");
    EXPECT_EQ(seqs(d, 1), Seqs{b});
    EXPECT_EQ(r.view(Value::string(d.key)), "k");
}

TEST(Pattern, GapOfExactlyWithinIsInside) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})}, 10 * kSec);
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 10 * kSec);
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(Pattern, GapBeyondWithinDies) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})}, 10 * kSec);
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 10 * kSec + 1);
    EXPECT_TRUE(r.sink.out.empty());
}

TEST(Pattern, WatermarkKillsOnlyPastTheWindow) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})}, 10 * kSec);
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    EXPECT_EQ(r.exec->stats().partial_matches, 1u);
    r.watermark(10 * kSec); // deadline 10s is not < 10s: alive
    EXPECT_EQ(r.exec->stats().partial_matches, 1u);
    r.watermark(10 * kSec + 1);
    EXPECT_EQ(r.exec->stats().partial_matches, 0u);
}

TEST(Pattern, StrictNextKilledByInterveningEventOfAnotherType) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B}, ir::kNoExpr, 1, 1, true)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.C, "k", 1);
    r.ev(t.B, "k", 2);
    EXPECT_TRUE(r.sink.out.empty());
    auto a = r.ev(t.A, "k", 3);
    auto b = r.ev(t.B, "k", 4);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a});
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{b});
}

TEST(Pattern, StrictNextIsRelaxedInsideKleene) {
    Types t;
    t.b.pattern("ab",
                {pos("a", {t.A}, ir::kNoExpr, 1, ir::kUnbounded), pos("b", {t.B}, ir::kNoExpr, 1, 1, true)});
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 1);
    auto b = r.ev(t.B, "k", 2);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), (Seqs{a1, a2}));
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{b});
}

TEST(Pattern, KleeneTwoToThreeTakesAtMostThree) {
    // A1 starts m1; A2: m1 (c=1 < min 2) takes it; A3: m1 takes it (c=3 = max); A4: m1 cannot take it.
    // B completes m1 = [A1 A2 A3], B (and m2 = [A2 A3 A4], m3 = [A3 A4]); consumption keeps only m1.
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}, ir::kNoExpr, 2, 3), pos("b", {t.B})});
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 1);
    auto a3 = r.ev(t.A, "k", 2);
    r.ev(t.A, "k", 3);
    auto b = r.ev(t.B, "k", 4);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), (Seqs{a1, a2, a3}));
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{b});
    EXPECT_EQ(r.exec->stats().partial_matches, 0u); // m4 = [A4] started at or before B: discarded
}

TEST(Pattern, KleeneBelowMinimumDoesNotComplete) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}, ir::kNoExpr, 2, 3), pos("b", {t.B})});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 1);
    EXPECT_TRUE(r.sink.out.empty());
}

TEST(Pattern, KleeneKeepAllEmitsEveryMatchEarliestFirst) {
    Types t;
    uint32_t rule = t.b.pattern("ab", {pos("a", {t.A}, ir::kNoExpr, 2, 3), pos("b", {t.B})});
    t.b.rule(rule).keep_all = true;
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 1);
    auto a3 = r.ev(t.A, "k", 2);
    auto a4 = r.ev(t.A, "k", 3);
    r.ev(t.B, "k", 4);
    ASSERT_EQ(r.sink.out.size(), 3u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), (Seqs{a1, a2, a3}));
    EXPECT_EQ(seqs(r.sink.out[1], 0), (Seqs{a2, a3, a4}));
    EXPECT_EQ(seqs(r.sink.out[2], 0), (Seqs{a3, a4}));
    // Left: [A4] alone, below its minimum (B does not satisfy the first step, so starts nothing).
    EXPECT_EQ(r.exec->stats().partial_matches, 1u);
}

TEST(Pattern, TrailingOpenKleeneCompletesAtItsMinimum) {
    Types t;
    t.b.pattern("af", {pos("a", {t.B}), pos("f", {t.A}, ir::kNoExpr, 3, ir::kUnbounded)});
    Runner r(t.b.rs);
    r.ev(t.B, "k", 0);
    r.ev(t.A, "k", 1);
    r.ev(t.A, "k", 2);
    EXPECT_TRUE(r.sink.out.empty());
    auto a3 = r.ev(t.A, "k", 3);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].bindings[1].events.size(), 3u);
    EXPECT_EQ(r.sink.out[0].bindings[1].events.back().seq, a3);
}

TEST(Pattern, FollowingStepWinsAnEventBothWouldTake) {
    Types t;
    ir::ExprId is9 = t.b.bin(Op::Eq, t.b.fld(t.A, "v"), t.b.i(9));
    t.b.pattern("aa", {pos("a", {t.A}, ir::kNoExpr, 1, ir::kUnbounded), pos("b", {t.A}, is9)});
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0, {Value::integer(1)});
    auto a2 = r.ev(t.A, "k", 1, {Value::integer(9)});
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a1});
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{a2});
}

TEST(Pattern, OptionalStepMayBeSkippedOrTaken) {
    Types t;
    t.b.pattern("abc", {pos("a", {t.A}), pos("b", {t.B}, ir::kNoExpr, 0, 1), pos("c", {t.C})});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.C, "k", 1);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_TRUE(r.sink.out[0].bindings[1].events.empty());
    r.ev(t.A, "k", 2);
    auto b = r.ev(t.B, "k", 3);
    r.ev(t.C, "k", 4);
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(seqs(r.sink.out[1], 1), Seqs{b});
}

TEST(Pattern, AlternativesBindEitherTypeAndReadCommonFields) {
    Types t;
    // a: A | B where a.v > 5 -> c: C; the field `v` sits in slot 2 of both types (field_by_type).
    ir::ExprId v = t.b.fld_multi({t.A, t.B}, "v");
    t.b.pattern("alt", {pos("a", {t.A, t.B}, t.b.bin(Op::Gt, v, t.b.i(5))), pos("c", {t.C})});
    Runner r(t.b.rs);
    r.ev(t.B, "k", 0, {Value::integer(3)}); // fails the predicate
    auto b = r.ev(t.B, "k", 1, {Value::integer(7)});
    r.ev(t.C, "k", 2);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{b});
    EXPECT_EQ(r.sink.out[0].bindings[0].events[0].type, t.B);
}

TEST(Pattern, PredicateReadsEarlierStep) {
    Types t;
    // a: A -> b: B where b.v == a.v
    ir::ExprId same = t.b.bin(Op::Eq, t.b.fld(t.B, "v"), t.b.step_fld(0, t.A, "v"));
    t.b.pattern("same", {pos("a", {t.A}), pos("b", {t.B}, same)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0, {Value::integer(4)});
    r.ev(t.B, "k", 1, {Value::integer(5)});
    EXPECT_TRUE(r.sink.out.empty());
    r.ev(t.B, "k", 2, {Value::integer(4)});
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(Pattern, NegationKillsBetweenSteps) {
    Types t;
    // a: A -> not n: N where n.v == 1 -> b: B
    ir::ExprId one = t.b.bin(Op::Eq, t.b.fld(t.N, "v"), t.b.i(1));
    t.b.pattern("anb", {pos("a", {t.A}), neg("n", {t.N}, one), pos("b", {t.B})});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.N, "k", 1, {Value::integer(1)});
    r.ev(t.B, "k", 2);
    EXPECT_TRUE(r.sink.out.empty());
    r.ev(t.A, "k", 3);
    r.ev(t.N, "k", 4, {Value::integer(2)}); // does not satisfy the negation
    r.ev(t.B, "k", 5);
    ASSERT_EQ(r.sink.out.size(), 1u);
    // The binding list has the positive steps only, with their pattern step indices.
    ASSERT_EQ(r.sink.out[0].bindings.size(), 2u);
    EXPECT_EQ(r.sink.out[0].bindings[1].step, 2u);
}

TEST(Pattern, TrailingAbsenceEventExactlyAtDeadlineKills) {
    Types t;
    t.b.pattern("abs", {pos("a", {t.A}), absent("n", {t.N}, 10 * kSec)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.N, "k", 10 * kSec);
    r.end();
    EXPECT_TRUE(r.sink.out.empty());
}

TEST(Pattern, TrailingAbsenceCompletesAtDeadline) {
    Types t;
    t.b.pattern("abs", {pos("a", {t.A}), absent("n", {t.N}, 10 * kSec)});
    Runner r(t.b.rs);
    auto a = r.ev(t.A, "k", 5 * kSec);
    r.ev(t.N, "k", 15 * kSec + 1); // the timer (deadline 15s < 15s+1) fires before this event
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].trigger, "absence");
    EXPECT_EQ(r.sink.out[0].time, 15 * kSec);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a});
    ASSERT_EQ(r.sink.out[0].bindings.size(), 1u);
}

TEST(Pattern, TrailingAbsenceUsesPatternWithinFromFirstEvent) {
    Types t;
    t.b.pattern("abs", {pos("a", {t.A}), pos("b", {t.B}), absent("n", {t.N})}, 30 * kSec);
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 20 * kSec);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 30 * kSec); // first + within, not B + within
}

TEST(Pattern, ConsumptionDiscardsOverlappingMatches) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})});
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 1);
    auto b1 = r.ev(t.B, "k", 2);
    auto a3 = r.ev(t.A, "k", 3);
    auto b2 = r.ev(t.B, "k", 4);
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a1});
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{b1});
    EXPECT_EQ(seqs(r.sink.out[1], 0), Seqs{a3});
    EXPECT_EQ(seqs(r.sink.out[1], 1), Seqs{b2});
}

TEST(Pattern, KeepAllEmitsOverlappingMatches) {
    Types t;
    uint32_t rule = t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})});
    t.b.rule(rule).keep_all = true;
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 1);
    r.ev(t.B, "k", 2);
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a1});
    EXPECT_EQ(seqs(r.sink.out[1], 0), Seqs{a2});
}

TEST(Pattern, SingleStepMatchStartsOnEveryEvent) {
    Types t;
    t.b.pattern("a", {pos("a", {t.A})});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 1);
    EXPECT_EQ(r.sink.out.size(), 2u);
}

TEST(Pattern, OverflowDropsTheOldest) {
    Types t;
    t.b.pattern("ab", {pos("a", {t.A}), pos("b", {t.B})});
    ir::ExecutorOptions opts;
    opts.max_partial_matches = 2;
    Runner r(t.b.rs, opts);
    r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 1);
    r.ev(t.A, "k", 2); // third start drops [A1]
    EXPECT_EQ(r.exec->stats().overflow_drops, 1u);
    EXPECT_EQ(r.exec->stats().partial_matches, 2u);
    r.ev(t.B, "k", 3);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a2});
}

TEST(Pattern, SimultaneousAbsenceCompletionsDoNotOverlap) {
    // Two A at the same time each wait out their own absence; at the deadline both complete. Greedy
    // consumption: [A1] is emitted, [A2] starts after A1 (its last event), so it is emitted too.
    Types t;
    t.b.pattern("abs", {pos("a", {t.A}), absent("n", {t.N}, 10 * kSec)});
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 0);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a1});
    EXPECT_EQ(seqs(r.sink.out[1], 0), Seqs{a2});
}

TEST(Pattern, EmitsSeeSingleStepsAndCollectedAggregates) {
    Types t;
    // f: A{2,} -> b: B; emit n = count(f), s = sum(f.v), bv = b.v
    uint32_t rule = t.b.pattern("fb", {pos("f", {t.A}, ir::kNoExpr, 2, ir::kUnbounded), pos("b", {t.B})});
    t.b.emit(rule, "n", t.b.step_agg(ir::AggKind::Count, 0));
    t.b.emit(rule, "s", t.b.step_agg(ir::AggKind::Sum, 0, t.b.fld(t.A, "v"), ir::kNoExpr, Type::Int));
    t.b.emit(rule, "bv", t.b.step_fld(1, t.B, "v"));
    t.b.rule(rule).confidence = t.b.f(1.5); // clamped to 1
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0, {Value::integer(2)});
    r.ev(t.A, "k", 1, {Value::integer(5)});
    r.ev(t.A, "k", 2, {Value::integer(11)});
    r.ev(t.B, "k", 3, {Value::integer(-1)});
    ASSERT_EQ(r.sink.out.size(), 1u);
    const auto& d = r.sink.out[0];
    ASSERT_EQ(d.fields.size(), 3u);
    EXPECT_EQ(d.fields[0].i, 3);  // three A
    EXPECT_EQ(d.fields[1].i, 18); // 2 + 5 + 11
    EXPECT_EQ(d.fields[2].i, -1);
    EXPECT_DOUBLE_EQ(d.confidence, 1.0);
}

} // namespace
} // namespace ethogram::interp::testing
