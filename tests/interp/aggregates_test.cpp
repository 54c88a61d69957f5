// aggregates_test.cpp: aggregates and behavioural features (docs/language.md section 7), every value
// computed by hand in the comments.
#include "compiler/interp/expr_eval.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace ethogram::interp::testing {
namespace {

using ir::AggKind;
using ir::Op;
using ir::Type;
using ir::Value;

// Page views of one key: page a b a c b at 0, 1s, 3s, 6s, 10s with v = 4, missing, 1, 7, 3.
// The rule (over last 100 events) fires once, on the fifth event (count(P) == 5), and emits features.
class Features : public ::testing::Test {
protected:
    IrBuilder b;
    uint16_t P = b.event("P", {{"page", Type::String}, {"v", Type::Int}});
    uint16_t Q = b.event("Q");
    uint32_t rule = b.threshold("f", last_n(100, b.bin(Op::Eq, b.agg(AggKind::Count, {P}), b.i(5)), {P}));

    size_t emit(const std::string& name, ir::ExprId e) {
        b.emit(rule, name, e);
        return b.rs.rules[rule].emits.size() - 1;
    }
    ir::ExprId page() { return b.fld(P, "page"); }
    ir::ExprId v() { return b.fld(P, "v"); }

    const ir::Detection& run() {
        runner = std::make_unique<Runner>(b.rs);
        Runner& r = *runner;
        r.ev(P, "k", 0, {r.str("a"), Value::integer(4)});
        r.ev(P, "k", 1 * kSec, {r.str("b"), Value::missing()});
        r.ev(P, "k", 3 * kSec, {r.str("a"), Value::integer(1)});
        r.ev(P, "k", 6 * kSec, {r.str("c"), Value::integer(7)});
        r.ev(P, "k", 10 * kSec, {r.str("b"), Value::integer(3)});
        EXPECT_EQ(r.sink.out.size(), 1u);
        return r.sink.out.at(0);
    }
    std::unique_ptr<Runner> runner;
};

TEST_F(Features, Entropy) {
    // a:2 b:2 c:1 of 5: -(2 * 0.4 log2 0.4 + 0.2 log2 0.2) = 0.8 * 1.3219281 + 0.2 * 2.3219281 = 1.5219281
    size_t i = emit("h", b.agg(AggKind::Entropy, {P}, page()));
    const auto& d = run();
    EXPECT_EQ(d.fields[i].type, Type::Float);
    EXPECT_NEAR(d.fields[i].f, 1.5219281, 1e-6);
}

TEST_F(Features, TransitionsAndBacktracks) {
    // a->b, b->a, a->c, c->b: 4 transitions. Backtracks: the 3rd (a: differs from b, seen) and the 5th
    // (b: differs from c, seen): 2; backtrack_rate = 2 / (5 - 1) = 0.5.
    size_t tr = emit("t", b.agg(AggKind::Transitions, {P}, page()));
    size_t bt = emit("b", b.agg(AggKind::Backtracks, {P}, page()));
    size_t br = emit("r", b.agg(AggKind::BacktrackRate, {P}, page()));
    const auto& d = run();
    EXPECT_EQ(d.fields[tr].i, 4);
    EXPECT_EQ(d.fields[bt].i, 2);
    EXPECT_DOUBLE_EQ(d.fields[br].f, 0.5);
}

TEST_F(Features, GapStatisticsAndBurstiness) {
    // gaps 1s 2s 3s 4s: mean 2.5s; population variance ((1.5)^2 + 0.5^2 + 0.5^2 + 1.5^2) / 4 = 1.25 s^2,
    // sigma = 1.1180340s; burstiness = (1.1180340 - 2.5) / (1.1180340 + 2.5) = -0.3819660.
    size_t mean = emit("mean", b.agg(AggKind::GapMean, {P}));
    size_t sd = emit("sd", b.agg(AggKind::GapStd, {P}));
    size_t mn = emit("min", b.agg(AggKind::GapMin, {P}));
    size_t mx = emit("max", b.agg(AggKind::GapMax, {P}));
    size_t bu = emit("burst", b.agg(AggKind::Burstiness, {P}));
    const auto& d = run();
    EXPECT_EQ(d.fields[mean].type, Type::Duration);
    EXPECT_EQ(d.fields[mean].i, 2500000);
    EXPECT_EQ(d.fields[sd].i, 1118034); // 1118033.99 µs, nearest µs
    EXPECT_EQ(d.fields[mn].i, 1 * kSec);
    EXPECT_EQ(d.fields[mx].i, 4 * kSec);
    EXPECT_NEAR(d.fields[bu].f, -0.3819660, 1e-6);
}

TEST_F(Features, DwellAndDwellTime) {
    // dwell: 1s, 2s, 3s, 4s, and missing for the latest event. dwell_time(P) = 10s;
    // dwell_time(P where page == a) = 1s + 3s = 4s; max(P.dwell) = 4s; count(P where has(dwell)) = 4.
    size_t all = emit("all", b.agg(AggKind::DwellTime, {P}));
    size_t on_a = emit("a", b.agg(AggKind::DwellTime, {P}, ir::kNoExpr, b.bin(Op::Eq, page(), b.s("a"))));
    size_t mx = emit("max", b.agg(AggKind::Max, {P}, b.dwell()));
    size_t has = emit("has", b.agg(AggKind::Count, {P}, ir::kNoExpr, b.call(ir::Builtin::Has, {b.dwell()})));
    const auto& d = run();
    EXPECT_EQ(d.fields[all].type, Type::Duration);
    EXPECT_EQ(d.fields[all].i, 10 * kSec);
    EXPECT_EQ(d.fields[on_a].i, 4 * kSec);
    EXPECT_EQ(d.fields[mx].i, 4 * kSec);
    EXPECT_EQ(d.fields[has].i, 4);
}

TEST_F(Features, DwellCountsEventsOfEveryType) {
    // A Q event between two P events ends the first P's dwell.
    size_t all = emit("all", b.agg(AggKind::DwellTime, {P}));
    runner = std::make_unique<Runner>(b.rs);
    Runner& r = *runner;
    r.ev(P, "k", 0, {r.str("a"), Value::integer(1)});
    r.ev(Q, "k", 1 * kSec);
    r.ev(P, "k", 5 * kSec, {r.str("a"), Value::integer(1)});
    r.ev(P, "k", 6 * kSec, {r.str("a"), Value::integer(1)});
    r.ev(P, "k", 7 * kSec, {r.str("a"), Value::integer(1)});
    r.ev(P, "k", 9 * kSec, {r.str("a"), Value::integer(1)});
    ASSERT_EQ(r.sink.out.size(), 1u);
    // P dwells: 1s (to Q), 1s, 1s, 2s, missing: 5s.
    EXPECT_EQ(r.sink.out[0].fields[all].i, 5 * kSec);
}

TEST_F(Features, BasicAggregatesSkipMissing) {
    // v = 4, missing, 1, 7, 3: sum 15, avg 15/4 = 3.75, min 1, max 7, first 4, last 3, distinct(page) 3,
    // count(P where v > 2) = 3 (4, 7, 3; the missing one is not > 2).
    size_t sum = emit("sum", b.agg(AggKind::Sum, {P}, v(), ir::kNoExpr, Type::Int));
    size_t avg = emit("avg", b.agg(AggKind::Avg, {P}, v()));
    size_t mn = emit("min", b.agg(AggKind::Min, {P}, v()));
    size_t mx = emit("max", b.agg(AggKind::Max, {P}, v()));
    size_t first = emit("first", b.agg(AggKind::First, {P}, v()));
    size_t last = emit("last", b.agg(AggKind::Last, {P}, v()));
    size_t dist = emit("distinct", b.agg(AggKind::Distinct, {P}, page()));
    size_t cnt = emit("count", b.agg(AggKind::Count, {P}, ir::kNoExpr, b.bin(Op::Gt, v(), b.i(2))));
    size_t minp = emit("minpage", b.agg(AggKind::Min, {P}, page()));
    const auto& d = run();
    EXPECT_EQ(d.fields[sum].i, 15);
    EXPECT_DOUBLE_EQ(d.fields[avg].f, 3.75);
    EXPECT_EQ(d.fields[mn].i, 1);
    EXPECT_EQ(d.fields[mx].i, 7);
    EXPECT_EQ(d.fields[first].i, 4);
    EXPECT_EQ(d.fields[last].i, 3);
    EXPECT_EQ(d.fields[dist].i, 3);
    EXPECT_EQ(d.fields[cnt].i, 3);
    EXPECT_EQ(runner->view(d.fields[minp]), "a"); // strings order by content
}

TEST(FeatureEdges, FewElements) {
    // One element: burstiness 0, backtrack_rate 0, gap_mean missing, entropy 0.
    IrBuilder b;
    uint16_t P = b.event("P", {{"v", Type::Int}});
    uint32_t rule = b.threshold("f", last_n(10, b.b(true)));
    b.emit(rule, "burst", b.agg(AggKind::Burstiness, {P}));
    b.emit(rule, "rate", b.agg(AggKind::BacktrackRate, {P}, b.fld(P, "v")));
    b.emit(rule, "gap", b.agg(AggKind::GapMean, {P}));
    b.emit(rule, "h", b.agg(AggKind::Entropy, {P}, b.fld(P, "v")));
    Runner r(b.rs);
    r.ev(P, "k", 0, {Value::integer(1)});
    ASSERT_EQ(r.sink.out.size(), 1u);
    const auto& f = r.sink.out[0].fields;
    EXPECT_DOUBLE_EQ(f[0].f, 0.0);
    EXPECT_DOUBLE_EQ(f[1].f, 0.0);
    EXPECT_TRUE(f[2].is_missing());
    EXPECT_DOUBLE_EQ(f[3].f, 0.0);
}

// backtracks over random sequences of 1 to 118 float values drawn from five (0.0 and -0.0 among them: one
// value), against the definition computed here with a std::set: a position counts when its value differs
// from the previous one and occurred at an earlier position. The rule fires once, on the last event.
TEST(FeatureEdges, BacktracksMatchTheDefinitionOnRandomSequences) {
    const double pool[] = {0.0, -0.0, 1.5, 2.5, 3.5};
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int trial = 0; trial < 40; ++trial) {
        const int n = 1 + trial * 3;
        IrBuilder b;
        uint16_t P = b.event("P", {{"v", Type::Float}});
        uint32_t rule = b.threshold("f", last_n(1000, b.bin(Op::Eq, b.agg(AggKind::Count, {P}), b.i(n))));
        b.emit(rule, "bt", b.agg(AggKind::Backtracks, {P}, b.fld(P, "v")));
        Runner r(b.rs);
        std::vector<double> seq;
        std::set<double> seen; // 0.0 == -0.0: one key
        int64_t expected = 0;
        for (int k = 0; k < n; ++k) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const double v = pool[x % 5];
            if (k > 0 && v != seq.back() && seen.count(v) != 0) ++expected;
            seen.insert(v);
            seq.push_back(v);
            r.ev(P, "k", k * kSec, {Value::real(v)});
        }
        ASSERT_EQ(r.sink.out.size(), 1u) << "trial " << trial;
        EXPECT_EQ(r.sink.out[0].fields[0].i, expected) << "trial " << trial << ", " << n << " events";
        if (n > 20) { // a draw this long returns to earlier values
            EXPECT_GT(expected, 0) << "trial " << trial;
        }
    }
}

