// pattern_edge_test.cpp: pattern corner cases: guards only after a step is complete, consumed events do
// not kill, absence windows, statistics.
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
    uint16_t N = b.event("N");
};

TEST(PatternEdge, NegationGuardsOnlyOnceTheStepHoldsItsMinimum) {
    Types t;
    // a: A{2} -> not n: N -> b: B. N arrives while a holds 1 event: no kill.
    t.b.pattern("p", {pos("a", {t.A}, ir::kNoExpr, 2, 2), neg("n", {t.N}), pos("b", {t.B})});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.N, "k", 1);
    r.ev(t.A, "k", 2);
    r.ev(t.B, "k", 3);
    EXPECT_EQ(r.sink.out.size(), 1u);
    // Once a holds 2, an N kills.
    r.ev(t.A, "k", 4);
    r.ev(t.A, "k", 5);
    r.ev(t.N, "k", 6);
    r.ev(t.B, "k", 7);
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(PatternEdge, AnEventTheMatchConsumesDoesNotKillIt) {
    Types t;
    // a: A -> not n: B -> b: B where v == 2: a B with v = 2 binds b (consumed), a B with v = 1 kills.
    ir::ExprId two = t.b.bin(Op::Eq, t.b.fld(t.B, "v"), t.b.i(2));
    t.b.pattern("p", {pos("a", {t.A}), neg("n", {t.B}), pos("b", {t.B}, two)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 1, {Value::integer(2)});
    EXPECT_EQ(r.sink.out.size(), 1u);
    r.ev(t.A, "k", 2);
    r.ev(t.B, "k", 3, {Value::integer(1)});
    r.ev(t.B, "k", 4, {Value::integer(2)});
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(PatternEdge, StrictNextAfterKleeneChecksEveryUnconsumedEvent) {
    Types t;
    // a: A{2,} => b: B. After two A, an N kills; a third A is consumed by a (relaxed inside Kleene).
    t.b.pattern("p",
                {pos("a", {t.A}, ir::kNoExpr, 2, ir::kUnbounded), pos("b", {t.B}, ir::kNoExpr, 1, 1, true)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 1);
    r.ev(t.A, "k", 2);
    r.ev(t.B, "k", 3);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].bindings[0].events.size(), 3u);
    r.ev(t.A, "k", 4);
    r.ev(t.A, "k", 5);
    r.ev(t.N, "k", 6); // kills [A4 A5] and [A5] is below its minimum: nothing can complete
    r.ev(t.B, "k", 7);
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(PatternEdge, AbsencePredicateReadsEarlierSteps) {
    Types t;
    // a: A -> not n: B where n.v == a.v within 10s
    ir::ExprId same = t.b.bin(Op::Eq, t.b.fld(t.B, "v"), t.b.step_fld(0, t.A, "v"));
    t.b.pattern("p", {pos("a", {t.A}), absent("n", {t.B}, 10 * kSec, same)});
    Runner r(t.b.rs);
    r.ev(t.A, "x", 0, {Value::integer(1)});
    r.ev(t.B, "x", 1, {Value::integer(2)}); // another value: does not kill
    r.ev(t.A, "y", 0 + 2, {Value::integer(1)});
    r.ev(t.B, "y", 3, {Value::integer(1)}); // kills y's match
    r.end();
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.view(Value::string(r.sink.out[0].key)), "x");
    EXPECT_EQ(r.sink.out[0].time, 10 * kSec);
}

TEST(PatternEdge, AbsenceWithItsOwnWithinIsNotCutByThePatternWindow) {
    // Reading chosen where semantics.md is silent: the pattern window bounds bound events
    // (last - first <= W); a match waiting out its trailing absence only has the absence deadline.
    Types t;
    t.b.pattern("p", {pos("a", {t.A}), pos("b", {t.B}), absent("n", {t.N}, 20 * kSec)}, 10 * kSec);
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 5 * kSec);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 25 * kSec);
    EXPECT_EQ(r.sink.out[0].first_time, 0);
    EXPECT_EQ(r.sink.out[0].last_time, 5 * kSec);
}

TEST(PatternEdge, Statistics) {
    Types t;
    t.b.pattern("p", {pos("a", {t.A}), pos("b", {t.B})});
    Runner r(t.b.rs);
    r.ev(t.A, "k1", 0);
    r.ev(t.A, "k2", 1);
    r.ev(t.B, "k1", 2);
    auto s = r.exec->stats();
    EXPECT_EQ(s.events, 3u);
    EXPECT_EQ(s.live_keys, 2u);
    EXPECT_EQ(s.partial_matches, 1u); // k2's
    EXPECT_EQ(s.detections, 1u);
    EXPECT_EQ(s.suppressed, 0u);
    EXPECT_EQ(s.overflow_drops, 0u);
}

