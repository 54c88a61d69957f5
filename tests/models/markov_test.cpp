// markov_test.cpp: Kneser-Ney chains against hand-computed probabilities, mass, back-off and round trips.
#include "models/markov.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>

namespace ethogram::models {
namespace {

// The tiny corpus of the hand computations: vocabulary {<unk>=0, a=1, b=2}, so V = 3 and bos = 3.
//   S1 = a b        S2 = a a b
constexpr uint32_t U = 0, A = 1, B = 2, S = 3;
const std::vector<std::vector<uint32_t>> kCorpus = {{A, B}, {A, A, B}};

MarkovChain make(uint32_t order, double d, bool estimate = false, uint32_t vocab = 3) {
    auto m = MarkovChain::create({order, d, estimate}, vocab);
    EXPECT_TRUE(m.ok()) << m.error();
    return std::move(*m);
}

MarkovChain trained(uint32_t order, double d = 0.5) {
    MarkovChain m = make(order, d);
    EXPECT_TRUE(m.train(kCorpus).ok());
    return m;
}

// Order 1, D = 1/2. Bigrams: (<s> a) x2, (a b) x2, (a a) x1.
//   c(<s> .) = 2 over 1 distinct follower; c(a .) = 3 over 2 distinct followers; b is never a context.
// Unigram continuation counts N1+(. w): a follows {<s>, a} -> 2, b follows {a} -> 1, <unk> -> 0; total 3.
//   P0(a)   = (2 - 1/2 + 1/2 * 2 * 1/3) / 3 = (3/2 + 1/3) / 3 = 11/18
//   P0(b)   = (1 - 1/2 + 1/3) / 3          = 5/18
//   P0(unk) = (0 + 1/3) / 3                = 2/18          sum 18/18
//   P(a|a)   = (1 - 1/2 + 1/2 * 2 * 11/18) / 3 = (9/18 + 11/18) / 3 = 10/27
//   P(b|a)   = (2 - 1/2 + 5/18) / 3            = 32/54           = 16/27
//   P(unk|a) = (2/18) / 3                      = 1/27            sum 27/27
//   P(a|<s>)   = (2 - 1/2 + 1/2 * 1 * 11/18) / 2 = 65/72
//   P(b|<s>)   = (1/2 * 5/18) / 2                = 5/72
//   P(unk|<s>) = (1/2 * 2/18) / 2                = 2/72          sum 72/72
TEST(Markov, Order1MatchesHandComputation) {
    MarkovChain m = trained(1);
    auto p = [&](uint32_t ctx, uint32_t w) { return m.prob(std::vector<uint32_t>{ctx}, w); };
    EXPECT_NEAR(p(A, A), 10.0 / 27, 1e-12);
    EXPECT_NEAR(p(A, B), 16.0 / 27, 1e-12);
    EXPECT_NEAR(p(A, U), 1.0 / 27, 1e-12);
    EXPECT_NEAR(p(S, A), 65.0 / 72, 1e-12);
    EXPECT_NEAR(p(S, B), 5.0 / 72, 1e-12);
    EXPECT_NEAR(p(S, U), 2.0 / 72, 1e-12);
    // b never precedes anything: its context backs off to the continuation unigram.
    EXPECT_NEAR(p(B, A), 11.0 / 18, 1e-12);
    EXPECT_NEAR(p(B, B), 5.0 / 18, 1e-12);
    EXPECT_NEAR(p(B, U), 2.0 / 18, 1e-12);
    // An empty context is the unigram level itself.
    EXPECT_NEAR(m.prob({}, A), 11.0 / 18, 1e-12);
    EXPECT_EQ(m.sequences(), 2u);
    EXPECT_EQ(m.events(), 5u);
}

// Order 2, D = 1/2. Trigrams: (<s><s> a) x2, (<s> a b), (<s> a a), (a a b).
// Length-1 continuation counts from the 4 trigram types: (<s> a) 1, (a b) 2, (a a) 1; the unigram level
// is as for order 1 (P0 above), and P1(.|a) = {a 10/27, b 16/27, unk 1/27} as well.
//   P1(a|<s>) = (1 - 1/2 + 1/2 * 11/18) / 1 = 29/36, P1(b|<s>) = 5/36, P1(unk|<s>) = 2/36
//   P(a|<s> a) = (1 - 1/2 + 1/2 * 2 * 10/27) / 2 = (27/54 + 20/54) / 2 = 47/108
//   P(b|<s> a) = (1/2 + 16/27) / 2                                     = 59/108
//   P(unk|<s> a) = (1/27) / 2                                          = 2/108
//   P(b|a a) = 1/2 + 1/2 * 16/27 = 43/54, P(a|a a) = 10/54, P(unk|a a) = 1/54
//   P(a|<s><s>) = (3/2 + 1/2 * 29/36) / 2 = 137/144, P(b|<s><s>) = 5/144, P(unk|<s><s>) = 2/144
TEST(Markov, Order2MatchesHandComputation) {
    MarkovChain m = trained(2);
    auto p = [&](uint32_t c1, uint32_t c2, uint32_t w) { return m.prob(std::vector<uint32_t>{c1, c2}, w); };
    EXPECT_NEAR(p(S, A, A), 47.0 / 108, 1e-12);
    EXPECT_NEAR(p(S, A, B), 59.0 / 108, 1e-12);
    EXPECT_NEAR(p(S, A, U), 2.0 / 108, 1e-12);
    EXPECT_NEAR(p(A, A, B), 43.0 / 54, 1e-12);
    EXPECT_NEAR(p(A, A, A), 10.0 / 54, 1e-12);
    EXPECT_NEAR(p(A, A, U), 1.0 / 54, 1e-12);
    EXPECT_NEAR(p(S, S, A), 137.0 / 144, 1e-12);
    EXPECT_NEAR(p(S, S, B), 5.0 / 144, 1e-12);
    EXPECT_NEAR(p(S, S, U), 2.0 / 144, 1e-12);
    // (b a) was never seen: back off to P1(.|a).
    EXPECT_NEAR(p(B, A, A), 10.0 / 27, 1e-12);
    EXPECT_NEAR(p(B, A, B), 16.0 / 27, 1e-12);
    // A context of one symbol uses the length-1 level directly.
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{S}, A), 29.0 / 36, 1e-12);
    // Longer contexts than k: only the last k symbols count.
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{B, B, A, A}, B), 43.0 / 54, 1e-12);
}

