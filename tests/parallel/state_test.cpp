// state_test.cpp: bounded state: evicting idle keys never changes the output (random rule sets and
// streams from tests/oracle, single- and multi-threaded), and the state budget holds under hostile
// streams (very many keys; one key starting very many partial matches), measured by the accounting.
#include "tests/interp/ir_builder.h"
#include "tests/oracle/random_rules.h"
#include "tests/parallel/parallel_harness.h"

#include "compiler/interp/interpreter.h"
#include "compiler/interp/interpreter_impl.h"
#include "runtime/output.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

namespace ethogram::parallel_test {
namespace {

using interp::testing::IrBuilder;
using interp::testing::kMin;
using interp::testing::kSec;
using interp::testing::Runner;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kCases = 100;
#else
constexpr uint64_t kCases = 400;
#endif

class Eviction : public ::testing::TestWithParam<oracle::Family> {};

// Everything an executor produced, formatted (detections, then suppressed ones), and its statistics.
struct Produced : ir::DetectionSink {
    const ir::RuleSet& rs;
    const ir::StringPool& pool;
    std::vector<std::string> out;
    Produced(const ir::RuleSet& r, const ir::StringPool& p) : rs(r), pool(p) {}
    void emit(ir::Detection&& d) override { add(d, "D "); }
    void suppressed(ir::Detection&& d) override { add(d, "S "); }
    void add(const ir::Detection& d, const char* tag) {
        std::string line = tag;
        runtime::format_detection(d, rs, pool, runtime::OutputOptions{}, line);
        out.push_back(std::move(line));
    }
};

// Runs `c` through an interpreter per the Executor contract, with or without eviction.
std::pair<std::vector<std::string>, ir::ExecutorStats> run_case(const oracle::Case& c, bool evict) {
    ir::StringPool pool;
    ir::seed_string_pool(c.rs, pool);
    ir::ExecutorOptions o;
    o.max_partial_matches = c.max_partial_matches;
    o.evict_idle_keys = evict;
    auto exec = interp::make_interpreter(c.rs, pool, o);
    Produced sink(c.rs, pool);
    for (const ir::Event& e : c.events) {
        exec->advance_watermark(e.time, sink);
        exec->on_event(e, sink);
    }
    const ir::ExecutorStats before_end = exec->stats();
    exec->advance_watermark(ir::kTimeInfinity, sink);
    return {sink.out, before_end};
}

// The generated streams spread a few keys over minutes while windows, sessions and pattern bounds are
// seconds to minutes: keys go idle and come back, which is where an eviction bug would show.
TEST_P(Eviction, EvictedKeysAreIndistinguishable) {
    const oracle::Family f = GetParam();
    uint64_t evictions = 0, detections = 0;
    for (uint64_t i = 0; i < kCases; ++i) {
        const uint64_t seed = 777 + static_cast<uint64_t>(f) * 1000003ULL + i;
        oracle::Case c = oracle::generate_case(f, seed);
        auto [kept, kept_stats] = run_case(c, false);
        auto [evicted, evicted_stats] = run_case(c, true);
        EXPECT_EQ(kept_stats.evictions, 0u);
        evictions += evicted_stats.evictions;
        detections += kept.size();
        ASSERT_EQ(kept, evicted) << oracle::family_name(f) << " seed " << seed << "\n"
                                 << oracle::dump_rules(c.rs) << oracle::dump_events(c.rs, c.events);
        ASSERT_EQ(kept_stats.partial_matches, evicted_stats.partial_matches) << "seed " << seed;
        ASSERT_LE(evicted_stats.live_keys, kept_stats.live_keys) << "seed " << seed;
        if (i % 10 == 0) { // and through the parallel runtime, each shard evicting on its own watermark
            ir::StringPool pool;
            ir::seed_string_pool(c.rs, pool);
            const std::string jsonl = to_jsonl(c.rs, pool, c.events);
            RunConfig cfg;
            cfg.exec.max_partial_matches = c.max_partial_matches;
            cfg.exec.evict_idle_keys = false;
            const RunOutput one = run_stream(c.rs, jsonl, cfg);
            cfg.exec.evict_idle_keys = true;
            cfg.threads = 2;
            const RunOutput p = run_stream(c.rs, jsonl, cfg);
            ASSERT_TRUE(one.ok && p.ok);
            ASSERT_EQ(sorted_lines(one.detections), sorted_lines(p.detections)) << "seed " << seed;
            ASSERT_EQ(sorted_lines(one.suppressed), sorted_lines(p.suppressed)) << "seed " << seed;
        }
    }
    std::cout << oracle::family_name(f) << ": " << kCases << " cases, " << detections << " detections, "
              << evictions << " evictions\n";
    // Families whose rules all have time bounds must evict (else the test proves nothing for them).
    if (f == oracle::Family::Window || f == oracle::Family::Session || f == oracle::Family::Within) {
        EXPECT_GT(evictions, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, Eviction, ::testing::ValuesIn(oracle::all_families()),
                         [](const ::testing::TestParamInfo<oracle::Family>& info) {
                             return std::string(oracle::family_name(info.param));
                         });

// Sessions that stay open, with a rule over them, and a pattern without `within`: nothing is evictable.
struct Hostile {
    IrBuilder b;
    uint16_t a, z;
    Hostile() {
        a = b.event("a");
        z = b.event("z");
        uint32_t s = b.session("visit", 60 * kMin);
        b.threshold("visit_end", interp::testing::over_session(s, b.b(true), true));
        b.pattern("a_then_z", {interp::testing::pos("x", {a}), interp::testing::pos("y", {z})});
    }
};

TEST(StateBudget, VeryManyKeysStayUnderTheBudget) {
    Hostile h;
    ir::ExecutorOptions o;
    o.max_state_bytes = 256 * 1024;
    Runner r(h.b.rs, o);
    const int keys = 40000;
    uint64_t peak_seen = 0;
    for (int i = 0; i < keys; ++i) {
        r.ev(h.a, fmt::format("k{}", i), i * kSec / 100);
        peak_seen = std::max(peak_seen, r.exec->stats().state_bytes);
    }
    const ir::ExecutorStats s = r.exec->stats();
    std::cout << "many keys: " << s.live_keys << " live of " << keys << ", " << s.state_bytes << " bytes ("
              << s.state_bytes / std::max<uint64_t>(1, s.live_keys) << " per key), peak "
              << s.peak_state_bytes << ", " << s.budget_drops << " budget drops\n";
    EXPECT_LE(peak_seen, o.max_state_bytes);
    // The accounting's peak includes the moment before a drop: one key's growth over the budget at most.
    EXPECT_LE(s.peak_state_bytes, o.max_state_bytes + 4096);
    EXPECT_GT(s.budget_drops, 0u);
    EXPECT_EQ(s.budget_drops + s.live_keys, static_cast<uint64_t>(keys));
    EXPECT_GT(s.live_keys, 100u); // the budget is used, not emptied
}

TEST(StateBudget, OneKeyWithVeryManyPartialMatchesStaysUnderTheBudget) {
    Hostile h;
    ir::ExecutorOptions o;
    o.max_partial_matches = 10'000'000; // the cap does not help: only the budget bounds this key
    o.max_state_bytes = 128 * 1024;
    Runner r(h.b.rs, o);
    const int events = 6000;
    for (int i = 0; i < events; ++i) r.ev(h.a, "hot", i * kSec / 100);
    const ir::ExecutorStats s = r.exec->stats();
    std::cout << "one hot key: " << s.partial_matches << " partial matches, " << s.state_bytes
              << " bytes, peak " << s.peak_state_bytes << ", " << s.budget_drops << " budget drops\n";
    EXPECT_LE(s.state_bytes, o.max_state_bytes);
    EXPECT_LE(s.peak_state_bytes, o.max_state_bytes + 4096);
    EXPECT_GT(s.budget_drops, 0u);
    // Without the budget the same stream holds every match.
    Runner unbounded(h.b.rs, ir::ExecutorOptions{10'000'000, 100000, true, 0});
    for (int i = 0; i < 1500; ++i) unbounded.ev(h.a, "hot", i * kSec / 100);
    EXPECT_EQ(unbounded.exec->stats().partial_matches, 1500u);
    EXPECT_GT(unbounded.exec->stats().state_bytes, 1500u * 100);
}

// Bytes per key: accounting follows the state as it grows and shrinks, and eviction frees it all.
TEST(StateAccounting, FollowsStateAndEviction) {
    IrBuilder b;
    uint16_t a = b.event("a");
    uint32_t s = b.session("visit", 5 * kMin);
    b.threshold("visit_end", interp::testing::over_session(s, b.b(true), true));
    Runner r(b.rs);
    for (int i = 0; i < 100; ++i) r.ev(a, fmt::format("k{}", i), i * kSec);
    ir::ExecutorStats st = r.exec->stats();
    EXPECT_EQ(st.live_keys, 100u);
    const uint64_t per_key = st.state_bytes / st.live_keys;
    EXPECT_GT(per_key, 100u);
    EXPECT_LT(per_key, 2000u);
    r.watermark(100 * kSec + 5 * kMin + 1); // every session closes, then every key is idle past the gap
    r.watermark(100 * kSec + 10 * kMin + 2);
    st = r.exec->stats();
    EXPECT_EQ(r.sink.out.size(), 100u);
    EXPECT_EQ(st.live_keys, 0u);
    EXPECT_EQ(st.evictions, 100u);
    EXPECT_EQ(st.state_bytes, 0u);
}

// Under a budget the accounting is incremental (per event, per timer, per eviction); without one stats()
// sums the keys. The incremental total must equal the sum at every step of a stream with sessions, windows
// and partial matches. The run without a budget keeps less: a key with an open session has no entry in
// the activity queue (12 bytes) until the session closes.
TEST(StateAccounting, IncrementalEqualsRecomputed) {
    IrBuilder b;
    uint16_t a = b.event("a"), z = b.event("z");
    uint32_t s = b.session("visit", 2 * kMin);
    b.threshold("visit_end", interp::testing::over_session(s, b.b(true), true));
    b.threshold("burst", interp::testing::window(1 * kMin, b.b(false)));
    b.pattern("a_then_z", {interp::testing::pos("x", {a}), interp::testing::pos("y", {z})}, 3 * kMin);
    ir::ExecutorOptions budget;
    budget.max_state_bytes = uint64_t{1} << 40; // never reached
    Runner inc(b.rs, budget), sum(b.rs);
    for (int i = 0; i < 3000; ++i) {
        const uint16_t t = (i * 7) % 3 == 0 ? z : a;
        const std::string key = fmt::format("k{}", (i * 13) % 37);
        const int64_t time = i * 5 * kSec;
        inc.ev(t, key, time);
        sum.ev(t, key, time);
        if (i % 100 == 0) {
            const ir::ExecutorStats x = inc.exec->stats(), y = sum.exec->stats();
            ASSERT_EQ(x.state_bytes,
                      static_cast<const interp::Interpreter&>(*inc.exec).recomputed_state_bytes())
                << "after event " << i;
            ASSERT_LE(y.state_bytes, x.state_bytes);
            ASSERT_GE(y.state_bytes + x.live_keys * sizeof(interp::Activity), x.state_bytes);
            ASSERT_EQ(x.live_keys, y.live_keys);
            ASSERT_GE(x.peak_state_bytes, x.state_bytes);
        }
    }
    EXPECT_GT(sum.exec->stats().evictions, 0u);
    EXPECT_EQ(inc.sink.out.size(), sum.sink.out.size());
}

} // namespace
} // namespace ethogram::parallel_test
