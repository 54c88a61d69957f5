// compile_test.cpp: model declarations at compile time: what the IR holds, paths relative to the rule file,
// executors that never re-read a file, formatting, and the demo's committed models.
#include "tests/models_lang/lang_harness.h"

#include "compiler/driver/compile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ethogram::models_lang_test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Compile, TheIrHoldsTheVerifiedModel) {
    std::string dir = make_temp_dir("ir");
    std::string hmm = write_hmm(dir);
    std::string hash = file_hash(hmm);
    RuleRun r(prelude() + "model h: hmm { path \"" + hmm + "\"; hash \"" + hash +
              "\"; observe A.s, B.s; per session v; min_evidence 7; states calm, busy; }\n" +
              "rule r { label t; on A; when state_prob(h, \"busy\") > 0.5; fallback when A.x > 1; "
              "emit w = hidden_state(h); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    EXPECT_EQ(r.diagnostics(), ""); // pinned: no warning
    const ir::RuleSet& rs = r.rules();
    ASSERT_EQ(rs.models.size(), 1u);
    const ir::Model& m = rs.models[0];
    EXPECT_EQ(m.name, "h");
    EXPECT_EQ(m.kind, ir::ModelKind::Hmm);
    EXPECT_EQ(m.hash, hash);
    EXPECT_EQ(m.path, hmm);
    EXPECT_EQ(m.min_evidence, 7u);
    EXPECT_EQ(m.session, 0);
    EXPECT_EQ(m.labels, (std::vector<std::string>{"calm", "busy"}));
    ASSERT_EQ(m.observe.size(), 2u);
    EXPECT_EQ(m.observe[0].type, rs.find_event("A"));
    EXPECT_EQ(rs.events[m.observe[0].type].fields[m.observe[0].field].name, "s");
    std::string bytes = slurp(hmm);
    EXPECT_EQ(std::string(m.image.begin(), m.image.end()), bytes);
    const ir::Rule& rule = rs.rules[0];
    EXPECT_EQ(rule.gate, (std::vector<uint32_t>{0}));
    EXPECT_EQ(rule.models, (std::vector<uint32_t>{0}));
    EXPECT_NE(rule.fallback, ir::kNoExpr);
    std::string dump = compiler::dump_ir(rs);
    EXPECT_NE(dump.find("model #0 h: hmm " + hash), std::string::npos) << dump;
    EXPECT_NE(dump.find("state_prob(model#0, 1)"), std::string::npos) << dump;
}

TEST(Compile, PathsAreRelativeToTheRuleFile) {
    fs::path dir = make_temp_dir("rel");
    fs::create_directories(dir / "rules" / "models");
    write_markov((dir / "rules" / "models").string(), "nav.etm");
    std::ofstream(dir / "rules" / "set.etho")
        << prelude() << "model m: markov { path \"models/nav.etm\"; observe A.s; }\n"
        << "rule r { label t; on A; when surprise(m) > 1; }\n";
    compiler::Diagnostics d;
    auto res = compiler::compile_paths({(dir / "rules" / "set.etho").string()}, d);
    ASSERT_TRUE(res.ruleset) << d.render();
    EXPECT_EQ(res.ruleset->models[0].path,
              (dir / "rules" / "models" / "nav.etm").lexically_normal().string());
    // Unpinned: a warning that says how to pin it.
    EXPECT_EQ(d.warning_count(), 1u);
    EXPECT_NE(d.render().find("W0801"), std::string::npos);
    EXPECT_NE(d.render().find("add `hash \"blake2b:"), std::string::npos);
}

TEST(Compile, ExecutorsNeverReadTheFile) {
    std::string dir = make_temp_dir("gone");
    std::string chain = write_markov(dir);
    RuleRun r(prelude() + "model m: markov { path \"" + chain + "\"; observe A.s; }\n" +
              "rule r { label t; pattern e: A; emit s = surprise(m); }\n");
    ASSERT_TRUE(r.ok()) << r.diagnostics();
    fs::remove(chain); // the IR carries the image: the file may change or vanish after compilation
    r.ev("A", "k", 1, "b");
    r.finish();
    ASSERT_EQ(r.out().size(), 1u);
    EXPECT_NEAR(r.num(r.out()[0], "s"), -std::log2(3.0 / 32), 1e-12);
}