// Aggregates over a long session are left folds continued from the last evaluation (aggregate_fold.cpp)
// and must equal the rescan (the definition) bit for bit. Each aggregate has a twin whose filter also
// reads the session (`session.events >= 0 or true`: every element passes, but the session makes it
// rescanned every time): random streams of P events (page a, b, c or missing; x an int, y a float, d a
// duration, each sometimes missing) and Q events over two keys, at most 2 s apart, now and then a gap that
// closes the session (about 120 events of a key per session, past ExprEvaluator::kFoldFrom), in a third of
// the trials a scope cap of 40 events (the session's oldest dropped: folded from the start again) and in
// another third one of 7 (always rescanned). A rule fires when a pair differs (none may); another emits
// every pair at every tenth P event of a session from the 30th, and one at the session's end (their bits
// compared). The kinds that read the dwell keep in the fold only the events whose dwell is known.
TEST(FeatureEdges, SessionAggregatesFoldedEqualARescan) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    size_t compared = 0;
    for (int trial = 0; trial < 12; ++trial) {
        IrBuilder b;
        uint16_t P = b.event(
            "P", {{"page", Type::String}, {"x", Type::Int}, {"y", Type::Float}, {"d", Type::Duration}});
        uint16_t Q = b.event("Q");
        const uint32_t s = b.session("s", 10 * kSec);
        const ir::ExprId page = b.fld(P, "page"), xv = b.fld(P, "x"), yv = b.fld(P, "y"), dv = b.fld(P, "d");
        const ir::ExprId every =
            b.bin(Op::Or, b.bin(Op::Ge, b.session_attr(ir::SessionAttr::Events), b.i(0)), b.b(true));
        const ir::ExprId not_c = b.bin(Op::Ne, page, b.s("c"));
        const ir::ExprId long_dwell = b.bin(Op::Gt, b.dwell(), b.dur(kSec));
        struct Spec {
            AggKind kind;
            std::vector<uint16_t> types;
            ir::ExprId value, filter;
            Type result;
        };
        const std::vector<Spec> specs = {
            {AggKind::Count, {P}, ir::kNoExpr, ir::kNoExpr, Type::Int},
            {AggKind::Count, {}, ir::kNoExpr, not_c, Type::Int},
            {AggKind::Count, {P}, ir::kNoExpr, long_dwell, Type::Int},
            {AggKind::Sum, {P}, xv, ir::kNoExpr, Type::Int},
            {AggKind::Sum, {P}, yv, not_c, Type::Float},
            {AggKind::Sum, {P}, xv, ir::kNoExpr, Type::Float},
            {AggKind::Sum, {P}, dv, ir::kNoExpr, Type::Duration},
            {AggKind::Avg, {P}, xv, ir::kNoExpr, Type::Float},
            {AggKind::Avg, {P}, dv, not_c, Type::Duration},
            {AggKind::Min, {P}, page, ir::kNoExpr, Type::String},
            {AggKind::Max, {P}, yv, ir::kNoExpr, Type::Float},
            {AggKind::Max, {P}, b.dwell(), b.bin(Op::Eq, page, b.s("a")), Type::Duration},
            {AggKind::First, {P}, page, not_c, Type::String},
            {AggKind::Last, {P}, xv, ir::kNoExpr, Type::Int},
            {AggKind::DwellTime, {P}, ir::kNoExpr, not_c, Type::Duration},
            {AggKind::Distinct, {P}, page, ir::kNoExpr, Type::Int},
            {AggKind::Distinct, {P}, yv, ir::kNoExpr, Type::Int},
            {AggKind::Entropy, {P}, page, ir::kNoExpr, Type::Float},
            {AggKind::Backtracks, {P}, page, ir::kNoExpr, Type::Int},
            {AggKind::BacktrackRate, {P}, xv, ir::kNoExpr, Type::Float},
            {AggKind::Transitions, {P}, page, ir::kNoExpr, Type::Int},
            {AggKind::Transitions, {P}, page, not_c, Type::Int},
            {AggKind::GapMean, {P}, ir::kNoExpr, ir::kNoExpr, Type::Duration},
            {AggKind::GapMin, {}, ir::kNoExpr, ir::kNoExpr, Type::Duration},
            {AggKind::GapMax, {P}, ir::kNoExpr, not_c, Type::Duration},
            {AggKind::GapStd, {P}, ir::kNoExpr, ir::kNoExpr, Type::Duration}, // never folded
        };
        // `shown` holds at the 30th, 40th, ... P event of a session (a rule fires where its condition
        // starts to hold); `differ` whenever a pair differs (one of them missing included), which it never
        // may.
        const ir::ExprId count_p = b.agg(AggKind::Count, {P}, ir::kNoExpr, ir::kNoExpr, Type::Int);
        const uint32_t shown = b.threshold(
            "shown", over_session(s,
                                  b.bin(Op::And, b.bin(Op::Eq, b.bin(Op::Mod, count_p, b.i(10)), b.i(0)),
                                        b.bin(Op::Ge, count_p, b.i(30))),
                                  false, {P}));
        const uint32_t ended = b.threshold("ended", over_session(s, b.b(true), true));
        ir::ExprId differ = b.b(false);
        for (const Spec& sp : specs) {
            const ir::ExprId twin_filter =
                sp.filter == ir::kNoExpr ? every : b.bin(Op::And, sp.filter, every);
            const ir::ExprId folded = b.agg(sp.kind, sp.types, sp.value, sp.filter, sp.result);
            const ir::ExprId rescanned = b.agg(sp.kind, sp.types, sp.value, twin_filter, sp.result);
            for (uint32_t rule : {shown, ended}) {
                b.emit(rule, "folded", folded);
                b.emit(rule, "rescanned", rescanned);
            }
            const ir::ExprId any =
                b.bin(Op::Or, b.call(ir::Builtin::Has, {folded}), b.call(ir::Builtin::Has, {rescanned}));
            differ =
                b.bin(Op::Or, differ, b.bin(Op::And, any, b.un(Op::Not, b.bin(Op::Eq, folded, rescanned))));
        }
        b.threshold("differ", over_session(s, differ, false, {P}));
        b.threshold("differ_at_end", over_session(s, differ, true));
        ir::ExecutorOptions opts;
        if (trial % 3 == 1) opts.max_scope_events = 40;
        if (trial % 3 == 2) opts.max_scope_events = 7;
        Runner r(b.rs, opts);
        const char* pages[] = {"a", "b", "c"};
        int64_t t = 0;
        auto maybe = [&](Value v) { return next() % 5 == 0 ? Value::missing() : v; };
        for (int k = 0; k < 2000; ++k) {
            t += next() % 240 == 0 ? 25 * kSec : static_cast<int64_t>(next() % 2001) * 1000;
            const char* const keys[] = {"k0", "k1"};
            const std::string key = keys[next() % 2];
            if (next() % 6 == 0) {
                r.ev(Q, key, t);
                continue;
            }
            const uint64_t pick = next() % 4;
            r.ev(P, key, t,
                 {pick < 3 ? r.str(pages[pick]) : Value::missing(),
                  maybe(Value::integer(static_cast<int64_t>(next() % 9) - 4)),
                  maybe(Value::real(static_cast<double>(next() % 1000) / 8.0 - 60.0)),
                  maybe(Value::duration(static_cast<int64_t>(next() % 5000) * 1000))});
        }
        r.end();
        size_t long_sessions = 0;
        for (const ir::Detection& d : r.sink.out) {
            ASSERT_EQ(b.rs.rules[d.rule].name.rfind("differ", 0), std::string::npos)
                << "trial " << trial << " key " << r.view(ir::Value::string(d.key)) << " at " << d.time;
            ASSERT_EQ(d.fields.size(), 2 * specs.size());
            for (size_t a = 0; a < specs.size(); ++a) {
                const Value& f = d.fields[2 * a];
                const Value& g = d.fields[2 * a + 1];
                ASSERT_EQ(f.type, g.type) << "trial " << trial << " aggregate " << a;
                ASSERT_EQ(f.i, g.i) << "trial " << trial << " aggregate " << a; // the payload's bits
            }
            if (d.fields[0].i >= static_cast<int64_t>(ExprEvaluator::kFoldFrom)) ++long_sessions;
        }
        // The fold was taken (with a cap of 40, `shown` holds from the 40th event on: one detection a
        // session).
        if (trial % 3 != 2) {
            EXPECT_GT(long_sessions, trial % 3 == 0 ? 50u : 5u) << "trial " << trial;
        }
        compared += r.sink.out.size();
    }
    EXPECT_GT(compared, 600u);
}

