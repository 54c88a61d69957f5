// adversarial_test.cpp: issue 4's bounded-state adversaries, scaled down (bench/adversarial_state.sh runs
// them at benchmark size): the interpreter's accounted state never exceeds --max-state-bytes after an event,
// the drops are counted, and the budget warning is logged once.
#include "bench/adversarial_workload.h"

#include <gtest/gtest.h>

#include <iostream>

namespace ethogram::bench {
namespace {

void print(const char* what, const AdversarialReport& r) {
    std::cout << what << ": " << r.events << " events, " << r.keys << " keys, budget " << r.budget
              << " B, peak accounted " << r.peak_accounted << " B (transient " << r.peak_transient
              << " B), live keys " << r.live_keys << ", overflow drops " << r.overflow_drops
              << ", budget drops " << r.budget_drops << ", warnings " << r.budget_warnings << ", "
              << r.seconds << " s\n";
}

TEST(Adversarial, OneKeyWhoseEventsAllStartPartialMatches) {
    AdversarialOptions o;
    o.events = 200000;
    o.keys = 1;
    o.max_state_bytes = 256 * 1024;
    o.max_partial_matches = 20; // the cap overflows too (and keeps the test fast)
    o.max_scope_events = 5000;
    auto r = run_adversarial(o);
    ASSERT_TRUE(r) << r.error();
    print("one key", *r);
    EXPECT_EQ(r->over_budget, 0u) << "accounted state above the budget after " << r->over_budget << " events";
    EXPECT_LE(r->peak_accounted, o.max_state_bytes);
    EXPECT_GT(r->peak_accounted, o.max_state_bytes / 2) << "the adversary must press on the budget";
    EXPECT_GT(r->budget_drops, 0u);
    EXPECT_GT(r->overflow_drops, 0u);
    EXPECT_EQ(r->budget_warnings, 1u);
    EXPECT_NE(r->first_warning.find("262144 bytes"), std::string::npos) << r->first_warning;
    EXPECT_LE(r->live_keys, 1u);
}

TEST(Adversarial, EveryEventANewKey) {
    AdversarialOptions o;
    o.events = 200000;
    o.keys = o.events;
    o.max_state_bytes = 1024 * 1024;
    auto r = run_adversarial(o);
    ASSERT_TRUE(r) << r.error();
    print("distinct keys", *r);
    EXPECT_EQ(r->over_budget, 0u);
    EXPECT_LE(r->peak_accounted, o.max_state_bytes);
    EXPECT_GT(r->peak_accounted, o.max_state_bytes / 2);
    // Each key's state is a few hundred bytes: most of the 200k keys had to go.
    EXPECT_GT(r->budget_drops, o.events / 2);
    EXPECT_LT(r->live_keys, o.events / 10);
    EXPECT_EQ(r->live_keys + r->budget_drops + r->evictions, o.keys);
    EXPECT_EQ(r->budget_warnings, 1u);
}

TEST(Adversarial, WithoutABudgetNothingIsDroppedOrWarned) {
    AdversarialOptions o;
    o.events = 20000;
    o.keys = o.events;
    auto r = run_adversarial(o);
    ASSERT_TRUE(r) << r.error();
    print("no budget", *r);
    EXPECT_EQ(r->budget_drops, 0u);
    EXPECT_EQ(r->budget_warnings, 0u);
    EXPECT_EQ(r->live_keys, o.keys);
    // The baseline the budgets above cut down: 20k keys already hold several MiB.
    EXPECT_GT(r->final_bytes, 2u * 1024 * 1024);
}

} // namespace
} // namespace ethogram::bench
