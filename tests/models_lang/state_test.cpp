// state_test.cpp: per-key model state in the interpreter's state accounting (state_bytes.cpp) and in idle-key
// eviction (a key whose per-key model has evidence is kept; a `per session` model's key is evicted).
#include "compiler/interp/model_state.h"
#include "tests/models_lang/lang_harness.h"

#include <gtest/gtest.h>

namespace ethogram::models_lang_test {
namespace {

constexpr uint64_t kBlock = 16; // state_bytes.cpp's per-allocation overhead

std::string probe() {
    return "rule p { label t; pattern e: A; }\n";
}

class ModelState : public ::testing::Test {
protected:
    void SetUp() override { dir = make_temp_dir("state"); }
    std::string dir;
};

// One key, one event: the same rule set with and without a model differs by the model's state exactly.
uint64_t bytes_after_one_event(const std::string& text) {
    RuleRun r(text);
    EXPECT_TRUE(r.ok()) << r.diagnostics();
    if (!r.ok()) return 0;
    r.ev("A", "k", 1, "a");
    return r.stats().state_bytes;
}

TEST_F(ModelState, HmmAndClassifierStatesAreCounted) {
    const uint64_t none = bytes_after_one_event(prelude() + probe());
    const uint64_t hmm = bytes_after_one_event(prelude() + "model h: hmm { path \"" + write_hmm(dir) +
                                               "\"; observe A.s; }\n" + probe());
    const uint64_t cls = bytes_after_one_event(prelude() + "model c: classifier { path \"" +
                                               write_classifier(dir) + "\"; observe A.s; }\n" + probe());
    const uint64_t markov = bytes_after_one_event(prelude() + "model m: markov { path \"" +
                                                  write_markov(dir) + "\"; observe A.s; }\n" + probe());
    ASSERT_GT(none, 0u);
    // KeyState::models, one model: inline in the key's record, after an 8-byte header (key_table.h).
    static_assert(sizeof(interp::ModelKeyState) % 8 == 0);
    const uint64_t slot = 8 + sizeof(interp::ModelKeyState);
    // A chain's state is inline in its slot.
    EXPECT_EQ(markov - none, slot);
    // An HMM with 2 states: its posterior and scratch rows, 2 doubles each.
    EXPECT_EQ(hmm - none, slot + 2 * (2 * sizeof(double) + kBlock));
    // A classifier with 2 classes: one chain state per class.
    EXPECT_EQ(cls - none, slot + 2 * sizeof(models::MarkovState) + kBlock);
}

TEST_F(ModelState, AKeyWithPerKeyModelEvidenceIsNotEvicted) {
    RuleRun r(prelude() + "model all: markov { path \"" + write_markov(dir) + "\"; observe A.s; }\n" +
              probe());
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 0, "a");
    r.ev("B", "idle", 0, ""); // B is not observed: no evidence for `idle`
    r.watermark(24 * 3600);   // far past every horizon (the session gap, 10m)
    ir::ExecutorStats s = r.stats();
    EXPECT_EQ(s.evictions, 1u); // `idle` only
    EXPECT_EQ(s.live_keys, 1u);
    // k still remembers its history: its second event is scored after the first.
    r.ev("A", "k", 24 * 3600 + 1, "a");
    r.ev("A", "idle", 24 * 3600 + 2, "a");
    r.finish();
    std::vector<ir::Detection> p = r.of("p");
    ASSERT_EQ(p.size(), 3u);
    s = r.stats();
    EXPECT_EQ(s.evictions, 1u);
}

TEST_F(ModelState, APerSessionModelsKeyIsEvicted) {
    const std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; per session v; }\n" +
              "rule p { label t; pattern e: A; emit n = evidence(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 0, "a");
    r.ev("A", "k", 1, "a");
    r.watermark(24 * 3600);
    const ir::ExecutorStats s = r.stats();
    EXPECT_EQ(s.evictions, 1u);
    EXPECT_EQ(s.live_keys, 0u);
    // Evicting changed nothing: the next event opens a new session, as it would have on the kept key.
    r.ev("A", "k", 24 * 3600 + 1, "a");
    r.finish();
    std::vector<ir::Detection> p = r.of("p");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(r.num(p[1], "n"), 2);
    EXPECT_EQ(r.num(p[2], "n"), 1);
}

} // namespace
} // namespace ethogram::models_lang_test
