// nested_windows_test.cpp: Window scopes of one origin nest in the widest one's ring (engine.h
// ScopeGroup::holder): each narrower window is a view of the ring's last events. An engine whose groups do
// not nest (one restored from a snapshot: its groups keep the origins they were saved with) is the
// reference: on random streams of two keys, with and without a cap on the scopes, both give the same
// detections (rules, times, emitted values bit for bit, scope bindings) and overflow drops; snapshots of
// nested scopes are written as separate rings (the format is unchanged) and restore to the same behaviour.
#include "tests/interp/ir_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace ethogram::interp::testing {
namespace {

// Windows of 1m, 2m (two rules), 5m and 5s, a `last 3 events` scope, over events `a` (a float x) and `b`.
// Conditions flip often (an odd count), so that rules fire on many events, each with its scope. Kept
// counts and float sums (exact partials: a value added as it enters, taken out as it leaves) and rescanned
// min / max and counts are read.
struct Nested {
    IrBuilder b;
    uint16_t a = 0, z = 0;
    Nested() {
        a = b.event("a", {{"x", ir::Type::Float}});
        z = b.event("b");
        const ir::ExprId x = b.fld(a, "x");
        auto count = [&](uint16_t t, ir::ExprId filter = ir::kNoExpr) {
            return b.agg(ir::AggKind::Count, {t}, ir::kNoExpr, filter);
        };
        auto odd = [&](ir::ExprId n) { return b.bin(ir::Op::Eq, b.bin(ir::Op::Mod, n, b.i(2)), b.i(1)); };
        auto sum = [&] { return b.agg(ir::AggKind::Sum, {a}, b.fld(a, "x"), ir::kNoExpr, ir::Type::Float); };
        const int64_t windows[] = {kMin, 2 * kMin, 2 * kMin, 5 * kMin, 5 * kSec};
        for (size_t k = 0; k < std::size(windows); ++k) {
            const ir::ExprId big = b.bin(ir::Op::Gt, b.fld(a, "x"), b.f(0.5));
            const uint32_t r =
                b.threshold(fmt::format("w{}", k),
                            window(windows[k], odd(count(k % 2 ? z : a, k == 2 ? big : ir::kNoExpr))));
            b.emit(r, "n", count(a));
            b.emit(r, "s", sum());
            b.emit(r, "mx", b.agg(ir::AggKind::Max, {a}, x, ir::kNoExpr, ir::Type::Float));
            b.emit(r, "nb", count(z));
        }
        const uint32_t l = b.threshold("last3", last_n(3, odd(count(a))));
        b.emit(l, "s", sum());
    }

    /// `n` events of two keys, time non-decreasing with gaps of 0 to 40 s; arrival numbers follow `seq`
    /// (a restored runner goes on with the numbers of the one it was restored from).
    void feed(Runner& r, std::mt19937& rng, int n, int64_t& t, uint64_t& seq) const {
        static const double xs[] = {0.1, 0.7, 1e16, -1e16, 3.25, 0.0};
        for (int i = 0; i < n; ++i) {
            t += static_cast<int64_t>(rng() % 41) * kSec;
            const char* key = rng() % 3 == 0 ? "j" : "k";
            if (rng() % 4 == 0)
                r.ev_seq(z, key, t, ++seq);
            else
                r.ev_seq(a, key, t, ++seq, {ir::Value::real(xs[rng() % std::size(xs)])});
        }
    }
};

bool same(const ir::Value& x, const ir::Value& y) {
    if (x.type != y.type) return false;
    if (x.type == ir::Type::Missing) return true;
    if (x.type == ir::Type::Bool) return x.b == y.b;
    return std::memcmp(&x.i, &y.i, sizeof x.i) == 0;
}

/// Compares the detections of two runs; empty when they agree, else the first difference.
std::string compare(const std::vector<ir::Detection>& x, const std::vector<ir::Detection>& y) {
    if (x.size() != y.size()) return fmt::format("{} detections against {}", x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const ir::Detection &d = x[i], &e = y[i];
        if (d.rule != e.rule || d.key != e.key || d.time != e.time || d.id != e.id)
            return fmt::format("detection {}: rule {} at {} against rule {} at {}", i, d.rule, d.time, e.rule,
                               e.time);
        if (d.fields.size() != e.fields.size()) return fmt::format("detection {}: fields", i);
        for (size_t f = 0; f < d.fields.size(); ++f)
            if (!same(d.fields[f], e.fields[f])) return fmt::format("detection {}: field {}", i, f);
        if (d.bindings.size() != e.bindings.size()) return fmt::format("detection {}: bindings", i);
        for (size_t k = 0; k < d.bindings.size(); ++k) {
            const auto &p = d.bindings[k].events, &q = e.bindings[k].events;
            if (p.size() != q.size()) return fmt::format("detection {}: binding {} size", i, k);
            for (size_t j = 0; j < p.size(); ++j)
                if (p[j].seq != q[j].seq) return fmt::format("detection {}: binding {} event {}", i, k, j);
        }
    }
    return "";
}

void run(uint32_t cap, uint32_t seed) {
    Nested m;
    ir::ExecutorOptions opts;
    if (cap != UINT32_MAX) opts.max_scope_events = cap;
    Runner nested(m.b.rs, opts);
    // The reference: restored from a fresh engine's snapshot, its groups do not nest.
    Runner flat(m.b.rs, opts);
    {
        Runner empty(m.b.rs, opts);
        std::string snap;
        ASSERT_EQ(flat.restore_from(empty, snap), "");
    }
    std::mt19937 rng(seed), rng2(seed);
    int64_t t = 0, t2 = 0;
    uint64_t seq = 0, seq2 = 0;
    m.feed(nested, rng, 600, t, seq);
    m.feed(flat, rng2, 600, t2, seq2);
    if (cap > 0) { // (no event enters a scope of cap 0)
        EXPECT_GT(nested.sink.out.size(), 200u);
    }
    EXPECT_EQ(compare(nested.sink.out, flat.sink.out), "") << "cap " << cap;
    EXPECT_EQ(nested.exec->stats().overflow_drops, flat.exec->stats().overflow_drops) << "cap " << cap;

    // A snapshot of the nested scopes restores (as separate rings) and goes on alike.
    Runner restored(m.b.rs, opts);
    std::string snap;
    ASSERT_EQ(restored.restore_from(nested, snap), "");
    nested.sink.out.clear();
    flat.sink.out.clear();
    std::mt19937 a(seed + 1), b(seed + 1), c(seed + 1);
    int64_t ta = t, tb = t, tc = t;
    uint64_t sa = seq, sb = seq, sc = seq;
    m.feed(nested, a, 300, ta, sa);
    m.feed(flat, b, 300, tb, sb);
    m.feed(restored, c, 300, tc, sc);
    EXPECT_EQ(compare(nested.sink.out, flat.sink.out), "") << "cap " << cap;
    EXPECT_EQ(compare(nested.sink.out, restored.sink.out), "") << "cap " << cap;
    EXPECT_EQ(nested.exec->stats().overflow_drops, flat.exec->stats().overflow_drops) << "cap " << cap;
}

TEST(NestedWindows, EachWindowSeesItsOwnScope) {
    run(UINT32_MAX, 1);
    run(UINT32_MAX, 2);
}

TEST(NestedWindows, CappedScopesDropAndCountAsSeparateRings) {
    run(4, 3);
    run(1, 4);
    run(0, 5);
}

} // namespace
} // namespace ethogram::interp::testing
