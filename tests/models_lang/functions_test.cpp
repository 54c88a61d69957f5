// functions_test.cpp: every model function against values computed by hand (docs/semantics.md section 7),
// on the small models of lang_harness.h, through the front end and the interpreter.
#include "tests/models_lang/lang_harness.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ethogram::models_lang_test {
namespace {

double bits(double p) {
    return -std::log2(p);
}

/// A rule that fires on every event of `type` (a one-step pattern) and emits `emits`.
std::string probe(const std::string& name, const std::string& type, const std::string& emits) {
    return "rule " + name + " { label t; pattern e: " + type + "; emit " + emits + "; }\n";
}

class Functions : public ::testing::Test {
protected:
    void SetUp() override { dir = make_temp_dir("fn"); }
    std::string dir;
};

TEST_F(Functions, MarkovChainScoresByHand) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; min_evidence 1; }\n" +
              probe("p", "A",
                    "n = evidence(m), s = surprise(m), ll = loglik(m), top = predict_next(m), "
                    "ptop = predict_prob(m), second = predict_next(m, 2), third = predict_next(m, 3), "
                    "p3 = predict_prob(m, 3), pb = next_prob(m, \"b\"), pz = next_prob(m, \"zzz\"), c = "
                    "confident(m)") +
              probe("q", "B", "n = evidence(m), s = surprise(m)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "a");
    r.ev("A", "k", 2, "a");
    r.ev("B", "k", 3, "b"); // B is not observed
    r.ev("A", "k", 4, "b");
    r.ev("A", "k", 5, "zzz"); // not in the vocabulary: <unk>
    r.ev("A", "k", 6, "");    // s missing: not observed
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 5u);
    // a after <s>: 13/16.
    EXPECT_EQ(r.num(p[0], "n"), 1);
    EXPECT_NEAR(r.num(p[0], "s"), bits(13.0 / 16), 1e-12);
    EXPECT_NEAR(r.num(p[0], "ll"), std::log(13.0 / 16), 1e-12);
    EXPECT_EQ(r.str(p[0], "top"), "a");
    EXPECT_NEAR(r.num(p[0], "ptop"), 29.0 / 32, 1e-12);
    // <unk> and b tie at 3/64: the smaller id (<unk> = 0) ranks first.
    EXPECT_EQ(r.str(p[0], "second"), "<unk>");
    EXPECT_EQ(r.str(p[0], "third"), "b");
    EXPECT_NEAR(r.num(p[0], "p3"), 3.0 / 64, 1e-12);
    EXPECT_NEAR(r.num(p[0], "pb"), 3.0 / 64, 1e-12);
    EXPECT_NEAR(r.num(p[0], "pz"), 3.0 / 64, 1e-12); // an unknown symbol asks for <unk>
    EXPECT_EQ(r.num(p[0], "c"), 1);
    // a after a: 29/32; the mean is over both events.
    EXPECT_NEAR(r.num(p[1], "s"), bits(29.0 / 32), 1e-12);
    EXPECT_NEAR(r.num(p[1], "ll"), (std::log(13.0 / 16) + std::log(29.0 / 32)) / 2, 1e-12);
    // b after a: 3/64; then b is the context, which backs off to the continuation unigram.
    EXPECT_EQ(r.num(p[2], "n"), 3);
    EXPECT_NEAR(r.num(p[2], "s"), bits(3.0 / 64), 1e-12);
    EXPECT_EQ(r.str(p[2], "top"), "a");
    EXPECT_NEAR(r.num(p[2], "ptop"), 3.0 / 4, 1e-12);
    // <unk> after b: 1/8, exactly 3 bits.
    EXPECT_NEAR(r.num(p[3], "s"), 3.0, 1e-12);
    EXPECT_NEAR(r.num(p[3], "ll"),
                (std::log(13.0 / 16) + std::log(29.0 / 32) + std::log(3.0 / 64) + std::log(1.0 / 8)) / 4,
                1e-12);
    // A missing field is no observation: the state is unchanged.
    EXPECT_EQ(r.num(p[4], "n"), 4);
    EXPECT_NEAR(r.num(p[4], "s"), 3.0, 1e-12);
    auto q = r.of("q");
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(r.num(q[0], "n"), 2);
    EXPECT_NEAR(r.num(q[0], "s"), bits(29.0 / 32), 1e-12);
}

TEST_F(Functions, BeforeAnyEventSurpriseAndLoglikAreMissing) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; }\n" +
              probe("q", "B",
                    "n = evidence(m), s = surprise(m), ll = loglik(m), top = predict_next(m), "
                    "ptop = predict_prob(m)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("B", "k", 1, "a");
    r.finish();
    auto q = r.of("q");
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(r.num(q[0], "n"), 0);
    EXPECT_TRUE(std::isnan(r.num(q[0], "s")));
    EXPECT_TRUE(std::isnan(r.num(q[0], "ll")));
    // The first event's distribution: the context is <s>.
    EXPECT_EQ(r.str(q[0], "top"), "a");
    EXPECT_NEAR(r.num(q[0], "ptop"), 13.0 / 16, 1e-12);
}

