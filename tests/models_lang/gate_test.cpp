// gate_test.cpp: minimum evidence, the model / fallback decision, and what a detection records of it
// (docs/semantics.md section 7).
#include "tests/models_lang/lang_harness.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ethogram::models_lang_test {
namespace {

class Gate : public ::testing::Test {
protected:
    void SetUp() override { chain = write_markov(make_temp_dir("gate")); }
    std::string model(int min_evidence) {
        return "model m: markov { path \"" + chain + "\"; observe A.s; min_evidence " +
               std::to_string(min_evidence) + "; }\n";
    }
    std::string chain;
};

// Surprise of b after a is log2(64/3) = 4.42 bits, after <s> log2(32/3) = 3.42, of a after a 0.14.
TEST_F(Gate, FallbackDecidesBelowMinimumEvidence) {
    RuleRun r(
        prelude() + model(3) +
        "rule r { label t; on A; when surprise(m) > 4; fallback when A.x > 100; emit s = surprise(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "b", 200); // evidence 1 < 3: fallback, x > 100 holds
    r.ev("A", "k", 2, "a", 0);   // fallback, false
    r.ev("A", "k", 3, "b", 0);   // evidence 3: the model decides, 4.42 bits > 4
    r.ev("A", "k", 4, "a", 500); // model: a after b is likely; x is not looked at
    r.finish();
    ASSERT_EQ(r.out().size(), 2u);
    EXPECT_EQ(r.out()[0].decision, "fallback");
    EXPECT_NEAR(r.num(r.out()[0], "s"), -std::log2(3.0 / 32), 1e-12);
    EXPECT_EQ(r.out()[1].decision, "model");
    EXPECT_NEAR(r.num(r.out()[1], "s"), std::log2(64.0 / 3), 1e-12);
    // The explanation: the rule's models with the key's evidence and scores when it fired.
    ASSERT_EQ(r.out()[1].models.size(), 1u);
    EXPECT_EQ(r.out()[1].models[0].evidence, 3u);
    EXPECT_TRUE(r.out()[1].models[0].confident);
    EXPECT_NEAR(r.out()[1].models[0].surprise, std::log2(64.0 / 3), 1e-12);
    EXPECT_FALSE(r.out()[0].models[0].confident);
}

TEST_F(Gate, NoFallbackMeansNoDecision) {
    for (const char* clause : {"", "fallback none;"}) {
        RuleRun r(prelude() + model(3) + "rule r { label t; on A; when surprise(m) > 3; " + clause + " }\n");
        ASSERT_TRUE(r.ok()) << r.diagnostics();
        r.ev("A", "k", 1, "b"); // 3.42 bits but evidence 1
        r.ev("A", "k", 2, "b"); // evidence 2: 3 bits (b after b is 1/8), no decision anyway
        r.ev("A", "k", 3, "a");
        r.ev("A", "k", 4, "b"); // evidence 4, 4.42 bits
        r.finish();
        ASSERT_EQ(r.out().size(), 1u) << clause;
        EXPECT_EQ(r.out()[0].decision, "model");
        EXPECT_EQ(r.out()[0].bindings[0].events[0].seq, 4u);
    }
}

TEST_F(Gate, EdgeTriggeringSpansBothPaths) {
    // The rule's value is the value of whichever path decided: true on the fallback path, then true on
    // the model path is no new edge.
    RuleRun r(prelude() + model(2) +
              "rule r { label t; on A; when surprise(m) > 4; fallback when A.x > 0; }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "a", 1); // fallback: true, fires
    r.ev("A", "k", 2, "b", 0); // model (evidence 2): 4.42 bits, still true: no new detection
    r.ev("A", "k", 3, "a", 0); // model: false
    r.ev("A", "k", 4, "b", 0); // model: true again, fires
    r.finish();
    ASSERT_EQ(r.out().size(), 2u);
    EXPECT_EQ(r.out()[0].decision, "fallback");
    EXPECT_EQ(r.out()[1].decision, "model");
    EXPECT_EQ(r.out()[1].bindings[0].events[0].seq, 4u);
}

TEST_F(Gate, EvidenceAndConfidentDoNotGate) {
    RuleRun r(prelude() + model(5) +
              "rule r { label t; on A; when evidence(m) == 2 and not confident(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "a");
    r.ev("A", "k", 2, "a");
    r.finish();
    ASSERT_EQ(r.out().size(), 1u);
    EXPECT_EQ(r.out()[0].decision, ""); // no gate: a plain rule
    ASSERT_EQ(r.out()[0].models.size(), 0u);
}

TEST_F(Gate, PatternStepsNeedTheEvidence) {
    RuleRun r(prelude() + model(3) +
              "rule r { label t; pattern e: A where surprise(m) > 4; emit n = evidence(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "a");
    r.ev("A", "k", 2, "b"); // 4.42 bits, but evidence 2
    r.ev("A", "k", 3, "a");
    r.ev("A", "k", 4, "b"); // 4.42 bits with evidence 4
    r.finish();
    ASSERT_EQ(r.out().size(), 1u);
    EXPECT_EQ(r.out()[0].decision, "model");
    EXPECT_EQ(r.num(r.out()[0], "n"), 4);
}

TEST_F(Gate, ModelsInEmitsAndConfidenceOnlyExplain) {
    RuleRun r(prelude() + model(3) +
              "rule r { label t; on A; when A.x > 0; confidence 1 - 1 / (1 + surprise(m)); emit s = "
              "surprise(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "b", 1);
    r.finish();
    ASSERT_EQ(r.out().size(), 1u);
    EXPECT_EQ(r.out()[0].decision, ""); // `when` calls no model: nothing is gated
    const double s = -std::log2(3.0 / 32);
    EXPECT_NEAR(r.out()[0].confidence, 1 - 1 / (1 + s), 1e-12);
    ASSERT_EQ(r.out()[0].models.size(), 1u);
    EXPECT_EQ(r.out()[0].models[0].evidence, 1u);
}

TEST_F(Gate, SessionEndRulesDecideAtClose) {
    RuleRun r(prelude() + model(2) +
              "rule r { label t; over session v; at session end; when loglik(m) > -1; fallback when count(A) "
              "> 0; }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k1", 0, "a"); // one event: fallback at close
    r.ev("A", "k2", 0, "a"); // a a: the chain decides, mean ln P = (ln 13/16 + ln 29/32) / 2 > -1
    r.ev("A", "k2", 10, "a");
    r.finish();
    ASSERT_EQ(r.out().size(), 2u);
    EXPECT_EQ(r.out()[0].decision, "fallback");
    EXPECT_EQ(r.out()[0].trigger, "session_end");
    EXPECT_EQ(r.out()[1].decision, "model");
}

} // namespace
} // namespace ethogram::models_lang_test
