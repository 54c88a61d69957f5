// reorder_test.cpp: watermark, late events and release order of the reorder buffer.
#include "runtime/reorder.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ethogram::runtime {
namespace {

ir::Event at(int64_t t, uint64_t seq) {
    ir::Event e;
    e.time = t;
    e.seq = seq;
    return e;
}

std::vector<std::pair<int64_t, uint64_t>> order(const std::vector<ir::Event>& v) {
    std::vector<std::pair<int64_t, uint64_t>> out;
    for (const auto& e : v) out.emplace_back(e.time, e.seq);
    return out;
}

using Order = std::vector<std::pair<int64_t, uint64_t>>;

TEST(Reorder, ZeroLatenessReleasesImmediately) {
    ReorderBuffer rb(0);
    std::vector<ir::Event> out;
    EXPECT_EQ(rb.watermark(), ir::kTimeMinusInfinity);
    ASSERT_TRUE(rb.push(at(10, 0)));
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{10, 0}}));
    EXPECT_EQ(rb.watermark(), 10);
    // Same time is not late (t < W is late, t == W is not).
    ASSERT_TRUE(rb.push(at(10, 1)));
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{10, 1}}));
    // Any earlier time is late with zero lateness.
    EXPECT_FALSE(rb.push(at(9, 2)));
    EXPECT_EQ(rb.size(), 0u);
}

TEST(Reorder, LatenessBuffersAndReordersOutOfOrderEvents) {
    ReorderBuffer rb(5);
    std::vector<ir::Event> out;
    ASSERT_TRUE(rb.push(at(100, 0))); // W = 95
    rb.pop_ready(out);
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(rb.push(at(97, 1))); // within lateness: buffered
    rb.pop_ready(out);
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(rb.push(at(95, 2))); // t == W: not late
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{95, 2}}));
    EXPECT_FALSE(rb.push(at(94, 3))); // t < W = 95: late
    ASSERT_TRUE(rb.push(at(103, 4))); // W = 98: releases 97
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{97, 1}}));
    EXPECT_EQ(rb.watermark(), 98);
    rb.drain(out);
    EXPECT_EQ(order(out), (Order{{100, 0}, {103, 4}}));
    EXPECT_EQ(rb.size(), 0u);
    EXPECT_EQ(rb.high_water(), 3u); // 100, 97 and 95 were held together before 95 left
}

TEST(Reorder, TiesReleaseInArrivalOrder) {
    ReorderBuffer rb(10);
    std::vector<ir::Event> out;
    for (uint64_t s = 0; s < 5; ++s) ASSERT_TRUE(rb.push(at(s % 2 == 0 ? 50 : 40, s)));
    rb.drain(out);
    EXPECT_EQ(order(out), (Order{{40, 1}, {40, 3}, {50, 0}, {50, 2}, {50, 4}}));
}

TEST(Reorder, WatermarkNeverMovesBack) {
    ReorderBuffer rb(3);
    std::vector<ir::Event> out;
    ASSERT_TRUE(rb.push(at(20, 0)));
    EXPECT_EQ(rb.watermark(), 17);
    ASSERT_TRUE(rb.push(at(18, 1)));
    EXPECT_EQ(rb.watermark(), 17);
}

TEST(Reorder, ExtremeTimesDoNotOverflow) {
    ReorderBuffer rb(1000);
    ASSERT_TRUE(rb.push(at(ir::kTimeMinusInfinity + 5, 0)));
    EXPECT_EQ(rb.watermark(), ir::kTimeMinusInfinity);
}

TEST(Reorder, ManyRandomEventsComeOutSorted) {
    ReorderBuffer rb(1000);
    std::vector<ir::Event> out, all;
    uint64_t x = 12345;
    int late = 0;
    for (uint64_t s = 0; s < 2000; ++s) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = static_cast<int64_t>(s * 10) + static_cast<int64_t>((x >> 33) % 1500);
        if (!rb.push(at(t, s))) {
            ++late;
            continue;
        }
        rb.pop_ready(out);
        all.insert(all.end(), out.begin(), out.end());
    }
    rb.drain(out);
    all.insert(all.end(), out.begin(), out.end());
    EXPECT_EQ(all.size() + static_cast<size_t>(late), 2000u);
    for (size_t i = 1; i < all.size(); ++i) {
        ASSERT_TRUE(all[i - 1].time < all[i].time ||
                    (all[i - 1].time == all[i].time && all[i - 1].seq < all[i].seq))
            << i;
    }
}

