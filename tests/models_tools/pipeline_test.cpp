// pipeline_test.cpp: splits and folds, training every kind from a spec, scoring, cross-validation, reports
// and any-kind model files.
#include "tools/model_pipeline.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <unistd.h>

namespace ethogram::tools {
namespace {

TEST(Split, HoldoutIsDeterministicStratifiedAndDisjoint) {
    std::vector<size_t> strata(100, 0);
    for (size_t i = 0; i < 20; ++i) strata[i * 5] = 1;
    std::vector<size_t> tr, ho, tr2, ho2, tr3, ho3;
    split_holdout(100, &strata, 0.25, 7, tr, ho);
    split_holdout(100, &strata, 0.25, 7, tr2, ho2);
    split_holdout(100, &strata, 0.25, 8, tr3, ho3);
    EXPECT_EQ(ho, ho2);
    EXPECT_NE(ho, ho3);
    ASSERT_EQ(ho.size(), 25u); // 20 of the 80, 5 of the 20
    size_t minority = 0;
    for (size_t i : ho) minority += strata[i] == 1;
    EXPECT_EQ(minority, 5u);
    std::set<size_t> all(tr.begin(), tr.end());
    all.insert(ho.begin(), ho.end());
    EXPECT_EQ(all.size(), 100u);
    EXPECT_EQ(tr.size() + ho.size(), 100u);
}

TEST(Split, FoldsAreBalanced) {
    std::vector<size_t> strata(23, 0);
    for (size_t i = 0; i < 7; ++i) strata[i] = 1;
    std::vector<uint32_t> f = assign_folds(23, &strata, 5, 3);
    std::vector<int> size(5, 0), minority(5, 0);
    for (size_t i = 0; i < 23; ++i) {
        ++size[f[i]];
        minority[f[i]] += strata[i] == 1;
    }
    for (int s : size) EXPECT_TRUE(s == 4 || s == 5) << s;
    for (int m : minority) EXPECT_LE(m, 2);
}

std::vector<Sequence> toy_data(std::vector<size_t>& labels) {
    // Class 0 alternates x/y, class 1 repeats z with the odd x.
    std::vector<Sequence> seqs;
    for (int i = 0; i < 40; ++i) {
        Sequence s;
        s.id = s.key = fmt::format("k{}", i);
        const bool one = i % 4 == 0;
        for (int t = 0; t < 6 + i % 3; ++t)
            s.symbols.push_back(one ? (t % 3 == 2 ? "x" : "z") : (t % 2 ? "y" : "x"));
        seqs.push_back(std::move(s));
        labels.push_back(one ? 1 : 0);
    }
    return seqs;
}

TrainSpec classifier_spec() {
    auto s = parse_spec("model: {kind: classifier, classes: [normal, odd], order: 1}\n"
                        "events: {field: page, key: s}\nvalidation: {fraction: 0.25, seed: 3}\n",
                        "toy.yaml");
    EXPECT_TRUE(s.ok()) << s.error();
    return *s;
}

TEST(Pipeline, ClassifierSeparatesToyClassesAndReports) {
    std::vector<size_t> labels;
    std::vector<Sequence> seqs = toy_data(labels);
    TrainSpec spec = classifier_spec();
    std::vector<size_t> tr, ho;
    split_holdout(seqs.size(), &labels, spec.fraction, spec.seed, tr, ho);
    auto m = train_model(spec, seqs, tr, &labels);
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m->vocabulary.size(), 4u); // <unk>, x, y, z (order of first appearance in training)
    Predictions p = predict(*m, seqs, ho, &labels, spec.classes, 1);
    EvalReport r = summarise(*m, p);
    ASSERT_TRUE(r.labelled);
    EXPECT_EQ(r.sequences, ho.size());
    EXPECT_DOUBLE_EQ(r.report.accuracy, 1.0);
    EXPECT_DOUBLE_EQ(r.positive_auc, 1.0);
    EXPECT_EQ(r.confusion->at(1, 1), 3u); // round(0.25 * 10), half away from zero
    EXPECT_EQ(r.confusion->at(0, 0), 8u);
    const std::string text = format_report_text(*m, r);
    EXPECT_NE(text.find("accuracy: 1.0000, macro-F1: 1.0000"), std::string::npos) << text;
    EXPECT_NE(text.find("calibration of P(odd)"), std::string::npos) << text;
    const std::string js = format_report_json(*m, r);
    EXPECT_NE(js.find("\"confusion\":[[8,0],[0,3]]"), std::string::npos) << js;
    // Unseen symbols are counted.
    Sequence novel{"n", "n", {"x", "w", "w"}, 0, 0};
    EXPECT_EQ(score_sequence(*m, novel).unseen, 2u);
}

TEST(Pipeline, ClassifierWithoutATrainingSequenceOfAClassFails) {
    std::vector<size_t> labels;
    std::vector<Sequence> seqs = toy_data(labels);
    std::vector<size_t> only_normal;
    for (size_t i = 0; i < seqs.size(); ++i)
        if (labels[i] == 0) only_normal.push_back(i);
    auto m = train_model(classifier_spec(), seqs, only_normal, &labels);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error(), "class 'odd' has no training sequence");
}