TEST(Markov, Order2SeesFurtherBackThanOrder1) {
    MarkovChain m1 = trained(1), m2 = trained(2);
    // After "a a" the order-2 chain remembers that (a a) was always followed by b: 43/54 > 16/27 = 32/54.
    EXPECT_GT(m2.prob(std::vector<uint32_t>{A, A}, B), m1.prob(std::vector<uint32_t>{A, A}, B));
    // After "<s> a" it has seen a and b once each: 59/108 for b against order 1's 64/108.
    EXPECT_LT(m2.prob(std::vector<uint32_t>{S, A}, B), m1.prob(std::vector<uint32_t>{S, A}, B));
}

TEST(Markov, UnknownSymbolsReadAsUnk) {
    MarkovChain m = trained(1);
    // A context id outside the vocabulary is <unk>, an unseen context: P0.
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{999}, A), 11.0 / 18, 1e-12);
    // A next id outside the vocabulary (bos() included) is scored as <unk>.
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{A}, 999), 1.0 / 27, 1e-12);
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{A}, S), 1.0 / 27, 1e-12);
    // Through the vocabulary: "zzz" was never added.
    Vocabulary v;
    EXPECT_EQ(v.add("a"), A);
    EXPECT_EQ(v.add("b"), B);
    EXPECT_EQ(v.id("zzz"), Vocabulary::kUnk);
    EXPECT_NEAR(m.prob(std::vector<uint32_t>{v.id("a")}, v.id("zzz")), 1.0 / 27, 1e-12);
    // Training refuses ids the vocabulary does not have.
    MarkovChain bad = make(1, 0.5);
    std::vector<std::vector<uint32_t>> seqs = {{A, 7}};
    auto st = bad.train(seqs);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "markov: sequence 0 has symbol id 7, vocabulary size is 3");
    EXPECT_EQ(bad.events(), 0u);
}

