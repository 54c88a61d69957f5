// threshold_test.cpp: threshold rules and sessions against docs/semantics.md sections 2 and 3.
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

namespace ethogram::interp::testing {
namespace {

using ir::AggKind;
using ir::Op;
using ir::Type;
using ir::Value;
using Seqs = std::vector<uint64_t>;

struct Types {
    IrBuilder b;
    uint16_t A = b.event("A", {{"v", Type::Int}});
    uint16_t B = b.event("B");
    uint16_t E = b.event("E", {{"v", Type::Int}});
};

TEST(Threshold, WindowIsInclusiveAtItsStart) {
    Types t;
    // over last 10s: count(A) >= 2
    t.b.threshold("two", window(10 * kSec, t.b.bin(Op::Ge, t.b.agg(AggKind::Count, {t.A}), t.b.i(2))));
    Runner r(t.b.rs);
    auto a1 = r.ev(t.A, "k", 0);
    auto a2 = r.ev(t.A, "k", 10 * kSec); // 0 is in [10s - 10s, 10s]
    ASSERT_EQ(r.sink.out.size(), 1u);
    const auto& d = r.sink.out[0];
    EXPECT_EQ(d.trigger, "event");
    EXPECT_EQ(d.time, 10 * kSec);
    ASSERT_EQ(d.bindings.size(), 2u);
    EXPECT_EQ(d.bindings[0].alias, "trigger");
    EXPECT_EQ(seqs(d, 0), Seqs{a2});
    EXPECT_EQ(d.bindings[1].alias, "scope");
    EXPECT_EQ(seqs(d, 1), (Seqs{a1, a2}));
    EXPECT_EQ(d.first_time, 0);
    EXPECT_EQ(d.last_time, 10 * kSec);
}

TEST(Threshold, WindowDropsEventsBeforeItsStart) {
    Types t;
    t.b.threshold("two", window(10 * kSec, t.b.bin(Op::Ge, t.b.agg(AggKind::Count, {t.A}), t.b.i(2))));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 10 * kSec + 1);
    EXPECT_TRUE(r.sink.out.empty());
}

TEST(Threshold, LastNEventsCountsEveryTypeInTheScope) {
    Types t;
    // over last 3 events: count(A) == 3
    t.b.threshold("three", last_n(3, t.b.bin(Op::Eq, t.b.agg(AggKind::Count, {t.A}), t.b.i(3))));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 1);
    r.ev(t.B, "k", 2);
    r.ev(t.A, "k", 3);
    r.ev(t.A, "k", 4); // scope B A A: 2
    EXPECT_TRUE(r.sink.out.empty());
    auto a = r.ev(t.A, "k", 5); // scope A A A
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].bindings[1].events.size(), 3u);
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{a});
}

TEST(Threshold, EdgeTriggeredFiresOnceWhileTrueAndAgainAfterFalse) {
    Types t;
    // over last 1 events: last(A.v) > 5
    t.b.threshold("high",
                  last_n(1, t.b.bin(Op::Gt, t.b.agg(AggKind::Last, {t.A}, t.b.fld(t.A, "v")), t.b.i(5))));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0, {Value::integer(6)});     // fires
    r.ev(t.A, "k", 1, {Value::integer(7)});     // still true: no
    r.ev(t.A, "k", 2, {Value::integer(1)});     // false
    r.ev(t.A, "k", 3, {Value::integer(8)});     // fires again
    r.ev(t.A, "other", 4, {Value::integer(9)}); // memory is per key: fires
    ASSERT_EQ(r.sink.out.size(), 3u);
    EXPECT_EQ(r.sink.out[0].time, 0);
    EXPECT_EQ(r.sink.out[1].time, 3);
    EXPECT_EQ(r.sink.out[2].time, 4);
}