TEST(Compile, FormatterRoundTrip) {
    const std::string text =
        "ruleset f version 1.0.0;\n"
        "model   nav :markov{path \"m.etm\";hash \"blake2b:00\" ;observe page_view.page,"
        "search.category;per session web;min_evidence 5;states a,b;}\n"
        "rule r{label x;on page_view;when surprise(nav)>4;fallback when count(page_view)>3;}\n"
        "rule q{label x;when predict_next(nav, 2)==\"cart\";fallback none;}\n";
    compiler::Diagnostics d;
    auto once = compiler::format_source("f.etho", text, d);
    ASSERT_TRUE(once) << d.render();
    EXPECT_EQ(*once, "ruleset f version 1.0.0;\n"
                     "model nav: markov {\n"
                     "    path \"m.etm\";\n"
                     "    hash \"blake2b:00\";\n"
                     "    observe page_view.page, search.category;\n"
                     "    per session web;\n"
                     "    min_evidence 5;\n"
                     "    states a, b;\n"
                     "}\n"
                     "rule r {\n"
                     "    label x;\n"
                     "    on page_view;\n"
                     "    when surprise(nav) > 4;\n"
                     "    fallback when count(page_view) > 3;\n"
                     "}\n"
                     "rule q {\n"
                     "    label x;\n"
                     "    when predict_next(nav, 2) == \"cart\";\n"
                     "    fallback none;\n"
                     "}\n");
    auto twice = compiler::format_source("f.etho", *once, d);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*once, *twice);
}

TEST(Compile, FormattedModelRuleSetsCompileToTheSameIr) {
    std::string dir = make_temp_dir("fmt");
    std::string cls = write_classifier(dir);
    std::string text = prelude() + "model c :classifier{path \"" + cls + "\";observe A.s;min_evidence 2;}\n" +
                       "rule r{label t;on A;when class_prob(c,\"bot\")>0.5;fallback when A.x>3;"
                       "emit who=predicted_class(c);}\n";
    compiler::Diagnostics d;
    auto formatted = compiler::format_source("x.etho", text, d);
    ASSERT_TRUE(formatted) << d.render();
    compiler::Diagnostics d1, d2;
    auto a = compiler::compile_source("x.etho", text, d1);
    auto b = compiler::compile_source("x.etho", *formatted, d2);
    ASSERT_TRUE(a.ruleset && b.ruleset) << d1.render() << d2.render();
    // Rule hashes and the content hash cover the text; everything else must agree.
    a.ruleset->content_hash = b.ruleset->content_hash = "";
    for (auto& r : a.ruleset->rules) r.hash = "";
    for (auto& r : b.ruleset->rules) r.hash = "";
    EXPECT_EQ(compiler::dump_ir(*a.ruleset), compiler::dump_ir(*b.ruleset));
}

TEST(Compile, TheDemoModelsAreReproducible) {
    // examples/models_demo/make_models.cpp, run on the committed training data, writes the committed
    // model files byte for byte (and so the hashes pinned in the demo's schema stay right).
    fs::path src = ETHOGRAM_SOURCE_DIR;
    std::string out = make_temp_dir("demo");
    std::string cmd = std::string(MODELS_DEMO_MAKE) + " " +
                      (src / "examples/models_demo/training/sessions.txt").string() + " " + out +
                      " > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    for (const char* f : {"nav.etm", "shoppers.etm", "intent.etm"}) {
        std::string built = slurp(fs::path(out) / f);
        EXPECT_FALSE(built.empty()) << f;
        EXPECT_EQ(built, slurp(src / "examples/models_demo/models" / f)) << f;
    }
    fs::remove_all(out);
}

} // namespace
} // namespace ethogram::models_lang_test

namespace ethogram::models_lang_test {
namespace {

TEST(Compile, NewKeywordsStayUsableAsNames) {
    // model, path, hash, observe, per, min_evidence, states, fallback and none are soft keywords.
    RuleRun r(
        "ruleset kw version 1.0.0;\ntaxonomy { none; }\n"
        "event model { key path: string; time hash: timestamp; observe: string; per: int; "
        "min_evidence: int; states: string; fallback: bool; none: int; }\n"
        "rule states { label none; on model; when model.observe == \"x\" and model.per + model.none > 1 and "
        "model.fallback; emit fallback = count(model where states == \"y\"), min_evidence = "
        "model.min_evidence; }\n");
    EXPECT_TRUE(r.ok()) << r.diagnostics();
}

} // namespace
} // namespace ethogram::models_lang_test