TEST(Markov, SurpriseAndLogProb) {
    MarkovChain m = trained(1);
    std::vector<uint32_t> ctx = {A};
    EXPECT_NEAR(m.log_prob(ctx, B), std::log(16.0 / 27), 1e-12);
    // -log2(1/27) = 3 log2(3) = 4.7549 bits.
    EXPECT_NEAR(m.surprise(ctx, U), 3 * std::log2(3.0), 1e-12);
}

TEST(Markov, UntrainedChainIsUniform) {
    MarkovChain m = make(2, 0.75, false, 4);
    for (uint32_t w = 0; w < 4; ++w) EXPECT_DOUBLE_EQ(m.prob(m.start_context(), w), 0.25);
}

TEST(Markov, PredictNextIsOrderedByProbabilityThenId) {
    MarkovChain m = trained(1);
    auto top = m.predict_next(std::vector<uint32_t>{A}, 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].symbol, B);
    EXPECT_NEAR(top[0].prob, 16.0 / 27, 1e-12);
    EXPECT_EQ(top[1].symbol, A);
    EXPECT_NEAR(top[1].prob, 10.0 / 27, 1e-12);
    // More than the vocabulary: all three, the rarest last.
    auto all = m.predict_next(std::vector<uint32_t>{A}, 10);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[2].symbol, U);
    // Ties (uniform chain) are broken by id.
    MarkovChain u = make(1, 0.75, false, 4);
    auto tied = u.predict_next(u.start_context(), 4);
    for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(tied[i].symbol, i);
}

// Count-of-counts of the order-1 corpus. Length 1 (raw): (<s> a) 2, (a b) 2, (a a) 1 -> n1 = 1, n2 = 2,
// D1 = 1 / (1 + 2*2) = 0.2. Length 0 (continuation): a 2, b 1 -> n1 = 1, n2 = 1, D0 = 1 / 3.
TEST(Markov, EstimatedDiscountsFollowCountOfCounts) {
    MarkovChain m = make(1, 0.75, true);
    ASSERT_TRUE(m.train(kCorpus).ok());
    EXPECT_NEAR(m.discount(1), 0.2, 1e-15);
    EXPECT_NEAR(m.discount(0), 1.0 / 3, 1e-15);
    // P0(a) = (2 - 1/3 + 1/3 * 2 * 1/3) / 3 = (5/3 + 2/9) / 3 = 17/27
    EXPECT_NEAR(m.prob({}, A), 17.0 / 27, 1e-12);
    // Order 2 on the same corpus: length-2 counts 2, 1, 1, 1 -> n1 = 3, n2 = 1, D2 = 3 / (3 + 2) = 3/5.
    MarkovChain m2 = make(2, 0.75, true);
    ASSERT_TRUE(m2.train(kCorpus).ok());
    EXPECT_NEAR(m2.discount(2), 3.0 / 5, 1e-15);
}

TEST(Markov, RejectsBadConfiguration) {
    EXPECT_FALSE(MarkovChain::create({0, 0.75, false}, 3).ok());
    EXPECT_FALSE(MarkovChain::create({kMaxMarkovOrder + 1, 0.75, false}, 3).ok());
    EXPECT_FALSE(MarkovChain::create({1, 0.0, false}, 3).ok());
    EXPECT_FALSE(MarkovChain::create({1, 1.5, false}, 3).ok());
    EXPECT_FALSE(MarkovChain::create({1, 0.75, false}, 0).ok());
}

std::vector<std::vector<uint32_t>> random_corpus(uint32_t vocab, size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::vector<uint32_t>> out(n);
    for (auto& s : out) {
        size_t len = 1 + rng() % 12;
        // Skewed towards small ids so that some contexts repeat and some ids (e.g. vocab-1) stay rare.
        for (size_t i = 0; i < len; ++i)
            s.push_back(static_cast<uint32_t>((rng() % vocab) * (rng() % vocab) / vocab));
    }
    return out;
}