// Folds live with a session's events and are not part of a snapshot: an executor restored mid-session
// folds again from the restored events, and detects what the one that kept running detects.
TEST(FeatureEdges, SessionFoldsRebuiltAfterARestore) {
    IrBuilder b;
    uint16_t P = b.event("P", {{"page", Type::String}, {"x", Type::Int}});
    const uint32_t s = b.session("s", 10 * kSec);
    const ir::ExprId count_p = b.agg(AggKind::Count, {P}, ir::kNoExpr, ir::kNoExpr, Type::Int);
    const uint32_t rule = b.threshold(
        "tenth", over_session(s, b.bin(Op::Eq, b.bin(Op::Mod, count_p, b.i(10)), b.i(0)), false, {P}));
    b.emit(rule, "n", count_p);
    b.emit(rule, "pages", b.agg(AggKind::Distinct, {P}, b.fld(P, "page"), ir::kNoExpr, Type::Int));
    b.emit(rule, "x", b.agg(AggKind::Sum, {P}, b.fld(P, "x"), ir::kNoExpr, Type::Int));
    b.emit(rule, "moves", b.agg(AggKind::Transitions, {P}, b.fld(P, "page"), ir::kNoExpr, Type::Int));
    Runner a(b.rs), c(b.rs);
    const char* pages[] = {"a", "b", "c", "d"};
    auto feed = [&](Runner& r, int from, int to) {
        for (int k = from; k < to; ++k)
            r.ev(P, "k", k * kSec / 2, {r.str(pages[(k * 7) % 4]), Value::integer(k % 5)});
    };
    feed(a, 0, 200);
    std::string snap;
    ASSERT_EQ(c.restore_from(a, snap), "");
    const size_t before = a.sink.out.size();
    feed(a, 200, 400);
    feed(c, 200, 400);
    ASSERT_EQ(a.sink.out.size() - before, c.sink.out.size());
    ASSERT_GE(c.sink.out.size(), 20u);
    for (size_t i = 0; i < c.sink.out.size(); ++i)
        for (size_t f = 0; f < 4; ++f)
            EXPECT_EQ(a.sink.out[before + i].fields[f].i, c.sink.out[i].fields[f].i) << i << " " << f;
    EXPECT_EQ(c.sink.out.back().fields[0].i, 400);
}

