// groups_ids_test.cpp: pins for docs/semantics.md §5 (exclusive groups) and §6 (detection ids).
#include "tests/semantics/semantics_harness.h"

#include <gtest/gtest.h>

namespace ethogram::semantics_test {
namespace {

std::string with(const std::string& body) {
    return prelude() + body;
}

const char* kGroupRules = R"(
rule low { label t; over last 1 events; on A; when count(A) >= 1; }
rule high { label t; over last 1 events; on A; when count(A) >= 1; }
rule tie { label t; over last 1 events; on A; when count(A) >= 1; }
exclusive g { low priority 1; high priority 5; tie priority 5; }
)";

// §5 "Detections of rules in one exclusive group for the same key, produced while processing one event
// ..., are resolved: the highest priority is emitted, ties by declaration order; the others go to the
// suppressed output with suppressed_by naming the winner."
TEST(SemanticsGroups, HighestPriorityWinsTiesByDeclarationOrder) {
    Harness h(with(kGroupRules));
    h.ev("A", "u1", 0);
    h.run(/*check_oracle=*/false); // the oracle has no groups
    ASSERT_EQ(h.emitted().size(), 1u);
    EXPECT_EQ(h.rules().rules[h.emitted()[0].rule].name, "high");
    ASSERT_EQ(h.suppressed().size(), 2u);
    for (const auto& d : h.suppressed()) EXPECT_EQ(h.rules().rules[d.suppressed_by].name, "high");
}

// §5 "for the same key": detections of different keys do not compete.
TEST(SemanticsGroups, DifferentKeysDoNotCompete) {
    Harness h(with(R"(
rule low { label t; over last 1 events; on A; when count(A) >= 1; }
rule high { label t; over last 1 events; on B; when count(B) >= 1; }
exclusive g { low priority 1; high priority 5; }
)"));
    h.ev("A", "u1", 0);
    h.ev("B", "u2", 0);
    h.run(false);
    EXPECT_EQ(h.emitted().size(), 2u);
    EXPECT_TRUE(h.suppressed().empty());
}

// §5 "produced while processing one event": detections on different events do not compete.
TEST(SemanticsGroups, DifferentEventsDoNotCompete) {
    Harness h(with(R"(
rule low { label t; over last 1 events; on A; when count(A) >= 1; }
rule high { label t; over last 1 events; on B; when count(B) >= 1; }
exclusive g { low priority 1; high priority 5; }
)"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 0);
    h.run(false);
    EXPECT_EQ(h.emitted().size(), 2u);
}

// §6 "id = 64-bit FNV-1a over the rule name, key and the sequence numbers of the bound events: the same
// match gets the same id in every run." Different matches get different ids.
TEST(SemanticsIds, StableAcrossRunsAndDistinct) {
    auto run = [] {
        Harness h(with("rule ab { label t; pattern a: A -> b: B; }\n"));
        h.ev("A", "u1", 0);
        h.ev("B", "u1", 1);
        h.ev("A", "u2", 2);
        h.ev("B", "u2", 3);
        h.run();
        std::vector<uint64_t> ids;
        for (const auto& d : h.emitted()) ids.push_back(d.id);
        return ids;
    };
    auto first = run(), second = run();
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first, second);
    EXPECT_NE(first[0], first[1]);
}

} // namespace
} // namespace ethogram::semantics_test