// Every context over {ids, bos} of length k: all seen contexts and many unseen ones.
void for_each_context(uint32_t k, uint32_t alphabet,
                      const std::function<void(const std::vector<uint32_t>&)>& f) {
    std::vector<uint32_t> ctx(k, 0);
    for (;;) {
        f(ctx);
        size_t i = 0;
        while (i < k && ++ctx[i] == alphabet) ctx[i++] = 0;
        if (i == k) return;
    }
}

TEST(Markov, EveryContextSumsToOne) {
    const uint32_t vocab = 5;
    auto corpus = random_corpus(vocab, 60, 7);
    for (uint32_t k = 1; k <= 3; ++k) {
        for (bool estimate : {false, true}) {
            MarkovChain m = make(k, 0.75, estimate, vocab);
            ASSERT_TRUE(m.train(corpus).ok());
            size_t contexts = 0;
            for_each_context(k, vocab + 1, [&](const std::vector<uint32_t>& ctx) {
                double sum = 0;
                for (uint32_t w = 0; w < vocab; ++w) {
                    double p = m.prob(ctx, w);
                    ASSERT_GT(p, 0.0);
                    sum += p;
                }
                ASSERT_NEAR(sum, 1.0, 1e-9) << "order " << k;
                ++contexts;
            });
            EXPECT_EQ(contexts, size_t(std::pow(vocab + 1, k)));
            // Shorter contexts (the back-off levels queried directly) are distributions too.
            double sum0 = 0;
            for (uint32_t w = 0; w < vocab; ++w) sum0 += m.prob({}, w);
            EXPECT_NEAR(sum0, 1.0, 1e-9);
        }
    }
}

TEST(Markov, IncrementalTrainingEqualsOneBatch) {
    auto corpus = random_corpus(6, 40, 11);
    MarkovChain batch = make(2, 0.75, true, 6), split = make(2, 0.75, true, 6);
    ASSERT_TRUE(batch.train(corpus).ok());
    std::span<const std::vector<uint32_t>> all(corpus);
    ASSERT_TRUE(split.train(all.first(15)).ok());
    ASSERT_TRUE(split.train(all.subspan(15)).ok());
    EXPECT_EQ(split.serialize(), batch.serialize());
}

// ln L(a a b) under order 2 = ln(137/144) + ln(47/108) + ln(43/54) (see the order-2 hand computation).
TEST(Markov, OnlineStateAccumulatesLogLikelihood) {
    MarkovChain m = trained(2);
    MarkovState st(m);
    EXPECT_EQ(st.mean_log_likelihood(), 0.0);
    EXPECT_NEAR(st.peek_log_prob(m, A), std::log(137.0 / 144), 1e-12);
    EXPECT_EQ(st.count(), 0u);
    st.observe(m, A);
    st.observe(m, A);
    EXPECT_NEAR(st.observe(m, B), std::log(43.0 / 54), 1e-12);
    double ll = std::log(137.0 / 144) + std::log(47.0 / 108) + std::log(43.0 / 54);
    EXPECT_NEAR(st.sum_log_prob(), ll, 1e-12);
    EXPECT_NEAR(st.mean_log_likelihood(), ll / 3, 1e-12);
    EXPECT_EQ(st.count(), 3u);
    EXPECT_EQ(std::vector<uint32_t>(st.context().begin(), st.context().end()), (std::vector<uint32_t>{A, B}));
    // An out-of-range id enters the context as <unk>.
    st.observe(m, 12345);
    EXPECT_EQ(st.context()[1], U);
    st.reset(m);
    EXPECT_EQ(std::vector<uint32_t>(st.context().begin(), st.context().end()), m.start_context());
    EXPECT_EQ(st.count(), 0u);
}