// A float sum over a time window is kept in the scope ring's words as its exact partials, a value added
// when its event enters and taken out when it leaves (exact_sum.h kept_sum), and so is an avg (that sum and
// the number of values; of floats, and of durations to the microsecond); each must equal the rescan (the
// exact sum rounded once) bit for bit. Twins whose filter also reads the dwell (`dwell >= 0s or
// true`: every element passes, but it is not kept) are rescanned every time. A dense stream (0-2 s apart,
// about 60 events a minute) of money amounts, now and then a wide value, 1e16 and -1e16 (whose sum in
// order of arrival loses the others), a missing value and an infinity (the kept sum stale until it
// leaves), over two keys; in a third of the trials a scope cap of 25 (the oldest event leaves early).
TEST(FeatureEdges, WindowSumsKeptEqualARescan) {
    uint64_t x = 0x2545F4914F6CDD1Dull;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    size_t compared = 0, long_windows = 0;
    for (int trial = 0; trial < 6; ++trial) {
        IrBuilder b;
        uint16_t A = b.event("A", {{"y", Type::Float}, {"d", Type::Duration}});
        const ir::ExprId yv = b.fld(A, "y"), dv = b.fld(A, "d");
        const ir::ExprId every =
            b.bin(Op::Or, b.bin(Op::Ge, b.dwell(), b.dur(0)), b.b(true)); // passes all, reads the dwell
        const ir::ExprId big = b.bin(Op::Gt, yv, b.f(100.0));
        const ir::ExprId count_a = b.agg(AggKind::Count, {A}, ir::kNoExpr, ir::kNoExpr, Type::Int);
        const ir::ExprId kept = b.agg(AggKind::Sum, {A}, yv, ir::kNoExpr, Type::Float);
        const ir::ExprId twin = b.agg(AggKind::Sum, {A}, yv, every, Type::Float);
        const ir::ExprId kept_big = b.agg(AggKind::Sum, {A}, yv, big, Type::Float);
        const ir::ExprId twin_big = b.agg(AggKind::Sum, {A}, yv, b.bin(Op::And, big, every), Type::Float);
        const ir::ExprId kept_avg = b.agg(AggKind::Avg, {A}, yv, ir::kNoExpr, Type::Float);
        const ir::ExprId twin_avg = b.agg(AggKind::Avg, {A}, yv, every, Type::Float);
        const ir::ExprId kept_avg_d = b.agg(AggKind::Avg, {A}, dv, big, Type::Duration);
        const ir::ExprId twin_avg_d =
            b.agg(AggKind::Avg, {A}, dv, b.bin(Op::And, big, every), Type::Duration);
        // Shown at every third event (edge-triggered: the condition flips).
        const uint32_t shown =
            b.threshold("shown", window(kMin, b.bin(Op::Eq, b.bin(Op::Mod, count_a, b.i(3)), b.i(0)), {A}));
        b.emit(shown, "n", count_a);
        for (ir::ExprId e : {kept, twin, kept_big, twin_big, kept_avg, twin_avg, kept_avg_d, twin_avg_d})
            b.emit(shown, "s", e);
        auto differ = [&](ir::ExprId p, ir::ExprId q) {
            return b.bin(Op::And, b.bin(Op::Or, b.call(ir::Builtin::Has, {p}), b.call(ir::Builtin::Has, {q})),
                         b.un(Op::Not, b.bin(Op::Eq, p, q)));
        };
        b.threshold("differ",
                    window(kMin, b.bin(Op::Or, differ(kept, twin), differ(kept_big, twin_big)), {A}));
        ir::ExecutorOptions opts;
        if (trial % 3 == 2) opts.max_scope_events = 25;
        Runner r(b.rs, opts);
        int64_t t = 0;
        for (int k = 0; k < 6000; ++k) {
            t += static_cast<int64_t>(next() % 2001) * 1000;
            const std::string key = next() % 2 ? "k0" : "k1";
            const uint64_t pick = next() % 100;
            Value v = Value::real(static_cast<double>(next() % 50000 + 500) / 100.0); // 5.00 .. 504.99
            if (pick < 8)
                v = Value::real(std::ldexp(static_cast<double>(next() % 1000000), -(int)(next() % 60)));
            if (pick == 8) v = Value::real(1e16);
            if (pick == 9) v = Value::real(-1e16);
            if (pick == 10) v = Value::missing();
            if (pick == 11 && next() % 20 == 0) v = Value::real(std::numeric_limits<double>::infinity());
            r.ev(A, key, t,
                 {v, next() % 10 == 0 ? Value::missing()
                                      : Value::duration(static_cast<int64_t>(next() % 100000) * 7)});
        }
        r.end();
        for (const ir::Detection& d : r.sink.out) {
            ASSERT_EQ(b.rs.rules[d.rule].name, "shown")
                << "trial " << trial << " key " << r.view(ir::Value::string(d.key)) << " at " << d.time;
            ASSERT_EQ(d.fields.size(), 9u);
            for (size_t f = 1; f < 9; f += 2) {
                ASSERT_EQ(d.fields[f].type, d.fields[f + 1].type) << "trial " << trial;
                ASSERT_EQ(d.fields[f].i, d.fields[f + 1].i) << "trial " << trial << " at " << d.time; // bits
            }
            if (d.fields[0].i >= 20) ++long_windows;
        }
        compared += r.sink.out.size();
    }
    EXPECT_GT(compared, 5000u);
    EXPECT_GT(long_windows, 1000u);
}

TEST(FeatureEdges, BurstinessOfEqualGapsIsMinusOne) {
    // gaps 2s 2s: sigma 0, mu 2s: (0 - 2) / (0 + 2) = -1.
    IrBuilder b;
    uint16_t P = b.event("P");
    uint32_t rule = b.threshold("f", last_n(10, b.bin(Op::Eq, b.agg(AggKind::Count, {P}), b.i(3))));
    b.emit(rule, "burst", b.agg(AggKind::Burstiness, {P}));
    Runner r(b.rs);
    r.ev(P, "k", 0);
    r.ev(P, "k", 2 * kSec);
    r.ev(P, "k", 4 * kSec);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_DOUBLE_EQ(r.sink.out[0].fields[0].f, -1.0);
}

} // namespace
} // namespace ethogram::interp::testing