TEST(PatternEdge, SkippedOptionalStepReadsAsMissing) {
    Types t;
    // a: A -> o: B? -> c: A where c.v == o.v : with o skipped, o.v is missing and the comparison false.
    ir::ExprId eq = t.b.bin(Op::Eq, t.b.fld(t.A, "v"), t.b.step_fld(1, t.B, "v"));
    t.b.pattern("p", {pos("a", {t.A}), pos("o", {t.B}, ir::kNoExpr, 0, 1), pos("c", {t.A}, eq)});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0, {Value::integer(1)});
    r.ev(t.A, "k", 1, {Value::integer(1)});
    EXPECT_TRUE(r.sink.out.empty());
    r.ev(t.B, "k", 2, {Value::integer(3)});
    r.ev(t.A, "k", 3, {Value::integer(3)});
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(PatternEdge, ConsumptionFollowsProcessingOrderNotArrivalSeq) {
    // Arrival: v1 (seq 1, t 0), c (seq 2, t 20s), v2 (seq 3, t 10s); processed by time: v1 v2 c. Both
    // matches bind c and complete at the same deadline; [v2 c] starts (v2) before [v1 c] ends (c), so
    // consumption discards it, although v2's seq is larger than c's.
    Types t;
    t.b.pattern("p", {pos("v", {t.A}), pos("c", {t.B}), absent("n", {t.N}, 30 * kSec)});
    Runner r(t.b.rs);
    r.ev_seq(t.A, "k", 0, 1);
    r.ev_seq(t.A, "k", 10 * kSec, 3);
    r.ev_seq(t.B, "k", 20 * kSec, 2);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{1});
    EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{2});
}

// Events that can only start a match (PatternInfo::only_starts) skip the walk over the live matches: the
// timer must still fire at the earliest deadline, the cap must still drop the oldest, and an event of a
// later step's type still reaches every match.
TEST(PatternEdge, StartOnlyEventsKeepTimersCapsAndLaterSteps) {
    {
        Types t;
        t.b.pattern("p", {pos("a", {t.A}), absent("n", {t.B}, 10 * kSec)});
        Runner r(t.b.rs);
        r.ev(t.A, "k", 0);
        r.ev(t.A, "k", 5 * kSec);  // the timer stays at 10 s (A0's deadline)
        r.ev(t.B, "k", 12 * kSec); // after A0 fired: kills A5 only
        r.end();
        ASSERT_EQ(r.sink.out.size(), 1u);
        EXPECT_EQ(r.sink.out[0].time, 10 * kSec);
        EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{1});
    }
    {
        Types t;
        t.b.pattern("p", {pos("a", {t.A}), absent("n", {t.B}, 10 * kSec)});
        ir::ExecutorOptions o;
        o.max_partial_matches = 2;
        Runner r(t.b.rs, o);
        r.ev(t.A, "k", 0);
        r.ev(t.A, "k", 1 * kSec);
        r.ev(t.A, "k", 2 * kSec); // over the cap: A0 is dropped, the timer moves to 11 s
        r.end();
        ASSERT_EQ(r.sink.out.size(), 2u);
        EXPECT_EQ(r.sink.out[0].time, 11 * kSec);
        EXPECT_EQ(r.sink.out[1].time, 12 * kSec);
        EXPECT_EQ(r.exec->stats().overflow_drops, 1u);
    }
    {
        Types t;
        ir::ExprId pos_v = t.b.bin(Op::Gt, t.b.fld(t.A, "v"), t.b.i(0));
        t.b.pattern("p", {pos("a", {t.A}, pos_v), pos("b", {t.B})}, 10 * kSec);
        Runner r(t.b.rs);
        r.ev(t.A, "k", 0, {Value::integer(1)});
        r.ev(t.A, "k", 1 * kSec, {Value::integer(0)}); // starts nothing
        r.ev(t.A, "k", 2 * kSec, {Value::integer(2)});
        r.ev(t.B, "k", 3 * kSec); // completes both; consumption keeps the earliest
        r.ev(t.A, "k", 20 * kSec, {Value::integer(3)});
        r.end(); // its window ends unmatched
        ASSERT_EQ(r.sink.out.size(), 1u);
        EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{1});
        EXPECT_EQ(seqs(r.sink.out[0], 1), Seqs{4});
        EXPECT_EQ(r.exec->stats().partial_matches, 0u);
    }
}

} // namespace
} // namespace ethogram::interp::testing
