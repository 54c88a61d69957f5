// classifier_test.cpp: class-conditional chains on a labelled toy corpus, checked against hand arithmetic.
#include "models/classifier.h"
#include "models/model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ethogram::models {
namespace {

// Vocabulary {<unk>=0, a=1, b=2}; order 1, D = 1/2 for both classes.
//   human (class 0): "a b", "a a b"  - the corpus of markov_test.cpp, whose probabilities are worked there:
//     P(a|<s>) = 65/72, P(b|<s>) = 5/72, P(b|a) = 16/27, P(b|b) = P0(b) = 5/18.
//   bot (class 1): "b b b". Bigrams (<s> b), (b b) x2. Continuation: b follows {<s>, b} -> 2, total 2.
//     P0(b) = (2 - 1/2 + 1/2 * 1 * 1/3) / 2 = 5/6,   P0(a) = P0(unk) = (1/6) / 2 = 1/12
//     P(b|<s>) = 1/2 + 1/2 * 5/6 = 11/12,           P(a|<s>) = 1/2 * 1/12 = 1/24
//     P(b|b) = (3/2 + 1/2 * 5/6) / 2 = 23/24,        P(b|a) = P0(b) = 5/6 (a is never a bot context)
constexpr uint32_t A = 1, B = 2;
constexpr size_t kHuman = 0, kBot = 1;

SequenceClassifier trained(ClassifierConfig config = {}) {
    config.chain = {1, 0.5, false};
    auto m = SequenceClassifier::create(config, {"human", "bot"}, 3);
    EXPECT_TRUE(m.ok()) << m.error();
    std::vector<std::vector<uint32_t>> seqs = {{A, B}, {A, A, B}, {B, B, B}};
    std::vector<uint32_t> labels = {kHuman, kHuman, kBot};
    EXPECT_TRUE(m->train(seqs, labels).ok());
    return std::move(*m);
}

const std::vector<uint32_t> kAB = {A, B}, kBB = {B, B};

// L(a b | human) = 65/72 * 16/27 = 130/243;  L(a b | bot) = 1/24 * 5/6 = 5/144.
// LR = (130/243) / (5/144) = 18720/1215 = 416/27.
TEST(Classifier, LikelihoodsAndRatioMatchHandComputation) {
    SequenceClassifier m = trained();
    auto ll = m.log_likelihoods(kAB);
    ASSERT_EQ(ll.size(), 2u);
    EXPECT_NEAR(ll[kHuman], std::log(130.0 / 243), 1e-12);
    EXPECT_NEAR(ll[kBot], std::log(5.0 / 144), 1e-12);
    EXPECT_NEAR(m.log_likelihood_ratio(kAB, kHuman, kBot), std::log(416.0 / 27), 1e-12);
    // "b b": human 5/72 * 5/18 = 25/1296, bot 11/12 * 23/24 = 253/288; LR = 25*288 / (1296*253) = 50/2277.
    EXPECT_NEAR(m.log_likelihood_ratio(kBB, kHuman, kBot), std::log(50.0 / 2277), 1e-12);
    EXPECT_EQ(m.class_index("bot"), kBot);
    EXPECT_EQ(m.class_index("alien"), 2u);
}

// Frequency priors: 2 human sequences, 1 bot -> 2/3, 1/3.
//   P(human | a b) = 2 LR / (2 LR + 1) = (832/27) / (832/27 + 1) = 832/859
//   P(human | b b) = 2 (50/2277) / (2 (50/2277) + 1) = 100/2377
TEST(Classifier, PosteriorWithFrequencyPriors) {
    SequenceClassifier m = trained();
    EXPECT_NEAR(std::exp(m.log_prior(kHuman)), 2.0 / 3, 1e-15);
    auto p = m.posterior(kAB);
    EXPECT_NEAR(p[kHuman], 832.0 / 859, 1e-12);
    EXPECT_NEAR(p[kBot], 27.0 / 859, 1e-12);
    EXPECT_NEAR(m.posterior(kBB)[kHuman], 100.0 / 2377, 1e-12);
}

// Balanced weights N / (C n_c) = 3/4 for human, 3/2 for bot: priors 3/4*2 : 3/2*1 = 1 : 1, uniform.
//   P(human | a b) = LR / (LR + 1) = 416/443
TEST(Classifier, ClassWeightsCounterImbalance) {
    ClassifierConfig cfg;
    cfg.class_weights = {0.75, 1.5};
    SequenceClassifier m = trained(cfg);
    EXPECT_NEAR(std::exp(m.log_prior(kBot)), 0.5, 1e-15);
    EXPECT_NEAR(m.posterior(kAB)[kHuman], 416.0 / 443, 1e-12);
    EXPECT_EQ(m.hyper_params().at("class_weight.bot"), "1.5");
}

// Configured priors 0.1 : 0.9 (given unnormalized as 1 : 9):
//   P(human | a b) = 0.1 LR / (0.1 LR + 0.9) = LR / (LR + 9) = 416 / (416 + 243) = 416/659
TEST(Classifier, ConfiguredPriorsOverrideFrequencies) {
    ClassifierConfig cfg;
    cfg.priors = {1, 9};
    SequenceClassifier m = trained(cfg);
    EXPECT_NEAR(std::exp(m.log_prior(kHuman)), 0.1, 1e-15);
    EXPECT_NEAR(m.posterior(kAB)[kHuman], 416.0 / 659, 1e-12);
    EXPECT_EQ(m.hyper_params().at("priors"), "configured");
}

TEST(Classifier, OnlineStateMatchesBatchScoring) {
    SequenceClassifier m = trained();
    ClassifierState st(m);
    EXPECT_EQ(st.count(), 0u);
    std::vector<double> post(2);
    st.posterior(m, post);
    EXPECT_NEAR(post[kHuman], 2.0 / 3, 1e-15); // no evidence yet: the prior
    st.observe(m, A);
    st.observe(m, B);
    EXPECT_EQ(st.count(), 2u);
    EXPECT_NEAR(st.log_likelihood(kHuman), std::log(130.0 / 243), 1e-12);
    EXPECT_NEAR(st.log_likelihood_ratio(kHuman, kBot), std::log(416.0 / 27), 1e-12);
    st.posterior(m, post);
    EXPECT_NEAR(post[kHuman], 832.0 / 859, 1e-12);
}

TEST(Classifier, LongSequencesDoNotUnderflow) {
    SequenceClassifier m = trained();
    // 20000 events of "b": each costs ln(5/18) vs ln(23/24) after the first, so the likelihoods are around
    // e^-25000 - far below the smallest double - yet the posterior is exact in log space.
    std::vector<uint32_t> seq(20000, B);
    auto ll = m.log_likelihoods(seq);
    EXPECT_NEAR(ll[kHuman], std::log(5.0 / 72) + 19999 * std::log(5.0 / 18), 1e-6);
    auto p = m.posterior(seq);
    EXPECT_TRUE(std::isfinite(p[kHuman]) && std::isfinite(p[kBot]));
    EXPECT_EQ(p[kBot], 1.0);
    EXPECT_EQ(p[kHuman], 0.0);
}

TEST(Classifier, RefusesBadInput) {
    EXPECT_EQ(SequenceClassifier::create({}, {"only"}, 3).error(), "classifier: needs at least two classes");
    EXPECT_EQ(SequenceClassifier::create({}, {"x", "x"}, 3).error(), "classifier: duplicate class 'x'");
    ClassifierConfig neg;
    neg.priors = {0.5, -1};
    EXPECT_FALSE(SequenceClassifier::create(neg, {"x", "y"}, 3).ok());
    ClassifierConfig short_weights;
    short_weights.class_weights = {1};
    EXPECT_EQ(SequenceClassifier::create(short_weights, {"x", "y"}, 3).error(),
              "classifier: 1 class weights given for 2 classes");
    auto m = SequenceClassifier::create({}, {"human", "bot"}, 3);
    ASSERT_TRUE(m.ok());
    std::vector<std::vector<uint32_t>> seqs = {{A}};
    std::vector<uint32_t> human = {0}, alien = {5};
    EXPECT_EQ(m->train(seqs, human).error(), "classifier: class 'bot' has no training sequences");
    EXPECT_EQ(m->train(seqs, alien).error(), "classifier: sequence 0 has label 5, there are 2 classes");
    EXPECT_EQ(m->chain(0).events(), 0u); // nothing was trained by the failed calls
}

TEST(Classifier, PayloadAndFileRoundTrip) {
    ClassifierConfig cfg;
    cfg.class_weights = {0.75, 1.5};
    SequenceClassifier m = trained(cfg);
    ModelMeta meta;
    meta.kind = "classifier";
    meta.engine_version = kEngineVersion;
    meta.hyper_params = m.hyper_params();
    std::string path = ::testing::TempDir() + "classifier_round_trip.etm";
    ASSERT_TRUE(write_model_file(path, meta, m.serialize()).ok());
    auto file = read_model_file(path);
    ASSERT_TRUE(file.ok()) << file.error();
    auto back = SequenceClassifier::deserialize(file->payload);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->serialize(), m.serialize());
    EXPECT_EQ(back->class_name(kBot), "bot");
    EXPECT_NEAR(back->posterior(kAB)[kHuman], 416.0 / 443, 1e-12);
    std::remove(path.c_str());
    std::vector<uint8_t> bytes = m.serialize();
    for (size_t n = 0; n < bytes.size(); ++n)
        ASSERT_FALSE(SequenceClassifier::deserialize(std::span<const uint8_t>(bytes).first(n)).ok()) << n;
}

