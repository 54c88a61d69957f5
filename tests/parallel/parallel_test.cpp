// parallel_test.cpp: the parallel runtime against the single-threaded one: random rule sets and streams
// from tests/oracle's generators (threads 1 vs 2 vs 4, multiset and ordered), dead letters and late
// events, backpressure with a slow sink, watermarks reaching shards that see no events.
#include "tests/interp/ir_builder.h"
#include "tests/oracle/random_rules.h"
#include "tests/parallel/parallel_harness.h"

#include "runtime/time.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

namespace ethogram::parallel_test {
namespace {

using interp::testing::kMin;
using interp::testing::kSec;

// Cases per family: every family's streams through five runs each. TSan is ~10x slower.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kCases = 6;
#else
constexpr uint64_t kCases = 30;
#endif

uint64_t cases() {
    const char* v = std::getenv("ETHOGRAM_PARALLEL_CASES");
    return v && *v ? std::strtoull(v, nullptr, 10) : kCases;
}

// Arrival disorder and bad lines: swaps neighbours (some become late under a small lateness) and
// inserts lines that are not events, so that dead letters and seq numbers are exercised too.
std::string perturb(std::string jsonl, uint64_t seed) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < jsonl.size()) {
        size_t nl = jsonl.find('\n', start);
        lines.push_back(jsonl.substr(start, nl - start));
        start = nl + 1;
    }
    std::mt19937_64 rng(seed);
    for (size_t i = 1; i < lines.size(); ++i)
        if (rng() % 4 == 0) std::swap(lines[i - 1], lines[i]);
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (rng() % 23 == 0) out += "{not json\n";
        if (rng() % 29 == 0) out += "{\"type\":\"no_such_type\"}\n";
        if (rng() % 31 == 0) out += "\n";
        out += lines[i] + "\n";
    }
    return out;
}

class RandomStreams : public ::testing::TestWithParam<oracle::Family> {};

TEST_P(RandomStreams, ThreadCountsAgree) {
    const oracle::Family f = GetParam();
    uint64_t detections = 0;
    for (uint64_t i = 0; i < cases(); ++i) {
        const uint64_t seed = 4242 + static_cast<uint64_t>(f) * 100003ULL + i;
        oracle::Case c = oracle::generate_case(f, seed);
        ir::StringPool pool;
        ir::seed_string_pool(c.rs, pool);
        std::string jsonl = to_jsonl(c.rs, pool, c.events);
        RunConfig cfg;
        cfg.exec.max_partial_matches = c.max_partial_matches;
        if (i % 2 == 1) {
            jsonl = perturb(jsonl, seed);
            cfg.lateness_us = (i % 4 == 1) ? 0 : 30 * kSec;
        }
        // Small chunks and queues so that chunk boundaries fall everywhere (by lines, or by bytes: then a
        // chunk can end mid-stream on any line, and a line can be longer than a chunk).
        cfg.parallel.chunk_lines = 1 + static_cast<uint32_t>(i % 7) * 3;
        cfg.parallel.chunk_bytes = i % 5 == 0 ? 64 + static_cast<uint32_t>(i % 3) * 100 : 1u << 20;
        cfg.parallel.queue_chunks = 1 + static_cast<uint32_t>(i % 3);

        cfg.threads = 1;
        const RunOutput one = run_stream(c.rs, jsonl, cfg);
        ASSERT_TRUE(one.ok) << one.error;
        detections += one.summary.detections;
        const std::string expected_ordered = by_time_then_key(one.detections);
        const std::string expected_ordered_sup = by_time_then_key(one.suppressed);
        for (uint32_t threads : {2u, 4u}) {
            cfg.threads = threads;
            cfg.ordered = false;
            const RunOutput multi = run_stream(c.rs, jsonl, cfg);
            std::string why = compare_runs(one, multi, false);
            ASSERT_TRUE(why.empty()) << oracle::family_name(f) << " seed " << seed << " threads " << threads
                                     << ":\n"
                                     << why << oracle::dump_rules(c.rs) << jsonl;
            cfg.ordered = true;
            const RunOutput ordered = run_stream(c.rs, jsonl, cfg);
            why = compare_runs(one, ordered, false);
            ASSERT_TRUE(why.empty()) << "ordered, seed " << seed << ":\n" << why;
            ASSERT_EQ(ordered.detections, expected_ordered)
                << "ordered, seed " << seed << " threads " << threads;
            ASSERT_EQ(ordered.suppressed, expected_ordered_sup) << "ordered, seed " << seed;
        }
    }
    std::cout << oracle::family_name(f) << ": " << cases() << " cases, " << detections << " detections\n";
}

