// jit_differential_test.cpp: random rule sets and streams (tests/oracle's generators, every family),
// run through the interpreter and the JIT side by side: detections must be byte-identical.
#include "tests/jit/engine_pair.h"
#include "tests/oracle/diff_harness.h"
#include "tests/oracle/random_rules.h"

#include <gtest/gtest.h>

#include <iostream>

namespace ethogram::jit_test {
namespace {

using oracle::Family;

// Per family; ETHOGRAM_JIT_DIFF_CASES overrides it (the nightly-style run: e.g. 20000).
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kCases = 15;
#else
constexpr uint64_t kCases = 60;
#endif

struct Null : ir::DetectionSink {
    void emit(ir::Detection&&) override { ++n; }
    void suppressed(ir::Detection&&) override { ++n; }
    uint64_t n = 0;
};

class JitDifferential : public ::testing::TestWithParam<Family> {};

TEST_P(JitDifferential, JitEqualsInterpreter) {
    const uint64_t cases = oracle::env_u64("ETHOGRAM_JIT_DIFF_CASES", kCases);
    const uint64_t base = oracle::env_u64("ETHOGRAM_DIFF_SEED", 20261129);
    const Family f = GetParam();
    uint64_t mismatches = 0, detections = 0, with_detections = 0;
    // Every automatic level and O1: cases cycle through level 2 (optimising, small rule sets), 1 (O1 +
    // fast instruction selection) and 0 (no IR pipeline: the automatic level of large rule sets).
    const uint64_t forced_opt = oracle::env_u64("ETHOGRAM_JIT_DIFF_OPT", 99);
    for (uint64_t i = 0; i < cases; ++i) {
        jit::JitOptions jopts;
        jopts.opt_level = forced_opt <= 3 ? static_cast<int>(forced_opt) : static_cast<int>(2 - i % 3);
        const uint64_t seed = base * 7919ULL + static_cast<uint64_t>(f) * 1000003ULL + i;
        oracle::Case c = oracle::generate_case(f, seed);
        ir::StringPool pool;
        ir::seed_string_pool(c.rs, pool);
        ir::ExecutorOptions opts;
        if (c.max_partial_matches != UINT32_MAX) opts.max_partial_matches = c.max_partial_matches;
        std::string error;
        auto pair = EnginePair::make(c.rs, pool, opts, error, jopts);
        if (!pair) {
            ADD_FAILURE() << "seed " << seed << ": the JIT rejected a valid rule set: " << error << "\n"
                          << oracle::dump_rules(c.rs);
            if (++mismatches > 3) break;
            continue;
        }
        Null sink;
        for (const ir::Event& e : c.events) {
            pair->advance_watermark(e.time, sink);
            pair->on_event(e, sink);
        }
        pair->advance_watermark(ir::kTimeInfinity, sink);
        detections += pair->compared();
        with_detections += pair->compared() > 0;
        if (pair->mismatch().empty()) continue;
        if (++mismatches <= 3)
            ADD_FAILURE() << "family " << oracle::family_name(f) << " seed " << seed << ": "
                          << pair->mismatch() << "\nrules:\n"
                          << oracle::dump_rules(c.rs) << "events:\n"
                          << oracle::dump_events(c.rs, c.events);
    }
    EXPECT_EQ(mismatches, 0u) << "of " << cases << " cases of family " << oracle::family_name(f);
    std::cout << "family " << oracle::family_name(f) << ": " << cases << " cases, " << detections
              << " detections compared (" << with_detections << " cases with detections)\n";
    EXPECT_GE(with_detections * 10, cases) << "fewer than 10% of the cases detect anything";
}

INSTANTIATE_TEST_SUITE_P(Families, JitDifferential, ::testing::ValuesIn(oracle::all_families()),
                         [](const ::testing::TestParamInfo<Family>& info) {
                             return std::string(oracle::family_name(info.param));
                         });

} // namespace
} // namespace ethogram::jit_test