TEST(Classifier, SavedModelRoundTripsAndKindIsChecked) {
    SequenceClassifier m = trained();
    Vocabulary v;
    v.add("a");
    v.add("b");
    std::string path = ::testing::TempDir() + "saved_classifier.etm";
    ASSERT_TRUE(save_classifier_model(path, v, m, {}).ok());
    auto back = load_classifier_model(path);
    ASSERT_TRUE(back.ok()) << back.error();
    std::vector<uint32_t> ab = {back->vocabulary.id("a"), back->vocabulary.id("b")};
    EXPECT_NEAR(back->classifier.posterior(ab)[kHuman], 832.0 / 859, 1e-12);
    auto file = read_model_file(path);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->meta.sequences, 3u); // 2 human + 1 bot
    EXPECT_EQ(file->meta.events, 8u);    // 2 + 3 + 3
    EXPECT_EQ(file->meta.hyper_params.at("classes"), "human,bot");
    EXPECT_EQ(load_markov_model(path).error(), path + ": model kind 'classifier', expected 'markov'");
    std::remove(path.c_str());
}

// A separable synthetic problem: "bots" repeat one endpoint, "humans" wander. With 9:1 imbalance and
// balanced weights, held-out sequences of both classes are classified correctly.
TEST(Classifier, SeparatesSyntheticBotsFromHumans) {
    std::mt19937_64 rng(42);
    auto human = [&] {
        std::vector<uint32_t> s(8);
        for (auto& x : s) x = 1 + static_cast<uint32_t>(rng() % 5);
        return s;
    };
    auto bot = [&] {
        uint32_t e = 1 + static_cast<uint32_t>(rng() % 5);
        return std::vector<uint32_t>(8, e);
    };
    std::vector<std::vector<uint32_t>> seqs;
    std::vector<uint32_t> labels;
    for (int i = 0; i < 180; ++i) seqs.push_back(human()), labels.push_back(0);
    for (int i = 0; i < 20; ++i) seqs.push_back(bot()), labels.push_back(1);
    ClassifierConfig cfg;
    cfg.chain = {1, 0.75, true};
    cfg.class_weights = {200.0 / (2 * 180), 200.0 / (2 * 20)};
    auto m = SequenceClassifier::create(cfg, {"human", "bot"}, 6);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(m->train(seqs, labels).ok());
    EXPECT_NEAR(std::exp(m->log_prior(0)), 0.5, 1e-12);
    int correct = 0;
    for (int i = 0; i < 50; ++i) {
        correct += m->posterior(human())[0] > 0.5;
        correct += m->posterior(bot())[1] > 0.5;
    }
    EXPECT_EQ(correct, 100);
}

} // namespace
} // namespace ethogram::models