INSTANTIATE_TEST_SUITE_P(Families, RandomStreams, ::testing::ValuesIn(oracle::all_families()),
                         [](const ::testing::TestParamInfo<oracle::Family>& info) {
                             return std::string(oracle::family_name(info.param));
                         });

// A rule set with every time-based trigger: a trailing absence, a session gap, a pattern window.
struct TimeRules {
    interp::testing::IrBuilder b;
    uint16_t cart, buy, ping;
    TimeRules() {
        cart = b.event("cart");
        buy = b.event("buy");
        ping = b.event("ping");
        b.pattern("abandon",
                  {interp::testing::pos("c", {cart}), interp::testing::absent("p", {buy}, 10 * kMin)});
        uint32_t s = b.session("visit", 5 * kMin, -1, {cart, buy});
        b.threshold("visit_end", interp::testing::over_session(s, b.b(true), true));
        b.pattern("cart_then_buy", {interp::testing::pos("c", {cart}), interp::testing::pos("b", {buy})},
                  3 * kMin);
    }
};

std::string ev(const std::string& type, const std::string& key, int64_t t) {
    return "{\"type\":\"" + type + "\",\"key\":\"" + key + "\",\"ts\":\"" + runtime::format_rfc3339(t) +
           "\"}\n";
}

// Key "k" shows up once; the time passes only through other keys' events, most on other shards. Its
// absence and session gap must fire at their deadlines (not at end of input), in the same order.
TEST(ParallelWatermark, TimersFireOnShardsThatSeeNoEvents) {
    TimeRules r;
    const int64_t t0 = 1'800'000'000LL * kSec;
    std::string jsonl = ev("cart", "k", t0);
    for (int m = 1; m <= 30; ++m)
        for (int u = 0; u < 8; ++u) jsonl += ev("ping", fmt::format("u{}", u), t0 + m * kMin + u * kSec);
    jsonl += ev("cart", "late_cart", t0 + 31 * kMin); // its session ends and absence fires at end of input
    RunConfig cfg;
    const RunOutput one = run_stream(r.b.rs, jsonl, cfg);
    ASSERT_TRUE(one.ok);
    ASSERT_EQ(one.summary.detections, 4u) << one.detections;
    for (uint32_t threads : {2u, 3u, 4u}) {
        cfg.threads = threads;
        cfg.ordered = true;
        cfg.parallel.chunk_lines = 4;
        const RunOutput p = run_stream(r.b.rs, jsonl, cfg);
        EXPECT_EQ(compare_runs(one, p, true), "") << "threads " << threads;
        EXPECT_EQ(p.detections, one.detections);
    }
}

// The shard alone: a watermark with no events of the shard's keys fires the key's timers.
TEST(ParallelWatermark, ShardFiresTimersOnAWatermarkOnly) {
    TimeRules r;
    const int64_t t0 = 1'800'000'000LL * kSec;
    runtime::ExecutorFactory make = [](const ir::RuleSet& rs, ir::StringPool& p) {
        return interp::make_interpreter(rs, p);
    };
    runtime::Shard shard(0, r.b.rs, make, runtime::OutputOptions{}, true, false);
    ir::Event e;
    e.type = r.cart;
    e.key = shard.pool().intern("k");
    e.time = t0;
    e.fields = {ir::Value::string(e.key), ir::Value::timestamp(t0)};
    shard.on_event(e);
    EXPECT_TRUE(shard.advance(t0));                // the frontier moves with advance() only, not with events
    EXPECT_FALSE(shard.advance(t0));               // already there
    EXPECT_EQ(shard.take(false), nullptr);         // nothing to say yet
    EXPECT_TRUE(shard.advance(t0 + 5 * kMin + 1)); // past the session gap, not past the absence
    auto out = shard.take(false);
    ASSERT_NE(out, nullptr);
    EXPECT_NE(out->detections.find("\"rule\":\"visit_end\""), std::string::npos) << out->detections;
    EXPECT_EQ(out->detections.find("abandon"), std::string::npos);
    EXPECT_EQ(out->frontier, t0 + 5 * kMin + 1);
    EXPECT_TRUE(shard.advance(ir::kTimeInfinity));
    out = shard.take(true);
    ASSERT_NE(out, nullptr);
    EXPECT_TRUE(out->end);
    EXPECT_NE(out->detections.find("\"rule\":\"abandon\""), std::string::npos) << out->detections;
    EXPECT_EQ(shard.processed(), 1u);
    EXPECT_EQ(shard.emitted(), 2u);
}