TEST(Markov, PayloadRoundTripIsExact) {
    auto corpus = random_corpus(5, 50, 3);
    MarkovChain m = make(3, 0.75, true, 5);
    ASSERT_TRUE(m.train(corpus).ok());
    std::vector<uint8_t> bytes = m.serialize();
    auto back = MarkovChain::deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->serialize(), bytes);
    EXPECT_EQ(back->context_count(), m.context_count());
    for_each_context(3, 6, [&](const std::vector<uint32_t>& ctx) {
        for (uint32_t w = 0; w < 5; ++w) ASSERT_EQ(back->prob(ctx, w), m.prob(ctx, w));
    });
}

TEST(Markov, ModelFileRoundTripKeepsProbabilities) {
    MarkovChain m = trained(2);
    ModelMeta meta;
    meta.kind = "markov";
    meta.engine_version = kEngineVersion;
    meta.sequences = m.sequences();
    meta.events = m.events();
    meta.hyper_params = m.hyper_params();
    std::string path = ::testing::TempDir() + "markov_round_trip.etm";
    ASSERT_TRUE(write_model_file(path, meta, m.serialize()).ok());
    auto file = read_model_file(path);
    ASSERT_TRUE(file.ok()) << file.error();
    EXPECT_EQ(file->meta.hyper_params.at("order"), "2");
    EXPECT_EQ(file->meta.hyper_params.at("discount.2"), "0.5");
    auto back = MarkovChain::deserialize(file->payload);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_NEAR(back->prob(std::vector<uint32_t>{S, A}, B), 59.0 / 108, 1e-15);
    std::remove(path.c_str());
}

TEST(Markov, TruncatedOrPaddedPayloadIsRefused) {
    std::vector<uint8_t> bytes = trained(2).serialize();
    for (size_t n = 0; n < bytes.size(); ++n)
        ASSERT_FALSE(MarkovChain::deserialize(std::span(bytes).first(n)).ok()) << n << " bytes";
    bytes.push_back(0);
    auto padded = MarkovChain::deserialize(bytes);
    ASSERT_FALSE(padded.ok());
    EXPECT_EQ(padded.error(), "markov payload: 1 trailing bytes");
}

TEST(Markov, InconsistentTotalsAreRefused) {
    std::vector<uint8_t> bytes = trained(1).serialize();
    // The last 8 bytes are the count of the last entry: bumping it breaks its context's total.
    bytes[bytes.size() - 8] += 1;
    auto got = MarkovChain::deserialize(bytes);
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find("totals do not match"), std::string::npos) << got.error();
}

TEST(Markov, SavedModelKeepsVocabularyChainAndMeta) {
    Vocabulary v;
    std::vector<std::string> s1 = {"a", "b"}, s2 = {"a", "a", "b"};
    std::vector<std::vector<uint32_t>> corpus = {v.add_all(s1), v.add_all(s2)};
    ASSERT_EQ(corpus, kCorpus); // the same ids as the hand computations
    MarkovChain m = make(2, 0.5);
    ASSERT_TRUE(m.train(corpus).ok());
    ModelMeta meta;
    meta.training_data_hash = "feedface";
    meta.created_unix = 1'780'000'000;
    std::string path = ::testing::TempDir() + "saved_markov.etm";
    ASSERT_TRUE(save_markov_model(path, v, m, meta).ok());
    auto back = load_markov_model(path);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->vocabulary.id("b"), B);
    std::vector<uint32_t> ctx = {back->vocabulary.id("a"), back->vocabulary.id("a")};
    EXPECT_NEAR(back->chain.prob(ctx, back->vocabulary.id("b")), 43.0 / 54, 1e-15);
    auto file = read_model_file(path);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->meta.kind, "markov");
    EXPECT_EQ(file->meta.engine_version, kEngineVersion);
    EXPECT_EQ(file->meta.training_data_hash, "feedface");
    EXPECT_EQ(file->meta.sequences, 2u);
    EXPECT_EQ(file->meta.events, 5u);
    EXPECT_EQ(file->meta.hyper_params.at("smoothing"), "interpolated-kneser-ney");
    // Another kind in the same container is refused by name.
    meta.kind = "hmm";
    ASSERT_TRUE(write_model_file(path, meta, file->payload).ok());
    EXPECT_EQ(load_markov_model(path).error(), path + ": model kind 'hmm', expected 'markov'");
    // A vocabulary that does not fit the chain is refused at save time.
    Vocabulary small;
    EXPECT_FALSE(save_markov_model(path, small, m, meta).ok());
    std::remove(path.c_str());
}

