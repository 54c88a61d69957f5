// compact_state_test.cpp: the compact per-key state (key_table.h, state.h, engine.h Timer): stale timer
// entries at a live owner's deadline act once, many keys come and go through the key table, snapshots of
// the state format round-trip and older formats are refused by version.
#include "compiler/interp/state_bytes.h"
#include "tests/interp/ir_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

namespace ethogram::interp::testing {
namespace {

// A 10-minute session that an `x` event ends, and an `at session end` rule over it.
struct EndOnSession {
    IrBuilder b;
    uint16_t a = 0, x = 0;
    EndOnSession() {
        a = b.event("a");
        x = b.event("x");
        b.session("visit", 10 * kMin, -1, {}, {ir::SessionEnd{x, ir::kNoExpr}});
        b.threshold("visit_end", over_session(0, b.b(true), true));
    }
};

TEST(CompactState, StaleTimerAtTheLiveDeadlineActsOnce) {
    EndOnSession s;
    Runner r(s.b.rs);
    // The session opens at 0 (a timer entry at 10m) and `x` ends it at 0; it reopens at 0 with the
    // deadline 10m again: two entries of one owner at one deadline, the first one stale.
    r.ev(s.a, "k", 0);
    r.ev(s.x, "k", 0);
    ASSERT_EQ(r.sink.out.size(), 1u); // the `end on` close
    r.ev(s.a, "k", 0);                // reopens: deadline 10m, like the stale entry's
    r.watermark(10 * kMin);           // not yet (a timer fires once the watermark passes it)
    EXPECT_EQ(r.sink.out.size(), 1u);
    r.watermark(10 * kMin + 1);
    EXPECT_EQ(r.sink.out.size(), 2u); // closed once, at its deadline
    r.ev(s.a, "k", 20 * kMin);        // a third session
    r.end();
    EXPECT_EQ(r.sink.out.size(), 3u);
    EXPECT_EQ(r.exec->stats().live_keys, 1u);
}

TEST(CompactState, SnapshotRoundTripsAndOlderFormatsAreRefused) {
    EndOnSession s;
    Runner r(s.b.rs);
    r.ev(s.a, "k", 0);
    r.ev(s.x, "k", 0);
    r.ev(s.a, "k", 0);
    r.ev(s.a, "j", 30 * kSec);
    std::string snap;
    Runner fresh(s.b.rs);
    ASSERT_EQ(fresh.restore_from(r, snap), "");
    fresh.end();
    r.end();
    EXPECT_EQ(fresh.sink.out.size(), r.sink.out.size() - 1); // the restored one missed the first close

    // Version 2 (64-bit timer generations) is refused, with the version named.
    std::string old = snap;
    old[0] = 2;
    Runner other(s.b.rs);
    Status st = other.exec->restore_state(old);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("format version 2"), std::string::npos) << st.error();
}

TEST(CompactState, KeysComeAndGoThroughTheKeyTable) {
    IrBuilder b;
    uint16_t a = b.event("a"), z = b.event("z");
    b.session("visit", 30 * kMin);
    b.threshold("visit_end", over_session(0, b.b(true), true));
    b.threshold("burst", window(10 * kMin, b.b(false)));
    b.pattern("a_then_z", {pos("x", {a}), pos("y", {z})}, 30 * kMin);
    ir::ExecutorOptions o;
    o.evict_idle_keys = true;
    Runner r(b.rs, o);
    // 3 waves of 5000 keys (ids beyond one index page), an hour apart: each wave's keys are evicted once
    // idle, and their records reused by the next wave.
    for (int wave = 0; wave < 3; ++wave) {
        const int64_t t0 = wave * 120 * kMin;
        for (int i = 0; i < 5000; ++i) r.ev(a, fmt::format("w{}-{}", wave, i), t0);
        for (int i = 0; i < 5000; i += 2) r.ev(z, fmt::format("w{}-{}", wave, i), t0 + 1);
        EXPECT_EQ(r.exec->stats().live_keys, 5000u);
    }
    r.watermark(1000 * kMin);
    const ir::ExecutorStats st = r.exec->stats();
    EXPECT_EQ(st.live_keys, 0u);
    EXPECT_EQ(st.evictions, 15000u);
    EXPECT_EQ(st.state_bytes, 0u);
    // Every session closed (15000 `at session end` detections) and every second key matched a_then_z.
    EXPECT_EQ(st.detections, 15000u + 7500u);
}

} // namespace
} // namespace ethogram::interp::testing