// A slow sink: every block's write sleeps. The reader must wait (bounded queues), so that the lines in
// flight stay under a bound that does not depend on the input size, and nothing is lost.
TEST(ParallelBackpressure, SlowSinkBoundsEventsInFlight) {
    TimeRules r;
    const int64_t t0 = 1'800'000'000LL * kSec;
    std::string jsonl;
    const int events = 8000;
    for (int i = 0; i < events; ++i)
        jsonl += ev(i % 3 == 0 ? "cart" : (i % 3 == 1 ? "buy" : "ping"), fmt::format("u{}", i % 97),
                    t0 + i * kSec);
    RunConfig cfg;
    const RunOutput one = run_stream(r.b.rs, jsonl, cfg);
    ASSERT_TRUE(one.ok);
    cfg.threads = 2;
    cfg.parallel.chunk_lines = 16;
    cfg.parallel.queue_chunks = 1;
    uint64_t blocks = 0;
    cfg.parallel.before_write = [&blocks](std::string_view) {
        ++blocks;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    };
    const RunOutput p = run_stream(r.b.rs, jsonl, cfg);
    EXPECT_EQ(compare_runs(one, p, false), "");
    EXPECT_GT(blocks, 100u);
    EXPECT_LE(p.stats.inflight_high_water, p.stats.inflight_bound);
    // The queue's chunk, plus the one each shard walks, the one it took to parse ahead, and the reader's.
    EXPECT_EQ(p.stats.inflight_bound, (1u + 3u) * 16u);
    EXPECT_LT(p.stats.inflight_bound * 100, static_cast<uint64_t>(events));
    EXPECT_EQ(p.stats.chunks, static_cast<uint64_t>(events) / 16);
    std::cout << "in flight at most " << p.stats.inflight_high_water << " lines (bound "
              << p.stats.inflight_bound << ") of " << events << "; " << blocks << " blocks written\n";
}

// Outputs left by a previous run, longer than this run's: the parallel pipeline cuts them on a thread of its
// own while the shards start (holding their text meanwhile); the files must end up as a fresh run's.
TEST(ParallelOutputs, ReplacesAPreviousLongerOutput) {
    TimeRules r;
    const int64_t t0 = 1'800'000'000LL * kSec;
    std::string jsonl;
    for (int i = 0; i < 4000; ++i)
        jsonl += ev(i % 3 == 0 ? "cart" : (i % 3 == 1 ? "buy" : "ping"), fmt::format("u{}", i % 97),
                    t0 + i * kSec);
    jsonl += "{not json\n";
    RunConfig cfg;
    const RunOutput one = run_stream(r.b.rs, jsonl, cfg);
    ASSERT_TRUE(one.ok);
    ASSERT_GT(one.summary.detections, 0u);
    cfg.threads = 2;
    cfg.parallel.chunk_lines = 64;
    for (bool ordered : {false, true}) {
        cfg.ordered = ordered;
        const RunOutput fresh = run_stream(r.b.rs, jsonl, cfg);
        cfg.stale_output = std::string(size_t{24} << 20, 'x') + "\n"; // 24 MiB: cut in milliseconds
        const RunOutput over = run_stream(r.b.rs, jsonl, cfg);
        cfg.stale_output.clear();
        ASSERT_TRUE(over.ok) << over.error;
        EXPECT_EQ(compare_runs(one, over, false), "") << "ordered " << ordered;
        EXPECT_EQ(over.detections.find("xxxx"), std::string::npos);
        if (ordered) {
            EXPECT_EQ(over.detections, fresh.detections);
            EXPECT_EQ(over.suppressed, fresh.suppressed);
        }
        EXPECT_EQ(over.dead, fresh.dead);
    }
}

TEST(ParallelRouting, KeysSpreadOverShardsAndStayPut) {
    std::vector<uint32_t> per(4, 0);
    for (int i = 0; i < 4000; ++i) ++per[runtime::shard_of(std::to_string(1000 + i), 4)];
    for (uint32_t c : per) EXPECT_GT(c, 800u) << "shard_of spreads decimal keys badly";
    EXPECT_EQ(runtime::shard_of("abc", 4), runtime::shard_of("abc", 4));
    EXPECT_EQ(runtime::shard_of("abc", 1), 0u);
}

TEST(ParallelErrors, MissingInputIsAnError) {
    TimeRules r;
    runtime::PipelineOptions o;
    o.events_path = "/nonexistent/events.jsonl";
    o.print_summary = false;
    runtime::ExecutorFactory make = [](const ir::RuleSet& rs, ir::StringPool& p) {
        return interp::make_interpreter(rs, p);
    };
    auto s = runtime::run_parallel_pipeline(r.b.rs, make, o, runtime::ParallelOptions{});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("/nonexistent/events.jsonl"), std::string::npos) << s.error();
}

} // namespace
} // namespace ethogram::parallel_test