// admit_event then push_admitted (LineStage's two steps, which keep a Straight event themselves) against
// push then pop_ready: Straight exactly when push then pop_ready would release that one event alone, and
// otherwise the same verdicts, releases, watermark, size and high water.
TEST(Reorder, AdmitEventEqualsPushThenPopReady) {
    for (int64_t lateness : {int64_t{0}, int64_t{1}, int64_t{500}, int64_t{100000}}) {
        for (uint64_t spread : {uint64_t{1}, uint64_t{20}, uint64_t{3000}}) {
            ReorderBuffer one(lateness), two(lateness);
            std::vector<ir::Event> out_one, out_two;
            uint64_t x = 7 + spread;
            size_t straight = 0, admitted = 0;
            for (uint64_t s = 0; s < 3000; ++s) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                const int64_t t = static_cast<int64_t>(s * 10) + static_cast<int64_t>((x >> 33) % spread);
                const ReorderBuffer::Admit verdict = one.admit_event(t);
                const bool b = two.push(at(t, s));
                ASSERT_EQ(verdict != ReorderBuffer::Admit::Late, b) << "event " << s;
                if (!b) continue;
                ++admitted;
                two.pop_ready(out_two);
                out_one.clear();
                if (verdict == ReorderBuffer::Admit::Straight) {
                    out_one.push_back(at(t, s));
                    ++straight;
                } else {
                    one.push_admitted(at(t, s), out_one);
                }
                ASSERT_EQ(out_one.size(), out_two.size()) << "event " << s;
                for (size_t i = 0; i < out_one.size(); ++i) ASSERT_EQ(out_one[i].seq, out_two[i].seq);
                ASSERT_EQ(one.watermark(), two.watermark());
                ASSERT_EQ(one.size(), two.size());
                ASSERT_EQ(one.high_water(), two.high_water());
            }
            if (lateness == 0) { // no lateness: every event admitted goes straight
                EXPECT_EQ(straight, admitted);
            }
        }
    }
}

// Nearly in-order streams (the FIFO part) with occasional earlier arrivals (the heap part) and runs of
// equal times, against the specification (every admitted event, sorted on (time, seq), released once the
// watermark reaches it); halfway through, the buffer is saved and restored into a fresh one (as a
// checkpoint does), in the saved order and shuffled (older snapshots hold a heap order), and the rest of
// the stream must come out the same.
TEST(Reorder, NearlyInOrderStreamsAndRestoreEqualTheSpecification) {
    for (uint64_t every : {uint64_t{2}, uint64_t{7}, uint64_t{50}, uint64_t{100000}}) {
        for (bool shuffle : {false, true}) {
            const int64_t lateness = 400;
            ReorderBuffer rb(lateness);
            std::vector<ir::Event> out;
            Order released, admitted;
            uint64_t x = 99 + every;
            const uint64_t n = 20000;
            for (uint64_t s = 0; s < n; ++s) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                int64_t t = static_cast<int64_t>(s / 3) * 10; // runs of three equal times
                if ((x >> 40) % every == 0) t -= static_cast<int64_t>((x >> 20) % 600); // an earlier arrival
                if (rb.push(at(t, s))) admitted.emplace_back(t, s);
                rb.pop_ready(out);
                for (const auto& e : order(out)) released.push_back(e);
                if (s == n / 2) {
                    std::vector<ir::Event> saved;
                    for (const ir::Event* e : rb.buffered()) saved.push_back(*e);
                    for (size_t i = 1; i < saved.size(); ++i)
                        ASSERT_TRUE(saved[i - 1].time < saved[i].time ||
                                    (saved[i - 1].time == saved[i].time && saved[i - 1].seq < saved[i].seq));
                    ASSERT_EQ(saved.size(), rb.size());
                    if (shuffle) std::reverse(saved.begin(), saved.end());
                    ReorderBuffer fresh(lateness);
                    fresh.restore(rb.max_time(), rb.watermark(), rb.high_water(), std::move(saved));
                    ASSERT_EQ(fresh.size(), rb.size());
                    rb = std::move(fresh);
                }
            }
            rb.drain(out);
            for (const auto& e : order(out)) released.push_back(e);
            std::sort(admitted.begin(), admitted.end());
            EXPECT_EQ(released, admitted) << "every " << every << (shuffle ? ", shuffled" : "");
            EXPECT_EQ(rb.size(), 0u);
        }
    }
}

// An explicit watermark (the embedding API's advance_watermark): it releases what it passes at the next
// pop_ready, makes earlier events late, and a later event time never moves it back.
TEST(Reorder, RaisedWatermarkReleasesAndNeverMovesBack) {
    ReorderBuffer rb(100);
    std::vector<ir::Event> out;
    ASSERT_TRUE(rb.push(at(1000, 0)));
    ASSERT_TRUE(rb.push(at(950, 1)));
    rb.pop_ready(out);
    EXPECT_TRUE(out.empty()); // watermark 900
    rb.raise_watermark(960);
    EXPECT_EQ(rb.watermark(), 960);
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{950, 1}}));
    EXPECT_FALSE(rb.push(at(955, 2))); // late now
    rb.raise_watermark(500);           // earlier: no effect
    EXPECT_EQ(rb.watermark(), 960);
    ASSERT_TRUE(rb.push(at(1010, 3))); // max time 1010 - lateness 100 = 910 < 960: stays 960
    EXPECT_EQ(rb.watermark(), 960);
    ASSERT_TRUE(rb.push(at(1200, 4))); // 1100
    EXPECT_EQ(rb.watermark(), 1100);
    rb.pop_ready(out);
    EXPECT_EQ(order(out), (Order{{1000, 0}, {1010, 3}}));
    EXPECT_EQ(rb.size(), 1u);
}

} // namespace
} // namespace ethogram::runtime
