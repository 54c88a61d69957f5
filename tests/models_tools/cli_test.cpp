// cli_test.cpp: etho train/eval/drift end to end: round trip, exit codes, corrupt models, and the bots
// example reproduced byte for byte (model, card, golden outputs).
#include "tests/support/cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using ethogram::test_support::has;
using ethogram::test_support::slurp;
using Result = ethogram::test_support::CliResult;

class ModelCli : public ethogram::test_support::CliFixture {
protected:
    void SetUp() override {
        make_dir("etho_mcli");
        // 60 sessions: "a" sessions browse home/list/item, "b" sessions hammer login; two broken lines.
        std::string events, labels = "key,label\n";
        for (int s = 0; s < 60; ++s) {
            const bool b = s % 3 == 0;
            const std::string key = std::string("s").append(std::to_string(s));
            labels += key + "," + (b ? "b" : "a") + "\n";
            for (int t = 0; t < 8; ++t) {
                const char* page = b ? (t % 4 == 3 ? "home" : "login")
                                     : (t % 3 == 0   ? "home"
                                        : t % 3 == 1 ? "list"
                                                     : "item");
                events += "{\"type\":\"view\",\"key\":\"" + key + "\",\"page\":\"" + page +
                          "\",\"ts\":" + std::to_string(1000 * (s * 100 + t)) + "}\n";
            }
            if (s == 10) events += "{broken\n";
            if (s == 20) events += "{\"type\":\"view\",\"key\":\"s20\",\"ts\":5}\n";
        }
        write("events.jsonl", events);
        write("labels.csv", labels);
        write("spec.yaml", "model: {kind: classifier, classes: [a, b], order: 1}\n"
                           "events: {types: [view], field: page, key: key}\n"
                           "validation: {fraction: 0.3, seed: 5}\n");
    }
    // `etho ARGS` in `cwd` (default: the test's directory), with a fixed SOURCE_DATE_EPOCH.
    Result etho(const std::string& args, const std::string& cwd = "") const {
        return run("cd " + (cwd.empty() ? dir : cwd) + " && SOURCE_DATE_EPOCH=1772438400 " + ETHO_PATH + " " +
                   args);
    }
};

TEST_F(ModelCli, TrainThenEvalRoundTrip) {
    Result t = etho("train --spec spec.yaml --events events.jsonl --labels labels.csv --out m.etm "
                    "--dead-letter dead.jsonl");
    ASSERT_EQ(t.code, 0) << t.err;
    EXPECT_TRUE(has(t.out, "wrote m.etm (classifier, 42 training sequences")) << t.out;
    // The two malformed lines are reported with file:line and reason, and dead-lettered.
    EXPECT_TRUE(has(t.err, "events.jsonl:89: parse_error: invalid JSON")) << t.err;
    EXPECT_TRUE(has(t.err, "missing_field: no \"page\" member")) << t.err;
    EXPECT_TRUE(has(t.err, "2 malformed line(s) skipped, written to dead.jsonl")) << t.err;
    const std::string dead = slurp(path("dead.jsonl"));
    EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 2);
    // The card is beside the model.
    const std::string md = slurp(path("m.card.md"));
    EXPECT_TRUE(has(md, "# Model card: m.etm")) << md;
    EXPECT_TRUE(has(md, "## Limitations")) << md;
    EXPECT_TRUE(has(md, "2 malformed")) << md;
    EXPECT_TRUE(has(slurp(path("m.card.json")), "\"validation_sequences\":18")) << slurp(path("m.card.json"));

    Result e = etho("eval --model m.etm --events events.jsonl --labels labels.csv");
    ASSERT_EQ(e.code, 0) << e.err;
    EXPECT_TRUE(has(e.out, "accuracy: 1.0000")) << e.out;
    EXPECT_TRUE(has(e.out, "ROC AUC (one class vs the rest): a 1.0000 b 1.0000")) << e.out;
    Result j = etho("eval --model m.etm --events events.jsonl --labels labels.csv --format json");
    ASSERT_EQ(j.code, 0) << j.err;
    EXPECT_TRUE(has(j.out, "\"confusion\":[[40,0],[0,20]]")) << j.out;
    Result cv = etho("eval --model m.etm --events events.jsonl --labels labels.csv --folds 3");
    ASSERT_EQ(cv.code, 0) << cv.err;
    EXPECT_TRUE(has(cv.out, "cross-validation: 3 folds")) << cv.out;
    EXPECT_TRUE(has(cv.out, "fold 3: macro-F1 1.0000")) << cv.out;
}

