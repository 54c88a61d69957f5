// session_visit_test.cpp: how events visit sessions (sessions.h: the common case inline, the rest in
// visit_session). A session that no rule reads (it stores no events) and one that a rule scopes over (it
// stores them) must keep the same state, since snapshots, checkpoints, the state accounting and hot swaps
// see a session whether a rule reads it or not.
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <string>

namespace ethogram::interp::testing {
namespace {

// Two sessions of one definition (a 10-minute gap, 30 minutes at most; `end on x` without a predicate,
// `end on y` with one that holds when its `n` is 1), and an `at session end` rule that reads session
// `read` (the other one no rule reads).
struct TwoSessions {
    IrBuilder b;
    uint16_t a = 0, x = 0, y = 0;
    explicit TwoSessions(uint32_t read) {
        a = b.event("a");
        x = b.event("x");
        y = b.event("y", {{"n", ir::Type::Int}});
        const ir::ExprId one = b.bin(ir::Op::Eq, b.fld(y, "n"), b.i(1));
        for (const char* name : {"first", "second"})
            b.session(name, 10 * kMin, 30 * kMin, {},
                      {ir::SessionEnd{x, ir::kNoExpr}, ir::SessionEnd{y, one}});
        const uint32_t r = b.threshold("at_end", over_session(read, b.b(true), true));
        b.emit(r, "events", b.session_attr(ir::SessionAttr::Events));
        b.emit(r, "start", b.session_attr(ir::SessionAttr::Start));
        b.emit(r, "last", b.session_attr(ir::SessionAttr::Last));
    }
};

// Feeds both runners the same events; after some of them `check(all_closed)` compares the two.
template <class Check>
void feed(TwoSessions& s, Runner& p, Runner& q, Check&& check) {
    auto both = [&](uint16_t type, const std::string& key, int64_t t, std::vector<ir::Value> extra = {}) {
        p.ev(type, key, t, extra);
        q.ev(type, key, t, extra);
    };
    auto watermark = [&](int64_t t) {
        p.watermark(t);
        q.watermark(t);
    };
    both(s.a, "k", 0);                                 // opens
    both(s.a, "k", 1 * kMin);                          // joins (the common case where unread)
    both(s.a, "j", 1 * kMin);                          // another key opens
    both(s.a, "k", 3 * kMin);                          // joins
    both(s.a, "k", 2 * kMin);                          // before the latest (the deadline moves earlier)
    both(s.y, "k", 4 * kMin, {ir::Value::integer(0)}); // an `end on` whose predicate fails: joins
    check(false);
    both(s.y, "k", 5 * kMin, {ir::Value::integer(1)}); // ends k's (the predicate holds): 6 events
    check(false);
    both(s.a, "k", 6 * kMin);  // opens again
    both(s.a, "k", 14 * kMin); // joins: the entry at 16m moves on to 24m
    watermark(25 * kMin);      // the gap closes j's (at 11m) and k's (at 24m)
    check(true);
    for (int64_t t : {26, 34, 42, 50}) both(s.a, "k", t * kMin);
    watermark(57 * kMin); // the 30-minute cap closes it at 56m
    check(true);
    both(s.a, "k", 60 * kMin);
    both(s.x, "k", 61 * kMin); // ends it (no predicate)
    check(true);
    p.end();
    q.end();
}

// In `p` the rule reads session 1 and session 0 is unread; in `q` the reverse. Whenever every session is
// closed, their records hold the same start, count and generation in both, so the snapshots are equal byte
// for byte: the unread session took the inline case and kept what the read one kept.
TEST(SessionVisit, AnUnreadSessionKeepsTheStateOfARead) {
    TwoSessions sp(1), sq(0);
    Runner p(sp.b.rs), q(sq.b.rs);
    int compared = 0;
    feed(sp, p, q, [&](bool all_closed) {
        EXPECT_EQ(p.sink.out.size(), q.sink.out.size());
        if (all_closed) {
            std::string a, b;
            ASSERT_TRUE(p.exec->save_state(a).ok());
            ASSERT_TRUE(q.exec->save_state(b).ok());
            EXPECT_EQ(a, b);
            ++compared;
        }
        // Checkpoints round-trip, open sessions included.
        Runner fresh(sp.b.rs);
        std::string snap;
        EXPECT_EQ(fresh.restore_from(p, snap), "");
    });
    EXPECT_EQ(compared, 3);
    // The read session's closes, in order: k's by `end on y`, j's and k's by the gap, k's by the cap, k's
    // by `end on x`.
    ASSERT_EQ(p.sink.out.size(), 5u);
    ASSERT_EQ(q.sink.out.size(), 5u);
    const std::vector<int64_t> events = {6, 1, 2, 4, 2};
    const std::vector<int64_t> starts = {0, 1 * kMin, 6 * kMin, 26 * kMin, 60 * kMin};
    const std::vector<int64_t> lasts = {5 * kMin, 1 * kMin, 14 * kMin, 50 * kMin, 61 * kMin};
    for (size_t i = 0; i < p.sink.out.size(); ++i) {
        const ir::Detection& d = p.sink.out[i];
        ASSERT_EQ(d.fields.size(), 3u);
        EXPECT_EQ(d.fields[0].i, events[i]) << i;
        EXPECT_EQ(d.fields[1].i, starts[i]) << i;
        EXPECT_EQ(d.fields[2].i, lasts[i]) << i;
        const ir::Detection& e = q.sink.out[i];
        ASSERT_EQ(e.fields.size(), 3u);
        for (size_t f = 0; f < 3; ++f) EXPECT_EQ(e.fields[f].i, d.fields[f].i) << i << " " << f;
    }
}

} // namespace
} // namespace ethogram::interp::testing
