// differential_test.cpp: random rule sets and streams, oracle vs reference interpreter, per family.
#include "tests/oracle/diff_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace ethogram::oracle {
namespace {

uint64_t case_seed(uint64_t base, Family f, uint64_t i) {
    return base * 1000003ULL + static_cast<uint64_t>(f) * 100000007ULL + i;
}

class Differential : public ::testing::TestWithParam<Family> {};

TEST_P(Differential, OracleAgreesWithInterpreter) {
    const uint64_t cases = env_u64("ETHOGRAM_DIFF_CASES", kDefaultCases);
    const uint64_t base = env_u64("ETHOGRAM_DIFF_SEED", 20261129);
    const Family f = GetParam();
    std::cout << "family " << family_name(f) << ": " << cases << " cases, ETHOGRAM_DIFF_SEED=" << base
              << "\n";
    uint64_t mismatches = 0, expected_total = 0, cases_with_detections = 0;
    for (uint64_t i = 0; i < cases; ++i) {
        uint64_t seed = case_seed(base, f, i);
        Case c = generate_case(f, seed);
        size_t n = expected_detections(c.rs, c.events, c.max_partial_matches).size();
        expected_total += n;
        cases_with_detections += n > 0;
        if (compare_case(c).empty()) continue;
        if (++mismatches <= 3) ADD_FAILURE() << reproduction(f, seed, c);
    }
    EXPECT_EQ(mismatches, 0u) << "of " << cases << " cases of family " << family_name(f);
    // The generator must make matches happen, or the comparison says little.
    std::cout << "  expected detections: " << expected_total << " in " << cases_with_detections << " cases\n";
    EXPECT_GE(cases_with_detections * 10, cases) << "fewer than 10% of the cases detect anything";
}

INSTANTIATE_TEST_SUITE_P(Families, Differential, ::testing::ValuesIn(all_families()),
                         [](const ::testing::TestParamInfo<Family>& info) {
                             return std::string(family_name(info.param));
                         });

} // namespace
} // namespace ethogram::oracle