TEST_F(ModelCli, SpecAndUsageErrorsExitTwo) {
    write("bad.yaml", "model:\n  kind: forest\nevents: {field: page, key: key}\n");
    Result r = etho("train --spec bad.yaml --events events.jsonl --labels labels.csv --out m.etm");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "bad.yaml:2:9: error: model.kind: unknown kind 'forest'")) << r.err;
    r = etho("train --spec spec.yaml --events events.jsonl --out m.etm");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "a classifier needs --labels")) << r.err;
    r = etho("train --spec spec.yaml --events nope.jsonl --labels labels.csv --out m.etm");
    EXPECT_EQ(r.code, 2);
    EXPECT_FALSE(std::filesystem::exists(path("m.etm")));
    r = etho("eval --detections d.jsonl");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "needs --labels")) << r.err;
}

TEST_F(ModelCli, LabelsOutsideTheClassesAreRefused) {
    write("labels2.csv", "key,label\ns1,robot\n");
    Result r = etho("train --spec spec.yaml --events events.jsonl --labels labels2.csv --out m.etm");
    EXPECT_EQ(r.code, 4);
    EXPECT_TRUE(has(r.err, "label 'robot' of 's1' is not one of the model's classes (a, b)")) << r.err;
}

TEST_F(ModelCli, CorruptOrForeignModelIsRefused) {
    ASSERT_EQ(etho("train --spec spec.yaml --events events.jsonl --labels labels.csv --out m.etm").code, 0);
    std::string bytes = slurp(path("m.etm"));
    bytes[bytes.size() / 2] ^= 0x20;
    write("bad.etm", bytes);
    Result r = etho("eval --model bad.etm --events events.jsonl --labels labels.csv");
    EXPECT_EQ(r.code, 4);
    EXPECT_TRUE(has(r.err, "bad.etm: checksum mismatch, the model file is corrupt")) << r.err;
    r = etho("drift --model bad.etm --events events.jsonl");
    EXPECT_EQ(r.code, 4);
    write("text.etm", "not a model at all, just some text of a reasonable length to pass the size check\n");
    r = etho("drift --model text.etm --events events.jsonl");
    EXPECT_EQ(r.code, 4);
    EXPECT_TRUE(has(r.err, "text.etm: not an Ethogram model file (bad magic)")) << r.err;
}

TEST_F(ModelCli, DriftThresholdSetsTheExitCode) {
    ASSERT_EQ(etho("train --spec spec.yaml --events events.jsonl --labels labels.csv --out m.etm").code, 0);
    Result same = etho("drift --model m.etm --events events.jsonl");
    EXPECT_EQ(same.code, 0) << same.out << same.err;
    EXPECT_TRUE(has(same.out, "field page")) << same.out;
    EXPECT_TRUE(has(same.out, "threshold (PSI): 0.25: ok")) << same.out;
    // Only "b" sessions, and a page never seen: the field distribution moves a lot.
    std::string shifted;
    for (int s = 0; s < 20; ++s)
        for (int t = 0; t < 8; ++t)
            shifted += "{\"type\":\"view\",\"key\":\"n" + std::to_string(s) + "\",\"page\":\"" +
                       (t % 2 ? "login" : "promo") + "\",\"ts\":" + std::to_string(t * 1000) + "}\n";
    write("shifted.jsonl", shifted);
    Result d = etho("drift --model m.etm --events shifted.jsonl");
    EXPECT_EQ(d.code, 3) << d.out << d.err;
    EXPECT_TRUE(has(d.out, "DRIFT")) << d.out;
    Result j = etho("drift --model m.etm --events shifted.jsonl --format json --threshold 1000");
    EXPECT_EQ(j.code, 0) << j.out;
    EXPECT_TRUE(has(j.out, "\"drift\":false")) << j.out;
    EXPECT_TRUE(has(j.out, "\"unseen_events\":80")) << j.out;
}

TEST_F(ModelCli, EvalScoresRuleDetections) {
    write("det.jsonl", "{\"rule\":\"r1\",\"key\":\"s0\"}\n{\"rule\":\"r1\",\"key\":\"s1\"}\n"
                       "{\"rule\":\"r2\",\"key\":\"s3\"}\n{\"rule\":\"r1\",\"key\":\"zz\"}\n");
    write("lab.csv", "key,label\ns0,b\ns1,a\ns2,a\ns3,b\n");
    Result r = etho("eval --detections det.jsonl --labels lab.csv --positive b --rule r1 --format json");
    ASSERT_EQ(r.code, 0) << r.err;
    // r1 detects s0 (b: tp), s1 (a: fp) and zz (unlabelled); s3 (b) is missed; s2 (a) is a true negative.
    EXPECT_TRUE(has(r.out, "\"tp\":1,\"fp\":1,\"fn\":1,\"tn\":1")) << r.out;
    EXPECT_TRUE(has(r.out, "\"detected_unlabelled_keys\":1")) << r.out;
    EXPECT_TRUE(has(r.out, "\"precision\":0.5,\"recall\":0.5")) << r.out;
    Result all = etho("eval --detections det.jsonl --labels lab.csv --positive b");
    ASSERT_EQ(all.code, 0) << all.err;
    EXPECT_TRUE(has(all.out, "precision 0.6667, recall 1.0000")) << all.out;
    EXPECT_EQ(etho("eval --detections det.jsonl --labels lab.csv").code, 2);
}