TEST(Threshold, OnTypesSelectTriggersButScopeHoldsAll) {
    Types t;
    // over last 10s, on B: count(A) >= 1
    t.b.threshold("onb", window(10 * kSec, t.b.bin(Op::Ge, t.b.agg(AggKind::Count, {t.A}), t.b.i(1)), {t.B}));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    EXPECT_TRUE(r.sink.out.empty());
    r.ev(t.B, "k", 1);
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(Threshold, MissingAggregatesCompareFalseAndCountsAreZero) {
    Types t;
    // avg(A.v) over no values is missing: `avg > 0 or count(A) == 0` holds only through the count.
    ir::ExprId avg_pos = t.b.bin(Op::Gt, t.b.agg(AggKind::Avg, {t.A}, t.b.fld(t.A, "v")), t.b.i(0));
    ir::ExprId no_a = t.b.bin(Op::Eq, t.b.agg(AggKind::Count, {t.A}), t.b.i(0));
    uint32_t rule = t.b.threshold("none", last_n(5, t.b.bin(Op::Or, avg_pos, no_a)));
    t.b.emit(rule, "avg", t.b.agg(AggKind::Avg, {t.A}, t.b.fld(t.A, "v")));
    t.b.emit(rule, "sum", t.b.agg(AggKind::Sum, {t.A}, t.b.fld(t.A, "v"), ir::kNoExpr, Type::Int));
    t.b.emit(rule, "distinct", t.b.agg(AggKind::Distinct, {t.A}, t.b.fld(t.A, "v")));
    Runner r(t.b.rs);
    r.ev(t.B, "k", 0);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_TRUE(r.sink.out[0].fields[0].is_missing());
    EXPECT_EQ(r.sink.out[0].fields[1].type, Type::Int);
    EXPECT_EQ(r.sink.out[0].fields[1].i, 0);
    EXPECT_EQ(r.sink.out[0].fields[2].i, 0);
}

TEST(Session, GapOfExactlyGapStaysInside) {
    Types t;
    uint32_t s = t.b.session("web", 10 * kSec);
    uint32_t rule = t.b.threshold("end", over_session(s, t.b.b(true), true));
    t.b.emit(rule, "n", t.b.session_attr(ir::SessionAttr::Events));
    t.b.emit(rule, "dur", t.b.session_attr(ir::SessionAttr::Duration));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 10 * kSec);     // exactly the gap: joins
    r.ev(t.A, "k", 20 * kSec + 1); // past deadline 20s: the first session closes at 20s
    ASSERT_EQ(r.sink.out.size(), 1u);
    const auto& d = r.sink.out[0];
    EXPECT_EQ(d.trigger, "session_end");
    EXPECT_EQ(d.time, 20 * kSec);
    EXPECT_EQ(d.fields[0].i, 2);
    EXPECT_EQ(d.fields[1].type, Type::Duration);
    EXPECT_EQ(d.fields[1].i, 10 * kSec);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(r.sink.out[1].time, 30 * kSec + 1); // 20s+1 + gap
    EXPECT_EQ(r.sink.out[1].fields[0].i, 1);
}

TEST(Session, MaximumLengthBoundsTheDeadline) {
    Types t;
    uint32_t s = t.b.session("web", 10 * kSec, 15 * kSec);
    uint32_t rule = t.b.threshold("end", over_session(s, t.b.b(true), true));
    t.b.emit(rule, "n", t.b.session_attr(ir::SessionAttr::Events));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 8 * kSec);  // deadline min(18s, 15s) = 15s
    r.ev(t.A, "k", 16 * kSec); // new session
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 15 * kSec);
    EXPECT_EQ(r.sink.out[0].fields[0].i, 2);
}

TEST(Session, EndOnEventJoinsAndClosesImmediately) {
    Types t;
    // end on E where v == 1; members A and E
    ir::SessionEnd end{t.E, t.b.bin(Op::Eq, t.b.fld(t.E, "v"), t.b.i(1))};
    uint32_t s = t.b.session("web", kMin, -1, {t.A, t.E}, {end});
    uint32_t rule = t.b.threshold("end", over_session(s, t.b.b(true), true));
    t.b.emit(rule, "n", t.b.agg(AggKind::Count, {}));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 1);                      // not a member
    r.ev(t.E, "k", 2, {Value::integer(0)}); // not an end (predicate false)
    auto e = r.ev(t.E, "k", 3, {Value::integer(1)});
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 3);
    EXPECT_EQ(r.sink.out[0].fields[0].i, 3); // A, E, E
    EXPECT_EQ(seqs(r.sink.out[0], 0), Seqs{e});
    r.end(); // nothing open any more
    EXPECT_EQ(r.sink.out.size(), 1u);
}

