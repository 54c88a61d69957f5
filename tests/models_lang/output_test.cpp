// output_test.cpp: what the JSON output says about model decisions: "decision" always, and with --explain
// each model's evidence and scores for the key.
#include "tests/models_lang/lang_harness.h"

#include "runtime/output.h"

#include <gtest/gtest.h>

namespace ethogram::models_lang_test {
namespace {

TEST(Output, DecisionAndModelScores) {
    std::string chain = write_markov(make_temp_dir("out"));
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; min_evidence 2; }\n" +
              "rule r { label t; on A; when surprise(m) > 4; fallback when A.x > 0; }\n" +
              "rule plain { label t; on B; when B.x > 0; }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    r.ev("A", "k", 1, "b", 1); // fallback (evidence 1 < 2); b after <s>: 3/32
    r.ev("B", "k", 2, "", 1);  // a rule without models
    r.finish();
    ASSERT_EQ(r.out().size(), 2u);
    std::string line;
    runtime::OutputOptions explain;
    explain.explain = true;
    runtime::format_detection(r.out()[0], r.rules(), r.pool(), explain, line);
    EXPECT_NE(line.find("\"trigger\":\"event\",\"decision\":\"fallback\",\"fields\""), std::string::npos)
        << line;
    // -log2(3/32) = 3.41503749927884..., ln(3/32) = -2.36712361413161... (the last digits may round).
    EXPECT_NE(line.find(",\"models\":{\"m\":{\"evidence\":1,\"confident\":false,\"surprise\":3.41503749927"),
              std::string::npos)
        << line;
    EXPECT_NE(line.find(",\"loglik\":-2.36712361413"), std::string::npos) << line;
    std::string terse;
    runtime::format_detection(r.out()[0], r.rules(), r.pool(), {}, terse);
    EXPECT_NE(terse.find("\"decision\":\"fallback\""), std::string::npos);
    EXPECT_EQ(terse.find("\"models\""), std::string::npos); // scores only with --explain
    std::string plain;
    runtime::format_detection(r.out()[1], r.rules(), r.pool(), explain, plain);
    EXPECT_EQ(plain.find("decision"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("\"models\""), std::string::npos) << plain;
}

} // namespace
} // namespace ethogram::models_lang_test