TEST_F(Functions, EnumFieldsAreObservedByValueName) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.k; }\n" +
              probe("p", "A", "s = surprise(m)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "", 0, "a");
    r.ev("A", "k", 2, "", 0, "b");
    r.ev("A", "k", 3, "", 0, "c"); // enum value c is not in the vocabulary: <unk>
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NEAR(r.num(p[0], "s"), bits(13.0 / 16), 1e-12);
    EXPECT_NEAR(r.num(p[1], "s"), bits(3.0 / 64), 1e-12);
    EXPECT_NEAR(r.num(p[2], "s"), 3.0, 1e-12);
}

// Forward filtering by hand. After x: c1 = 1/2 * 0.8 + 1/2 * 0.1 = 0.45, alpha = (8/9, 1/9).
// Predicted states: (8/9 * 0.9 + 1/9 * 0.2, 8/9 * 0.1 + 1/9 * 0.8) = (74/90, 16/90); next symbol
// P(x) = (74 * 0.8 + 16 * 0.1) / 90 = 608/900, P(y) = (74 * 0.1 + 16 * 0.8) / 90 = 202/900.
// After y: alpha = (7.4/20.2, 12.8/20.2) = (37/101, 64/101).
TEST_F(Functions, HmmFiltersByHand) {
    std::string hmm = write_hmm(dir);
    RuleRun r(prelude() + "model h: hmm { path \"" + hmm + "\"; observe A.s; states calm, busy; }\n" +
              probe("p", "A",
                    "n = evidence(h), s = surprise(h), ll = loglik(h), hs = hidden_state(h), "
                    "calm = state_prob(h, \"calm\"), busy = state_prob(h, \"busy\"), top = predict_next(h), "
                    "ptop = predict_prob(h), py = next_prob(h, \"y\")") +
              probe("q", "B",
                    "hs = hidden_state(h), calm = state_prob(h, \"calm\"), top = predict_next(h), "
                    "ptop = predict_prob(h), s = surprise(h)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("B", "k", 0, "");
    r.ev("A", "k", 1, "x");
    r.ev("A", "k", 2, "y");
    r.finish();
    auto q = r.of("q");
    ASSERT_EQ(q.size(), 1u);
    // Before any event the posterior is pi: a tie, which goes to the first state.
    EXPECT_EQ(r.str(q[0], "hs"), "calm");
    EXPECT_NEAR(r.num(q[0], "calm"), 0.5, 1e-12);
    EXPECT_EQ(r.str(q[0], "top"), "x"); // x and y tie at 0.45: the smaller id
    EXPECT_NEAR(r.num(q[0], "ptop"), 0.45, 1e-12);
    EXPECT_TRUE(std::isnan(r.num(q[0], "s")));
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NEAR(r.num(p[0], "s"), bits(0.45), 1e-12);
    EXPECT_EQ(r.str(p[0], "hs"), "calm");
    EXPECT_NEAR(r.num(p[0], "calm"), 8.0 / 9, 1e-12);
    EXPECT_NEAR(r.num(p[0], "busy"), 1.0 / 9, 1e-12);
    EXPECT_EQ(r.str(p[0], "top"), "x");
    EXPECT_NEAR(r.num(p[0], "ptop"), 608.0 / 900, 1e-12);
    EXPECT_NEAR(r.num(p[0], "py"), 202.0 / 900, 1e-12);
    EXPECT_NEAR(r.num(p[1], "s"), bits(202.0 / 900), 1e-12);
    EXPECT_NEAR(r.num(p[1], "ll"), (std::log(0.45) + std::log(202.0 / 900)) / 2, 1e-12);
    EXPECT_EQ(r.str(p[1], "hs"), "busy");
    EXPECT_NEAR(r.num(p[1], "busy"), 64.0 / 101, 1e-12);
    EXPECT_EQ(r.num(p[1], "n"), 2);
}

TEST_F(Functions, HmmStatesDefaultToIndexNames) {
    std::string hmm = write_hmm(dir);
    RuleRun r(prelude() + "model h: hmm { path \"" + hmm + "\"; observe A.s; }\n" +
              probe("p", "A", "hs = hidden_state(h), p1 = state_prob(h, \"s1\")"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "y");
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 1u);
    // After y: alpha = (0.05, 0.4) / 0.45.
    EXPECT_EQ(r.str(p[0], "hs"), "s1");
    EXPECT_NEAR(r.num(p[0], "p1"), 8.0 / 9, 1e-12);
}

// Classifier by hand: bot's chain is write_markov's, human's its mirror (b <-> a).
// After a: L_bot = 13/16, L_human = 3/32; P(bot) = (13/16) / (13/16 + 3/32) = 26/29; the mixture's
// predictive probability of a is (13/16 + 3/32) / 2 = 29/64.
// After a b: L_bot = 13/16 * 3/64 = 39/1024, L_human = 3/32 * 3/4 = 72/1024 (a never was a context of
// human's chain: the continuation unigram gives b 3/4); P(bot) = 39/111; P(b | a) = (111/2048) / (29/64).
TEST_F(Functions, ClassifierPosteriorsByHand) {
    std::string cls = write_classifier(dir);
    RuleRun r(
        prelude() + "model c: classifier { path \"" + cls + "\"; observe A.s; }\n" +
        probe("p", "A",
              "bot = class_prob(c, \"bot\"), human = class_prob(c, \"human\"), who = predicted_class(c), "
              "s = surprise(c), ll = loglik(c), pa = next_prob(c, \"a\")") +
        probe("q", "B", "bot = class_prob(c, \"bot\"), who = predicted_class(c)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("B", "k", 0, "");
    r.ev("A", "k", 1, "a");
    r.ev("A", "k", 2, "b");
    r.finish();
    auto q = r.of("q");
    ASSERT_EQ(q.size(), 1u);
    EXPECT_NEAR(r.num(q[0], "bot"), 0.5, 1e-12); // the prior
    EXPECT_EQ(r.str(q[0], "who"), "bot");        // a tie: the first class
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NEAR(r.num(p[0], "bot"), 26.0 / 29, 1e-12);
    EXPECT_NEAR(r.num(p[0], "human"), 3.0 / 29, 1e-12);
    EXPECT_EQ(r.str(p[0], "who"), "bot");
    EXPECT_NEAR(r.num(p[0], "s"), bits(29.0 / 64), 1e-12);
    // Next a under the mixture: P(bot|a) P_bot(a|a) + P(human|a) P_human(a|a), where a never was a context
    // of human's chain (the continuation unigram gives a 1/8): 26/29 * 29/32 + 3/29 * 1/8.
    EXPECT_NEAR(r.num(p[0], "pa"), 26.0 / 29 * 29.0 / 32 + 3.0 / 29 / 8, 1e-12);
    EXPECT_NEAR(r.num(p[1], "bot"), 39.0 / 111, 1e-12);
    EXPECT_EQ(r.str(p[1], "who"), "human");
    EXPECT_NEAR(r.num(p[1], "s"), bits((111.0 / 2048) / (29.0 / 64)), 1e-12);
    // The summed ln P telescopes to the marginal likelihood ln((L_bot + L_human) / 2).
    EXPECT_NEAR(r.num(p[1], "ll"), std::log(111.0 / 2048) / 2, 1e-12);
}

TEST_F(Functions, StatesArePerKey) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; }\n" +
              probe("p", "A", "n = evidence(m), s = surprise(m)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k1", 1, "a");
    r.ev("A", "k2", 2, "b");
    r.ev("A", "k1", 3, "a");
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NEAR(r.num(p[1], "s"), bits(3.0 / 32), 1e-12); // k2's first event: b after <s>
    EXPECT_EQ(r.num(p[1], "n"), 1);
    EXPECT_NEAR(r.num(p[2], "s"), bits(29.0 / 32), 1e-12); // k1 goes on: a after a
    EXPECT_EQ(r.num(p[2], "n"), 2);
}

TEST_F(Functions, PerSessionStatesResetWithEachSession) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; per session v; }\n" +
              "model all: markov { path \"" + chain + "\"; observe A.s; }\n" +
              probe("p", "A", "n = evidence(m), s = surprise(m), total = evidence(all)") +
              probe("q", "B", "n = evidence(m), total = evidence(all)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 0, "a");
    r.ev("A", "k", 600, "a");  // a gap of exactly 10m stays in the session
    r.ev("A", "k", 1300, "a"); // 700 s later: a new session, the chain starts from <s> again
    r.ev("B", "k", 2000, "");  // opens a third session: the state resets even though B is not observed
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(r.num(p[1], "n"), 2);
    EXPECT_NEAR(r.num(p[1], "s"), bits(29.0 / 32), 1e-12);
    EXPECT_EQ(r.num(p[2], "n"), 1);
    EXPECT_NEAR(r.num(p[2], "s"), bits(13.0 / 16), 1e-12);
    EXPECT_EQ(r.num(p[2], "total"), 3); // the per-key model keeps counting
    auto q = r.of("q");
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(r.num(q[0], "n"), 0);
    EXPECT_EQ(r.num(q[0], "total"), 3);
}

TEST_F(Functions, PerSessionModelsObserveOnlyMemberEvents) {
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "session w { gap 10m; events B; }\n" + "model m: markov { path \"" + chain +
              "\"; observe A.s, B.s; per session w; }\n" +
              probe("p", "B", "n = evidence(m), s = surprise(m)"));
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 0, "a"); // not a member of w: not observed
    r.ev("B", "k", 1, "b");
    r.finish();
    auto p = r.of("p");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(r.num(p[0], "n"), 1);
    EXPECT_NEAR(r.num(p[0], "s"), bits(3.0 / 32), 1e-12);
}

} // namespace
} // namespace ethogram::models_lang_test