TEST(Session, AtSessionEndConditionIsEvaluatedOnce) {
    Types t;
    uint32_t s = t.b.session("web", 10 * kSec);
    // at session end: count(A) > 0 and count(B) == 0
    ir::ExprId cond = t.b.bin(Op::And, t.b.bin(Op::Gt, t.b.agg(AggKind::Count, {t.A}), t.b.i(0)),
                              t.b.bin(Op::Eq, t.b.agg(AggKind::Count, {t.B}), t.b.i(0)));
    t.b.threshold("cart_left", over_session(s, cond, true));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.B, "k", 1);        // this session has a B: no detection
    r.ev(t.A, "k", 1 * kMin); // new session, A only
    r.end();
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 1 * kMin + 10 * kSec);
}

TEST(Session, PerEventOverSessionMemoryResetsWithEachSession) {
    Types t;
    uint32_t s = t.b.session("web", 10 * kSec);
    // over session web: count(A) >= 1 (true from the first event of each session)
    uint32_t rule =
        t.b.threshold("any_a", over_session(s, t.b.bin(Op::Ge, t.b.agg(AggKind::Count, {t.A}), t.b.i(1))));
    t.b.emit(rule, "start", t.b.session_attr(ir::SessionAttr::Start));
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 5 * kSec); // still true, same session: no
    r.ev(t.A, "k", 1 * kMin); // new session: fires again
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(r.sink.out[0].fields[0].i, 0);
    EXPECT_EQ(r.sink.out[1].fields[0].type, Type::Timestamp);
    EXPECT_EQ(r.sink.out[1].fields[0].i, 1 * kMin);
    EXPECT_EQ(r.sink.out[1].bindings[1].events.size(), 1u); // scope = the new session only
}

TEST(Session, TimersFireInDeadlineOrderTiesByKeyId) {
    Types t;
    uint32_t s = t.b.session("web", 10 * kSec);
    t.b.threshold("end", over_session(s, t.b.b(true), true));
    Runner r(t.b.rs);
    r.ev(t.A, "b", 0); // key id 0, deadline 10s (moved to 10s+2 below)
    r.ev(t.A, "a", 0); // key id 1, deadline 10s
    r.ev(t.A, "d", 0); // key id 2, deadline 10s: after "a" (higher key id)
    r.ev(t.A, "c", 1); // deadline 10s+1
    r.ev(t.A, "b", 2); // deadline 10s+2
    r.end();
    ASSERT_EQ(r.sink.out.size(), 4u);
    std::vector<std::string> keys;
    for (const auto& d : r.sink.out) keys.emplace_back(r.view(Value::string(d.key)));
    EXPECT_EQ(keys, (std::vector<std::string>{"a", "d", "c", "b"}));
    EXPECT_EQ(r.sink.out[0].time, 10 * kSec);
    EXPECT_EQ(r.sink.out[1].time, 10 * kSec);
    EXPECT_EQ(r.sink.out[2].time, 10 * kSec + 1);
    EXPECT_EQ(r.sink.out[3].time, 10 * kSec + 2);
}

TEST(Threshold, ScopeCapDropsOldestAndCounts) {
    Types t;
    uint32_t rule = t.b.threshold("n", window(kMin, t.b.bin(Op::Ge, t.b.agg(AggKind::Count, {}), t.b.i(1))));
    t.b.emit(rule, "n", t.b.agg(AggKind::Count, {}));
    ir::ExecutorOptions opts;
    opts.max_scope_events = 2;
    Runner r(t.b.rs, opts);
    r.ev(t.A, "k", 0);
    r.ev(t.A, "k", 1);
    r.ev(t.A, "k", 2);
    EXPECT_EQ(r.exec->stats().overflow_drops, 1u);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].fields[0].i, 1);
}

} // namespace
} // namespace ethogram::interp::testing