TEST(Pipeline, MarkovPerplexityMatchesTheChain) {
    auto spec = parse_spec("model: {kind: markov, order: 1}\nevents: {field: page, key: s}\n", "m.yaml");
    ASSERT_TRUE(spec.ok());
    std::vector<size_t> labels;
    std::vector<Sequence> seqs = toy_data(labels);
    std::vector<size_t> all(seqs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    auto m = train_model(*spec, seqs, all, nullptr);
    ASSERT_TRUE(m.ok());
    Predictions p = predict(*m, seqs, {0, 1}, nullptr, {}, 0);
    EvalReport r = summarise(*m, p);
    // By hand from the chain: sum of ln P(w_t | w_{t-1}) over both sequences.
    double ll = 0;
    uint64_t n = 0;
    for (size_t i : {0, 1}) {
        std::vector<uint32_t> ids = m->vocabulary.encode(seqs[i].symbols);
        std::vector<uint32_t> ctx = m->markov->start_context();
        for (uint32_t id : ids) {
            ll += m->markov->log_prob(ctx, id);
            ctx = {id};
            ++n;
        }
    }
    EXPECT_NEAR(r.log_likelihood, ll, 1e-9);
    EXPECT_EQ(r.events, n);
    EXPECT_NEAR(r.perplexity, std::exp(-ll / double(n)), 1e-9);
    EXPECT_FALSE(r.labelled);
}

TEST(Pipeline, KFoldPoolsEverySequenceOnce) {
    std::vector<size_t> labels;
    std::vector<Sequence> seqs = toy_data(labels);
    Predictions pooled;
    auto r = cross_validate(classifier_spec(), seqs, &labels, {"normal", "odd"}, 1, 4, &pooled);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->sequences, seqs.size());
    EXPECT_EQ(r->confusion->total(), seqs.size());
    ASSERT_EQ(r->folds.size(), 4u);
    EXPECT_FALSE(std::isnan(r->folds[0].macro_f1));
    EXPECT_TRUE(std::isnan(r->folds[0].perplexity));
    EXPECT_EQ(pooled.drift_scores.size(), seqs.size());
    auto too_many = cross_validate(classifier_spec(), std::vector<Sequence>(seqs.begin(), seqs.begin() + 3),
                                   &labels, {"normal", "odd"}, 1, 4);
    EXPECT_EQ(too_many.error(), "4 folds need at least 4 sequences, there are 3");
}

TEST(Pipeline, EveryKindRoundTripsThroughAModelFile) {
    const auto dir = std::filesystem::temp_directory_path() / ("ethogram_pl_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::vector<size_t> labels;
    std::vector<Sequence> seqs = toy_data(labels);
    std::vector<size_t> all(seqs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    for (const char* kind : {"markov", "hmm", "classifier"}) {
        std::string text = std::string("model: {kind: ") + kind +
                           (std::string(kind) == "classifier" ? ", classes: [normal, odd]}"
                            : std::string(kind) == "hmm" ? ", states: 2, restarts: 2, max_iterations: 20}"
                                                         : "}") +
                           "\nevents: {field: page, key: s}\n";
        auto spec = parse_spec(text, "s.yaml");
        ASSERT_TRUE(spec.ok()) << spec.error();
        auto m = train_model(*spec, seqs, all, &labels);
        ASSERT_TRUE(m.ok()) << kind << ": " << m.error();
        models::ModelMeta meta;
        meta.field = "page";
        meta.training["spec"] = text;
        const std::string path = (dir / (std::string(kind) + ".etm")).string();
        ASSERT_TRUE(save_any_model(path, *m, meta).ok());
        auto back = load_any_model(path);
        ASSERT_TRUE(back.ok()) << back.error();
        EXPECT_EQ(back->kind, m->kind);
        EXPECT_EQ(back->meta.vocabulary_size, 4u);
        EXPECT_EQ(back->meta.kind, kind);
        // Same scores after the round trip.
        EXPECT_DOUBLE_EQ(score_sequence(*back, seqs[0]).log_likelihood,
                         score_sequence(*m, seqs[0]).log_likelihood);
        auto st = stored_spec(*back, path);
        ASSERT_TRUE(st.ok()) << st.error();
        EXPECT_EQ(st->kind, m->kind);
    }
    models::ModelMeta bare;
    auto m = train_model(*parse_spec("model: {kind: markov}\nevents: {field: f, key: k}\n", "x"), seqs, all,
                         nullptr);
    const std::string path = (dir / "bare.etm").string();
    ASSERT_TRUE(save_any_model(path, *m, bare).ok());
    EXPECT_EQ(stored_spec(*load_any_model(path), path).error(),
              path + ": the model stores no training spec (it was not trained by `etho train`)");
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace ethogram::tools
