// drift_test.cpp: PSI and KL by hand, quantile cut points, the baseline's header encoding, the model-file
// header keys added for `etho train`, and the mmap loader.
#include "models/drift.h"
#include "models/model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace ethogram::models {
namespace {

TEST(Drift, PsiAndKlByHandWithoutSmoothing) {
    // p = (0.1, 0.3, 0.6), q = (0.2, 0.3, 0.5).
    std::vector<uint64_t> base = {10, 30, 60}, cur = {20, 30, 50};
    auto d = compare_counts(base, cur, 0.0);
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_NEAR(d->psi, 0.1 * std::log(2.0) + (-0.1) * std::log(0.5 / 0.6), 1e-12);
    EXPECT_NEAR(d->psi, 0.0875469, 1e-7);
    EXPECT_NEAR(d->kl, 0.2 * std::log(2.0) + 0.5 * std::log(0.5 / 0.6), 1e-12);
    EXPECT_NEAR(d->kl, 0.0474687, 1e-7);
}

TEST(Drift, SmoothingKeepsEmptyBinsFinite) {
    // s = 0.5 over 3 bins: both totals become 101.5; the middle bins cancel.
    std::vector<uint64_t> base = {10, 30, 60}, cur = {20, 30, 50};
    auto d = compare_counts(base, cur);
    ASSERT_TRUE(d.ok());
    const double n = 101.5;
    EXPECT_NEAR(d->psi, 10 / n * std::log(20.5 / 10.5) - 10 / n * std::log(50.5 / 60.5), 1e-12);
    // A symbol never seen in the baseline: large but finite.
    std::vector<uint64_t> b2 = {0, 100}, c2 = {50, 50};
    auto e = compare_counts(b2, c2);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(std::isfinite(e->psi));
    EXPECT_GT(e->psi, 2.0);
    // Identical distributions: zero.
    auto z = compare_counts(base, base);
    EXPECT_DOUBLE_EQ(z->psi, 0.0);
    EXPECT_DOUBLE_EQ(z->kl, 0.0);
}

TEST(Drift, CompareRefusesMismatchedOrEmptyInputs) {
    std::vector<uint64_t> a = {1, 2}, b = {1, 2, 3}, zero = {0, 0};
    EXPECT_EQ(compare_counts(a, b).error(), "drift: baseline has 2 bins, current window 3");
    EXPECT_EQ(compare_counts(a, zero).error(), "drift: the current window is empty");
    EXPECT_EQ(compare_counts(zero, a).error(), "drift: the baseline is empty");
}

TEST(Drift, QuantileEdgesAndBins) {
    std::vector<double> v = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    // Nearest ranks ceil(k * 10 / 4) = 3, 5, 8: cut above values 3, 5 and 8.
    std::vector<double> e = quantile_edges(v, 4);
    EXPECT_EQ(e, (std::vector<double>{4, 6, 9}));
    Histogram h{e, {}};
    for (double x : v) h.add(x);
    EXPECT_EQ(h.counts, (std::vector<uint64_t>{3, 2, 3, 2}));
    EXPECT_EQ(h.bin_of(-1e300), 0u);
    EXPECT_EQ(h.bin_of(4.0), 1u); // a value on a cut point goes up
    EXPECT_EQ(h.bin_of(INFINITY), 3u);
    // Ties stay together; a constant sample has no cut point (one bin).
    EXPECT_EQ(quantile_edges({1, 1, 1, 1, 2}, 2), (std::vector<double>{2}));
    EXPECT_TRUE(quantile_edges({3, 3, 3}, 10).empty());
    EXPECT_TRUE(quantile_edges({NAN, INFINITY}, 10).empty());
}

TEST(Drift, BaselineRoundTripsThroughTheHeader) {
    DriftBaseline b;
    b.field_counts = {0, 5, 7};
    b.score_name = "p(bot)";
    b.score.edges = {0.1, 1.0 / 3, 0.9};
    b.score.counts = {4, 0, 2, 9};
    std::map<std::string, std::string> kv;
    b.to_meta(kv);
    auto back = DriftBaseline::from_meta(kv);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->field_counts, b.field_counts);
    EXPECT_EQ(back->score.edges, b.score.edges); // shortest round-trip text: exact
    EXPECT_EQ(back->score.counts, b.score.counts);
    EXPECT_EQ(back->score_name, "p(bot)");