// A large model (200 symbols, order 2, 20000 sequences of 30 events: ~100k contexts and entries) survives
// the file round trip exactly. Load time is a benchmark matter, not asserted here (shared machines).
TEST(Markov, LargeModelRoundTripsExactly) {
    const uint32_t vocab = 200;
    std::mt19937_64 rng(5);
    std::vector<std::vector<uint32_t>> corpus(20000);
    for (auto& s : corpus) {
        uint32_t x = static_cast<uint32_t>(rng() % vocab);
        for (int i = 0; i < 30; ++i) s.push_back(x = static_cast<uint32_t>((x * 7 + rng() % 40) % vocab));
    }
    MarkovChain m = make(2, 0.75, true, vocab);
    ASSERT_TRUE(m.train(corpus).ok());
    Vocabulary v;
    for (uint32_t i = 1; i < vocab; ++i) v.add("sym" + std::to_string(i));
    std::string path = ::testing::TempDir() + "large_markov.etm";
    ASSERT_TRUE(save_markov_model(path, v, m, {}).ok());
    auto back = load_markov_model(path);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->chain.context_count(), m.context_count());
    EXPECT_EQ(back->chain.entry_count(), m.entry_count());
    // Every probability of a sample of the training contexts is bit-identical after the reload.
    for (size_t i = 0; i < corpus.size(); i += 997) {
        const auto& seq = corpus[i];
        for (size_t t = 2; t < seq.size(); t += 7) {
            std::vector<uint32_t> ctx(seq.begin() + static_cast<long>(t) - 2,
                                      seq.begin() + static_cast<long>(t));
            for (uint32_t next = 0; next < vocab; next += 13)
                ASSERT_EQ(back->chain.prob(ctx, next), m.prob(ctx, next)) << "sequence " << i << " at " << t;
        }
    }
    std::remove(path.c_str());
}

TEST(Vocabulary, IdsAreDenseAndStable) {
    Vocabulary v;
    EXPECT_EQ(v.size(), 1u);
    EXPECT_EQ(v.symbol(Vocabulary::kUnk), "<unk>");
    std::vector<std::string> pages = {"home", "search", "home", "cart"};
    EXPECT_EQ(v.add_all(pages), (std::vector<uint32_t>{1, 2, 1, 3}));
    EXPECT_EQ(v.size(), 4u);
    EXPECT_EQ(v.add("<unk>"), Vocabulary::kUnk);
    std::vector<std::string> seen = {"cart", "checkout"};
    EXPECT_EQ(v.encode(seen), (std::vector<uint32_t>{3, Vocabulary::kUnk}));
    EXPECT_EQ(v.size(), 4u); // encode() never adds
    EXPECT_EQ(v.symbol(99), "<unk>");
}

TEST(Vocabulary, SerializedFormRoundTripsAndIsChecked) {
    Vocabulary v;
    v.add("home");
    v.add("search");
    ByteWriter w;
    v.serialize(w);
    std::vector<uint8_t> bytes = w.take();
    ByteReader r(bytes);
    auto back = Vocabulary::deserialize(r);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->size(), 3u);
    EXPECT_EQ(back->id("search"), 2u);
    for (size_t n = 0; n < bytes.size(); ++n) {
        ByteReader cut(std::span<const uint8_t>(bytes).first(n));
        EXPECT_FALSE(Vocabulary::deserialize(cut).ok()) << n;
    }
    // A duplicate symbol would make two ids for one value.
    ByteWriter d;
    d.u32(3);
    d.str("<unk>");
    d.str("home");
    d.str("home");
    std::vector<uint8_t> dup = d.take();
    ByteReader rd(dup);
    auto got = Vocabulary::deserialize(rd);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error(), "vocabulary: duplicate symbol 'home'");
}

} // namespace
} // namespace ethogram::models
