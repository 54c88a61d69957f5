// scope_groups_test.cpp: threshold rules of one Window / LastN scope share one scope ring per key
// (engine.h ScopeGroup): each rule still sees exactly its own scope, overflow drops count once per rule,
// the accounted state holds the shared events once, and snapshots of the shared layout round-trip while
// the layout before sharing (version 3) is refused with both versions named.
#include "tests/interp/ir_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

namespace ethogram::interp::testing {
namespace {

// Three `last 1m` rules (two with the same aggregate over one scope), a `last 2m` one and two `last 2
// events` ones, over events `a` and `b`.
struct Mixed {
    IrBuilder b;
    uint16_t a = 0, z = 0;
    Mixed() {
        a = b.event("a");
        z = b.event("b");
        auto count = [&](uint16_t t) { return b.agg(ir::AggKind::Count, {t}); };
        auto ge = [&](ir::ExprId x, int64_t n) { return b.bin(ir::Op::Ge, x, b.i(n)); };
        b.threshold("a3", window(kMin, ge(count(a), 3)));
        b.threshold("a2", window(kMin, ge(count(a), 2)));
        b.threshold("z2_2m", window(2 * kMin, ge(count(z), 2)));
        b.threshold("z1", window(kMin, ge(count(z), 1), {z}));
        b.threshold("last2", last_n(2, ge(count(a), 2)));
        b.threshold("last2b", last_n(2, ge(count(z), 1), {z}));
    }
    // a at 0, 10, 50, 75, 85, 150, 156 s; b at 20, 80, 155 s.
    void feed(Runner& r) const {
        const int64_t ts[] = {0, 10, 20, 50, 75, 80, 85, 150, 155, 156};
        for (size_t i = 0; i < std::size(ts); ++i) r.ev(i % 3 == 2 ? z : a, "k", ts[i] * kSec);
    }
    std::vector<std::string> fired(const Runner& r) const {
        std::vector<std::string> out;
        for (const ir::Detection& d : r.sink.out)
            out.push_back(fmt::format("{}@{}", b.rs.rules[d.rule].name, d.time / kSec));
        return out;
    }
};

TEST(ScopeGroups, EachRuleSeesItsOwnScope) {
    Mixed m;
    Runner r(m.b.rs);
    m.feed(r);
    // Worked out by hand from each rule's own scope ([t - 1m, t], [t - 2m, t], the last 2 events), edge
    // triggered, per event in rule order.
    EXPECT_EQ(m.fired(r),
              (std::vector<std::string>{"a2@10", "last2@10", "z1@20", "last2b@20", "a3@50", "last2@75",
                                        "z2_2m@80", "a3@85", "last2@150", "z2_2m@155", "a2@156"}));
}

// Counts over a shared scope are kept as running totals where an event's membership is known when it
// enters (types and a filter reading only the element); the others are rescanned. Both give the rescan's
// value.
struct Counted {
    IrBuilder b;
    uint16_t a = 0;
    Counted() { a = b.event("a", {{"x", ir::Type::Int}}); }
    ir::ExprId count(ir::ExprId filter) { return b.agg(ir::AggKind::Count, {a}, ir::kNoExpr, filter); }
    std::vector<int64_t> fired_at(Runner& r, const std::vector<std::pair<int64_t, int64_t>>& evs) {
        for (const auto& [t, x] : evs) r.ev(a, "k", t * kSec, {ir::Value::integer(x)});
        std::vector<int64_t> out;
        for (const ir::Detection& d : r.sink.out) out.push_back(d.time / kSec);
        return out;
    }
};

TEST(ScopeGroups, CountsWithAnElementFilterFollowTheWindow) {
    Counted c;
    const ir::ExprId big = c.b.bin(ir::Op::Gt, c.b.fld(c.a, "x"), c.b.i(5));
    c.b.threshold("big2", window(kMin, c.b.bin(ir::Op::Ge, c.count(big), c.b.i(2))));
    c.b.threshold("any3", window(kMin, c.b.bin(ir::Op::Ge, c.count(ir::kNoExpr), c.b.i(3))));
    Runner r(c.b.rs);
    // x > 5 at 0, 30, 100, 130; in [t - 1m, t]: two at 30 (any3: three at 40), one at 100, two at 130.
    EXPECT_EQ(c.fired_at(r, {{0, 9}, {30, 7}, {40, 1}, {100, 8}, {130, 6}}),
              (std::vector<int64_t>{30, 40, 130}));
}

TEST(ScopeGroups, CountsOverTheDwellAreRescanned) {
    // An event's dwell is set when the key's next event arrives, after it entered the scope.
    Counted c;
    const ir::ExprId long_dwell = c.b.bin(ir::Op::Gt, c.b.dwell(), c.b.dur(10 * kSec));
    c.b.threshold("lingered", window(kMin, c.b.bin(ir::Op::Ge, c.count(long_dwell), c.b.i(1))));
    Runner r(c.b.rs);
    EXPECT_EQ(c.fired_at(r, {{0, 1}, {30, 1}, {35, 1}}), (std::vector<int64_t>{30}));
}

TEST(ScopeGroups, CountsWhoseFilterReadsTheScopeAreRescanned) {
    // x >= max(a.x) over the scope: an element's membership changes as the scope does.
    Counted c;
    const ir::ExprId mx = c.b.agg(ir::AggKind::Max, {c.a}, c.b.fld(c.a, "x"), ir::kNoExpr, ir::Type::Int);
    const ir::ExprId top = c.b.bin(ir::Op::Ge, c.b.fld(c.a, "x"), mx);
    c.b.threshold("top2", last_n(3, c.b.bin(ir::Op::Ge, c.count(top), c.b.i(2))));
    Runner r(c.b.rs);
    // The last 3 x: {5}, {5, 3}, {5, 3, 5}: two at the maximum; {3, 5, 9}: one; {5, 9, 9}: two.
    EXPECT_EQ(c.fired_at(r, {{0, 5}, {10, 3}, {20, 5}, {30, 9}, {40, 9}}), (std::vector<int64_t>{20, 40}));
}

TEST(ScopeGroups, FloatSumsAreTheRescansSumBitForBit) {
    // Float additions do not associate; a float sum is the exact sum rounded once (exact_sum.h), kept as
    // values enter and leave, as the rescan computes it. Doubles near 1e16 are 2 apart: 1e16 + 1 rounds to
    // even, 1e16; 1e16 + 1 + 1 is 1e16 + 2.
    IrBuilder b;
    const uint16_t a = b.event("a", {{"x", ir::Type::Float}});
    const ir::ExprId nonzero = b.bin(ir::Op::Ne, b.fld(a, "x"), b.f(0.0));
    const ir::ExprId sum = b.agg(ir::AggKind::Sum, {a}, b.fld(a, "x"), nonzero, ir::Type::Float);
    b.threshold("exact", window(kMin, b.bin(ir::Op::Eq, sum, b.f(-9999999999999998.0))));
    b.threshold(
        "big",
        window(kMin, b.bin(ir::Op::Eq, b.agg(ir::AggKind::Sum, {a}, b.fld(a, "x"), nonzero, ir::Type::Float),
                           b.f(1e16))));
    Runner r(b.rs);
    const std::pair<int64_t, double> evs[] = {{0, 1e16}, {10, 1.0}, {20, 1.0}, {70, -1e16}, {75, 0.0}};
    for (const auto& [t, x] : evs) r.ev(a, "k", t * kSec, {ir::Value::real(x)});
    // big: 1e16 at 0 and 10, not at 20 (1e16 + 2). exact at 70: 1e16 left, 1 + 1 - 1e16 = -9999999999999998
    // exactly (a sum rounded at each addition and then taken 1e16 out of would give 0); at 75: 1 - 1e16
    // rounds to even, -1e16.
    std::vector<std::string> got;
    for (const ir::Detection& d : r.sink.out)
        got.push_back(fmt::format("{}@{}", b.rs.rules[d.rule].name, d.time / kSec));
    EXPECT_EQ(got, (std::vector<std::string>{"big@0", "exact@70"}));
}

TEST(ScopeGroups, OverflowDropsCountOncePerRule) {
    IrBuilder b;
    const uint16_t a = b.event("a");
    for (int i = 0; i < 3; ++i)
        b.threshold(fmt::format("w{}", i),
                    window(kMin, b.bin(ir::Op::Ge, b.agg(ir::AggKind::Count, {a}), b.i(100))));
    ir::ExecutorOptions opts;
    opts.max_scope_events = 2;
    Runner r(b.rs, opts);
    for (int i = 0; i < 5; ++i) r.ev(a, "k", i * kSec);
    EXPECT_EQ(r.exec->stats().overflow_drops, 9u); // 3 events over the cap, for each of 3 rules
}

TEST(ScopeGroups, SnapshotsRoundTripAndTheUnsharedLayoutIsRefused) {
    Mixed m;
    Runner r(m.b.rs);
    m.feed(r);
    std::string snap;
    Runner fresh(m.b.rs);
    ASSERT_EQ(fresh.restore_from(r, snap), "");
    // Both go on alike (scopes and edge memory restored).
    r.sink.out.clear();
    for (Runner* x : {&r, &fresh}) {
        x->ev(m.a, "k", 157 * kSec);
        x->ev(m.z, "k", 158 * kSec);
        EXPECT_EQ(m.fired(*x), (std::vector<std::string>{"a3@157", "last2@157"}));
    }

    std::string old = snap;
    old[0] = 3;
    Runner other(m.b.rs);
    Status st = other.exec->restore_state(old);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("format version 3 (this engine reads version 4)"), std::string::npos)
        << st.error();
}

TEST(ScopeGroups, SharedEventsAreAccountedOnce) {
    // Five rules of one scope hold as many bytes per key as one.
    auto bytes = [](int rules) {
        IrBuilder b;
        const uint16_t a = b.event("a");
        for (int i = 0; i < rules; ++i)
            b.threshold(fmt::format("w{}", i),
                        window(kMin, b.bin(ir::Op::Ge, b.agg(ir::AggKind::Count, {a}), b.i(100 + i))));
        Runner r(b.rs);
        for (int i = 0; i < 20; ++i) r.ev(a, "k", i * kSec);
        return r.exec->stats().state_bytes;
    };
    const uint64_t one = bytes(1), five = bytes(5);
    // Only the per-rule edge memory in the key's record grows (24 bytes a rule).
    EXPECT_GT(five, one);
    EXPECT_LE(five - one, 4 * 24u);
}

// Alike aggregates over one scope (here `distinct` in two conditions and two emits) share one rescan while
// the scope cannot change (ExprEvaluator::open_memo): each rule and emit still gets its own scope's value on
// every event and key, never one remembered from an earlier event or another key.
TEST(ScopeGroups, AlikeAggregatesSharingARescanSeeTheirOwnEvent) {
    IrBuilder b;
    const uint16_t a = b.event("a", {{"x", ir::Type::Int}});
    const ir::ExprId x = b.fld(a, "x");
    auto distinct = [&] { return b.agg(ir::AggKind::Distinct, {a}, x, ir::kNoExpr, ir::Type::Int); };
    const uint32_t two = b.threshold("two", last_n(3, b.bin(ir::Op::Ge, distinct(), b.i(2))));
    b.emit(two, "d", distinct());
    const uint32_t three = b.threshold("three", last_n(3, b.bin(ir::Op::Ge, distinct(), b.i(3))));
    b.emit(three, "d", distinct());
    Runner r(b.rs);
    // Key k: x = 1, 1, 2, 3, 3, 3, 4 (distinct over the last 3: 1, 1, 2, 3, 2, 1, 2); key j between them:
    // x = 5, 6 (1, 2).
    const std::pair<const char*, int64_t> evs[] = {{"k", 1}, {"k", 1}, {"j", 5}, {"k", 2}, {"k", 3},
                                                   {"j", 6}, {"k", 3}, {"k", 3}, {"k", 4}};
    for (size_t i = 0; i < std::size(evs); ++i)
        r.ev(a, evs[i].first, static_cast<int64_t>(i) * kSec, {ir::Value::integer(evs[i].second)});
    std::vector<std::string> got;
    for (const ir::Detection& d : r.sink.out)
        got.push_back(fmt::format("{}@{}={}", b.rs.rules[d.rule].name, d.time / kSec, d.fields.at(0).i));
    EXPECT_EQ(got, (std::vector<std::string>{"two@3=2", "three@4=3", "two@5=2", "two@8=2"}));
}

} // namespace
} // namespace ethogram::interp::testing
