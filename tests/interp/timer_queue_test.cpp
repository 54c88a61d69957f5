// timer_queue_test.cpp: the timer queue (timer_queue.h TimerQueue: 128-bit ranks, a calendar) pops in
// exactly std::priority_queue's (deadline, key, slot) order, and the watermark's fast path (no timer due,
// no key idle) still evicts every idle key at the first watermark past the horizon.
#include "compiler/interp/engine.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <vector>

namespace ethogram::interp::testing {
namespace {

bool same(const Timer& a, const Timer& b) {
    return a.deadline == b.deadline && a.key == b.key && a.slot == b.slot;
}

TEST(TimerQueue, PopsInDeadlineKeySlotOrder) {
    TimerQueue q;
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    // Negative deadlines before positive ones (the sign bit is flipped in the rank), then key, then slot.
    const std::vector<Timer> sorted = {{lo, 0, 0}, {-5, 9, 9},
                                       {-1, 0, 0}, {0, 0, 1},
                                       {0, 1, 0},  {0, 1, 7},
                                       {3, 0, 0},  {3, ir::kNoString, 0},
                                       {hi, 0, 0}, {hi, ir::kNoString, UINT32_MAX}};
    for (size_t i = sorted.size(); i-- > 0;) q.push(sorted[i]);
    for (const Timer& t : sorted) {
        ASSERT_FALSE(q.empty());
        EXPECT_TRUE(same(q.top(), t)) << q.top().deadline << " " << q.top().key << " " << q.top().slot;
        q.pop();
    }
    EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, SameSequenceAsPriorityQueue) {
    // Interleaved pushes and pops of entries with many ties (few deadlines, keys and slots), as the
    // interpreter makes them: the sequence of popped entries equals std::priority_queue's.
    std::mt19937_64 rng(42);
    for (int round = 0; round < 20; ++round) {
        TimerQueue q;
        std::priority_queue<Timer, std::vector<Timer>, std::greater<>> ref;
        const int64_t spread = round % 2 ? 8 : 1'000'000;
        for (int op = 0; op < 20000; ++op) {
            if (ref.empty() || rng() % 3 != 0) {
                const Timer t{static_cast<int64_t>(rng() % spread) - spread / 2,
                              static_cast<uint32_t>(rng() % 50), static_cast<uint32_t>(rng() % 4)};
                q.push(t);
                ref.push(t);
            } else {
                ASSERT_TRUE(same(q.top(), ref.top())) << "round " << round << " op " << op;
                q.pop();
                ref.pop();
            }
            ASSERT_EQ(q.size(), ref.size());
        }
        for (; !ref.empty(); ref.pop(), q.pop()) ASSERT_TRUE(same(q.top(), ref.top()));
        EXPECT_TRUE(q.empty());
    }
}

TEST(TimerQueue, SameSequenceAsPriorityQueueAsTimeAdvances) {
    // As the interpreter uses it: a watermark advances, entries are pushed at it plus a delay (seconds to
    // days: within the calendar's ring, past it, and some before the watermark), and the due ones are
    // popped after due_before; the sequence of popped entries equals std::priority_queue's.
    std::mt19937_64 rng(7);
    const int64_t delays[] = {1, 1'000'000, 600'000'000, 1'800'000'000, 14'400'000'000, 86'400'000'000 * 3};
    for (int round = 0; round < 6; ++round) {
        TimerQueue q;
        std::priority_queue<Timer, std::vector<Timer>, std::greater<>> ref;
        int64_t wm = round % 2 ? -50'000'000'000 : 1'700'000'000'000'000;
        for (int op = 0; op < 30000; ++op) {
            wm += static_cast<int64_t>(rng() % (round < 2 ? 1'000 : 200'000'000));
            const int pushes = static_cast<int>(rng() % 3);
            for (int p = 0; p < pushes; ++p) {
                int64_t d = wm + static_cast<int64_t>(rng() % static_cast<uint64_t>(delays[rng() % 6]));
                if (rng() % 50 == 0) d = wm - static_cast<int64_t>(rng() % 100'000'000'000); // before it
                const Timer t{d, static_cast<uint32_t>(rng() % 100), static_cast<uint32_t>(rng() % 3)};
                q.push(t);
                ref.push(t);
            }
            const bool due = !ref.empty() && ref.top().deadline < wm;
            ASSERT_EQ(q.due_before(wm), due) << "round " << round << " op " << op;
            while (!ref.empty() && ref.top().deadline < wm) {
                ASSERT_TRUE(q.due_before(wm));
                ASSERT_TRUE(same(q.top(), ref.top())) << "round " << round << " op " << op;
                q.pop();
                ref.pop();
            }
            ASSERT_EQ(q.size(), ref.size());
            if (op % 7000 == 0) {
                // A copy drains in the same order (what a snapshot writes).
                TimerQueue c = q;
                auto r = ref;
                for (; !r.empty(); r.pop(), c.pop()) ASSERT_TRUE(same(c.top(), r.top()));
                EXPECT_TRUE(c.empty());
            }
        }
        for (; !ref.empty(); ref.pop(), q.pop()) ASSERT_TRUE(same(q.top(), ref.top()));
        EXPECT_TRUE(q.empty());
    }
}

TEST(TimerQueue, IdleKeysEvictedAtTheFirstWatermarkPastTheHorizon) {
    // No timers at all (a window threshold): every watermark takes the fast path until a key is idle.
    IrBuilder b;
    const uint16_t a = b.event("a");
    b.threshold("burst", window(10 * kMin, b.b(false)));
    ir::ExecutorOptions o;
    o.evict_idle_keys = true;
    Runner r(b.rs, o);
    r.ev(a, "k1", 0);
    r.ev(a, "k2", 5 * kMin);
    r.watermark(10 * kMin); // k1: exactly the horizon, not idle
    r.watermark(10 * kMin); // the same watermark again
    EXPECT_EQ(r.exec->stats().evictions, 0u);
    r.watermark(10 * kMin + 1);
    EXPECT_EQ(r.exec->stats().evictions, 1u);
    EXPECT_EQ(r.exec->stats().live_keys, 1u);
    r.watermark(15 * kMin + 1);
    EXPECT_EQ(r.exec->stats().evictions, 2u);
    EXPECT_EQ(r.exec->stats().live_keys, 0u);
    // At end of input nothing is evicted (the summary keeps the live-key count).
    r.ev(a, "k3", 20 * kMin);
    r.end();
    EXPECT_EQ(r.exec->stats().live_keys, 1u);
}

TEST(TimerQueue, DueTimersFireOnTheFastPathsWatermark) {
    // A pattern window timer due at 10m fires on the first watermark past it, alone (no key idle yet),
    // and its key is evicted only once idle.
    IrBuilder b;
    const uint16_t a = b.event("a"), z = b.event("z");
    b.pattern("a_not_z", {pos("x", {a}), absent("y", {z}, 10 * kMin)}, -1);
    ir::ExecutorOptions o;
    o.evict_idle_keys = true;
    Runner r(b.rs, o);
    r.ev(a, "k", 0);
    r.watermark(10 * kMin);
    EXPECT_TRUE(r.sink.out.empty());
    r.watermark(10 * kMin + 1);
    ASSERT_EQ(r.sink.out.size(), 1u);
    EXPECT_EQ(r.sink.out[0].time, 10 * kMin);
    EXPECT_EQ(r.exec->stats().evictions, 1u); // horizon 10m: idle at the same watermark, after the timer
}

} // namespace
} // namespace ethogram::interp::testing