// The committed bots example is exactly what train.sh produces with this build.
TEST_F(ModelCli, BotsExampleIsReproducible) {
    const std::string src = BOTS_DIR, work = path("bots");
    std::filesystem::create_directories(work + "/expected");
    for (const char* f : {"spec.yaml", "events.jsonl", "labels.csv", "test_events.jsonl", "test_labels.jsonl",
                          "drift_events.jsonl", "train.sh"})
        std::filesystem::copy_file(src + "/" + f, work + "/" + f);
    const std::string cmd = "cd " + work + " && sh train.sh " + ETHO_PATH + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    for (const char* f : {"model.etm", "model.card.md", "model.card.json", "expected/train.txt",
                          "expected/train.dead.jsonl", "expected/eval.txt", "expected/eval_cv.txt",
                          "expected/drift_test.txt", "expected/drift_shifted.txt"})
        EXPECT_EQ(slurp(work + "/" + f), slurp(src + "/" + f))
            << f << " differs from the committed one: rerun "
            << "examples/bots/train.sh and review the diff";
}

} // namespace

namespace {

// gen_events.py still writes exactly the committed data (fixed seeds, python3 stdlib only).
TEST_F(ModelCli, BotsGeneratorIsReproducible) {
    const std::string src = BOTS_DIR, work = path("gen/bots");
    std::filesystem::create_directories(work);
    std::filesystem::copy_file(src + "/gen_events.py", work + "/gen_events.py");
    std::filesystem::copy_file(src + "/../gen_common.py", path("gen/gen_common.py"));
    const std::string cmd = "cd " + work + " && python3 gen_events.py >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    for (const char* f :
         {"events.jsonl", "labels.csv", "test_events.jsonl", "test_labels.jsonl", "drift_events.jsonl"})
        EXPECT_EQ(slurp(work + "/" + f), slurp(src + "/" + f)) << f << " differs: rerun gen_events.py";
}

} // namespace

namespace {

// Markov and HMM: no labels needed; perplexity, k-fold, and an in-sample baseline flagged in the card.
TEST_F(ModelCli, UnsupervisedKindsTrainEvalAndDrift) {
    write("markov.yaml", "model: {kind: markov, order: 2}\nevents: {field: page, key: key}\n"
                         "validation: {fraction: 0}\n");
    Result t = etho("train --spec markov.yaml --events events.jsonl --out mk.etm");
    ASSERT_EQ(t.code, 0) << t.err;
    EXPECT_TRUE(has(t.out, "validation: no validation split")) << t.out;
    EXPECT_TRUE(
        has(slurp(path("mk.card.md")), "No held-out data: the metrics and the drift baseline are in-sample"));
    Result e = etho("eval --model mk.etm --events events.jsonl --format json");
    ASSERT_EQ(e.code, 0) << e.err;
    EXPECT_TRUE(has(e.out, "\"perplexity\":")) << e.out;
    Result l = etho("eval --model mk.etm --events events.jsonl --labels labels.csv");
    EXPECT_EQ(l.code, 2);
    EXPECT_TRUE(has(l.err, "needs --positive CLASS")) << l.err;
    Result p = etho("eval --model mk.etm --events events.jsonl --labels labels.csv --positive b --folds 3");
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_TRUE(has(p.out, "fold 1: AUC ")) << p.out;
    EXPECT_TRUE(has(p.out, ", perplexity ")) << p.out;
    EXPECT_EQ(etho("drift --model mk.etm --events events.jsonl").code, 0);

    write("hmm.yaml", "model: {kind: hmm, states: 2, restarts: 2, seed: 3, max_iterations: 50}\n"
                      "events: {field: page, key: key}\nvalidation: {folds: 2, seed: 1}\n");
    Result h = etho("train --spec hmm.yaml --events events.jsonl --out h.etm");
    ASSERT_EQ(h.code, 0) << h.err;
    EXPECT_TRUE(has(h.out, "wrote h.etm (hmm, 60 training sequences")) << h.out;
    EXPECT_TRUE(has(h.out, "fold 2: perplexity ")) << h.out;
    Result he = etho("eval --model h.etm --events events.jsonl");
    ASSERT_EQ(he.code, 0) << he.err;
    EXPECT_TRUE(has(he.out, "model: hmm, 2 states, vocabulary 5")) << he.out;
}

} // namespace