    auto missing = kv;
    missing.erase("score_counts");
    EXPECT_EQ(DriftBaseline::from_meta(missing).error(),
              "the model has no drift baseline (header key baseline.score_counts is missing)");
    auto bad = kv;
    bad["score_counts"] = "1,2";
    EXPECT_EQ(DriftBaseline::from_meta(bad).error(),
              "baseline.score_counts: 2 bins for 3 cut points (expected 4)");
    bad = kv;
    bad["field_counts"] = "1,x";
    EXPECT_NE(DriftBaseline::from_meta(bad).error().find("baseline.field_counts: not a list of counts"),
              std::string::npos);
}

class MetaFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ethogram_mt_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string path(const char* n) const { return (dir_ / n).string(); }
    std::filesystem::path dir_;
};

ModelMeta full_meta() {
    ModelMeta m;
    m.kind = "classifier";
    m.engine_version = kEngineVersion;
    m.training_data_hash = "ab";
    m.sequences = 2;
    m.events = 9;
    m.created_unix = 1'800'000'000;
    m.hyper_params = {{"order", "2"}};
    m.field = "page";
    m.event_types = {"page_view", "click"};
    m.vocabulary_size = 12;
    m.training = {{"spec", "model:\n  kind: classifier\n"}, {"events_file", "e.jsonl"}};
    m.baseline = {{"field_counts", "0,1,2"}};
    return m;
}

TEST_F(MetaFile, CompatibilityKeysRoundTrip) {
    const std::vector<uint8_t> payload = {1, 2, 3};
    ASSERT_TRUE(write_model_file(path("m.etm"), full_meta(), payload).ok());
    auto got = read_model_file(path("m.etm"));
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(got->meta, full_meta());
    EXPECT_EQ(got->payload, payload);
}

TEST_F(MetaFile, UnsetKeysAreNotWritten) {
    // A file without the new keys is byte-identical to one an earlier build wrote: same header length.
    ModelMeta bare = full_meta();
    bare.field.clear();
    bare.event_types.clear();
    bare.vocabulary_size = 0;
    bare.training.clear();
    bare.baseline.clear();
    std::vector<uint8_t> b = encode_model_file(bare, {});
    const std::string text(b.begin(), b.end());
    for (const char* key : {"field", "event_types", "vocabulary_size", "train.", "baseline."})
        EXPECT_EQ(text.find(key), std::string::npos) << key;
    auto back = decode_model_file(b, "m");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->meta, bare);
}

TEST_F(MetaFile, MappedLoadMatchesReadAndRefusesCorruption) {
    std::vector<uint8_t> payload(10000);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
    ASSERT_TRUE(write_model_file(path("big.etm"), full_meta(), payload).ok());
    auto mapped = map_model_file(path("big.etm"));
    ASSERT_TRUE(mapped.ok()) << mapped.error();
    EXPECT_EQ(mapped->meta, full_meta());
    EXPECT_TRUE(std::equal(mapped->payload.begin(), mapped->payload.end(), payload.begin(), payload.end()));
    MappedModelFile moved = std::move(*mapped); // the mapping moves with it
    EXPECT_EQ(moved.payload.size(), payload.size());

    std::vector<uint8_t> bytes = encode_model_file(full_meta(), payload);
    bytes[bytes.size() / 2] ^= 0x10;
    std::ofstream(path("bad.etm"), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    auto bad = map_model_file(path("bad.etm"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), read_model_file(path("bad.etm")).error());
    EXPECT_EQ(bad.error(), path("bad.etm") + ": checksum mismatch, the model file is corrupt");
    std::ofstream(path("empty.etm"));
    EXPECT_EQ(map_model_file(path("empty.etm")).error(), path("empty.etm") + ": empty file, not a model");
    EXPECT_NE(map_model_file(path("none.etm")).error().find("cannot open model file"), std::string::npos);
}

} // namespace
} // namespace ethogram::models
