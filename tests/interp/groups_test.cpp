// groups_test.cpp: exclusive groups (docs/semantics.md section 5) and detection ids (section 6).
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

namespace ethogram::interp::testing {
namespace {

using ir::AggKind;
using ir::Op;
using ir::Type;
using ir::Value;

/// Three rules that all fire on the first A of a key, plus one outside any group.
struct ThreeRules {
    IrBuilder b;
    uint16_t A = b.event("A");
    ir::ExprId any_a = b.bin(Op::Ge, b.agg(AggKind::Count, {A}), b.i(1));
    uint32_t low = b.threshold("low", last_n(5, any_a));
    uint32_t high1 = b.threshold("high1", last_n(5, any_a));
    uint32_t high2 = b.threshold("high2", last_n(5, any_a));
    uint32_t free = b.threshold("free", last_n(5, any_a));
};

TEST(Groups, HighestPriorityWinsTiesByDeclarationOrder) {
    ThreeRules t;
    t.b.group("g", {{t.low, 1}, {t.high2, 9}, {t.high1, 9}});
    Runner r(t.b.rs);
    r.ev(t.A, "k", 0);
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(r.sink.out[0].rule, t.high1); // priority 9, declared before high2
    EXPECT_EQ(r.sink.out[1].rule, t.free);
    ASSERT_EQ(r.sink.suppressed_out.size(), 2u);
    EXPECT_EQ(r.sink.suppressed_out[0].rule, t.low);
    EXPECT_EQ(r.sink.suppressed_out[0].suppressed_by, static_cast<int32_t>(t.high1));
    EXPECT_EQ(r.sink.suppressed_out[1].rule, t.high2);
    EXPECT_EQ(r.sink.suppressed_out[1].suppressed_by, static_cast<int32_t>(t.high1));
    EXPECT_EQ(r.exec->stats().detections, 2u);
    EXPECT_EQ(r.exec->stats().suppressed, 2u);
    EXPECT_EQ(r.sink.out[0].suppressed_by, -1);
}

TEST(Groups, OnlyTheSameEventIsResolvedTogether) {
    // `low` fires on the first A, `high1` only once two A are in scope: different events, no conflict.
    IrBuilder b;
    uint16_t A = b.event("A");
    uint32_t low = b.threshold("low", last_n(5, b.bin(Op::Eq, b.agg(AggKind::Count, {A}), b.i(1))));
    uint32_t high = b.threshold("high", last_n(5, b.bin(Op::Eq, b.agg(AggKind::Count, {A}), b.i(2))));
    b.group("g", {{low, 1}, {high, 2}});
    Runner r(b.rs);
    r.ev(A, "k", 0);
    r.ev(A, "k", 1);
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_TRUE(r.sink.suppressed_out.empty());
}

TEST(Groups, TimerBatchesAreResolvedPerKeyAndDeadline) {
    // Two absence patterns over the same A complete at the same deadline: one batch.
    IrBuilder b;
    uint16_t A = b.event("A");
    uint16_t N = b.event("N");
    uint32_t p1 = b.pattern("p1", {pos("a", {A}), absent("n", {N}, 10 * kSec)});
    uint32_t p2 = b.pattern("p2", {pos("a", {A}), absent("n", {N}, 10 * kSec)});
    b.group("g", {{p1, 0}, {p2, 5}});
    Runner r(b.rs);
    r.ev(A, "k1", 0);
    r.ev(A, "k2", 0);
    r.end();
    ASSERT_EQ(r.sink.out.size(), 2u);
    EXPECT_EQ(r.sink.out[0].rule, p2);
    EXPECT_EQ(r.sink.out[1].rule, p2);
    ASSERT_EQ(r.sink.suppressed_out.size(), 2u);
    EXPECT_EQ(r.sink.suppressed_out[0].suppressed_by, static_cast<int32_t>(p2));
}

TEST(DetectionId, IsFnv1aOverRuleKeyAndBoundSeqs) {
    IrBuilder b;
    uint16_t A = b.event("A");
    uint16_t B = b.event("B");
    b.pattern("ab", {pos("a", {A}), pos("b", {B})});
    Runner r(b.rs);
    r.ev(A, "u1", 0); // seq 1
    r.ev(B, "u1", 1); // seq 2
    ASSERT_EQ(r.sink.out.size(), 1u);
    // "ab" "u1" then seq 1 and seq 2 as 8 little-endian bytes each.
    std::vector<unsigned char> bytes = {'a', 'b', 'u', '1', 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(r.sink.out[0].id, fnv1a(bytes));
}

TEST(DetectionId, StableAcrossRunsAndDistinctAcrossMatches) {
    IrBuilder b;
    uint16_t A = b.event("A");
    b.threshold("t", last_n(2, b.bin(Op::Eq, b.agg(AggKind::Count, {A}), b.i(2))));
    auto run = [&]() {
        Runner r(b.rs);
        r.ev(A, "k", 0);
        r.ev(A, "k", 1);
        r.ev(A, "j", 2);
        r.ev(A, "j", 3);
        std::vector<uint64_t> ids;
        for (const auto& d : r.sink.out) ids.push_back(d.id);
        return ids;
    };
    auto first = run();
    auto second = run();
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first, second);
    EXPECT_NE(first[0], first[1]);
}

} // namespace
} // namespace ethogram::interp::testing
