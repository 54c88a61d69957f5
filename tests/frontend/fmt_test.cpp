// fmt_test.cpp: the formatter's canonical layout, comment preservation and idempotence.
#include "tests/frontend/test_util.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ethogram::test {
namespace {

namespace fs = std::filesystem;

std::string fmt(const std::string& text) {
    compiler::Diagnostics d;
    auto r = compiler::format_source("f.etho", text, d);
    EXPECT_TRUE(r) << d.render();
    return r ? *r : std::string();
}

TEST(Fmt, CanonicalLayout) {
    const std::string in = "ruleset  a.b version 1.0.0 ;event e{key k:string;time t : timestamp;"
                           "@pii x:enum( a,b )?;}\n"
                           "rule r{label risk.bot;severity high; // why\n"
                           "pattern a:e where a.x==a and -1< 2 ->b:e+ where(b.x!=a.x)=>c:e{2,3} within 1h;"
                           "emit n=count(b),m=max(b.t);}\n";
    const std::string want = "ruleset a.b version 1.0.0;\n"
                             "event e {\n"
                             "    key k: string;\n"
                             "    time t: timestamp;\n"
                             "    @pii x: enum(a, b)?;\n"
                             "}\n"
                             "rule r {\n"
                             "    label risk.bot;\n"
                             "    severity high; // why\n"
                             "    pattern a: e where a.x == a and -1 < 2\n"
                             "        -> b: e+ where (b.x != a.x)\n"
                             "        => c: e{2,3} within 1h;\n"
                             "    emit n = count(b), m = max(b.t);\n"
                             "}\n";
    EXPECT_EQ(fmt(in), want);
    EXPECT_EQ(fmt(want), want);
}

TEST(Fmt, KeepsCommentsAndOneBlankLine) {
    const std::string in = "// header comment\nruleset a version 1.0.0;\n\n\n\n/* block */\n"
                           "taxonomy { risk { bot; } } // trailing\n";
    const std::string want = "// header comment\nruleset a version 1.0.0;\n\n/* block */\n"
                             "taxonomy {\n    risk {\n        bot;\n    }\n} // trailing\n";
    EXPECT_EQ(fmt(in), want);
    EXPECT_EQ(fmt(want), want);
}

TEST(Fmt, MinusAfterKeywordField) {
    const std::string in = "rule r { label a; on e; when e.time - 1s > e.time and -e.count < - 2; }\n";
    const std::string want =
        "rule r {\n    label a;\n    on e;\n    when e.time - 1s > e.time and -e.count < -2;\n}\n";
    EXPECT_EQ(fmt(in), want);
}

TEST(Fmt, WrapsLongConditionsAndEmitsAt110Columns) {
    // One line of 150+ columns each; `and` inside parentheses and a string holding " or " stay put.
    const std::string in =
        "rule r { label a; on e; when count(e where e.x == \"a or b\") >= 20 and gap_mean(e) < 3s and "
        "(gap_max(e) < 6s and burstiness(e) < -0.5) and entropy(e.x) >= 1.5 and distinct(e.x) > 2;\n"
        "emit first_value = first(e.x), last_value = last(e.x), mean_gap = gap_mean(e), "
        "longest_gap = gap_max(e), n = count(e); }\n";
    const std::string want = "rule r {\n"
                             "    label a;\n"
                             "    on e;\n"
                             "    when count(e where e.x == \"a or b\") >= 20\n"
                             "        and gap_mean(e) < 3s\n"
                             "        and (gap_max(e) < 6s and burstiness(e) < -0.5)\n"
                             "        and entropy(e.x) >= 1.5\n"
                             "        and distinct(e.x) > 2;\n"
                             "    emit first_value = first(e.x),\n"
                             "         last_value = last(e.x),\n"
                             "         mean_gap = gap_mean(e),\n"
                             "         longest_gap = gap_max(e),\n"
                             "         n = count(e);\n"
                             "}\n";
    EXPECT_EQ(fmt(in), want);
    EXPECT_EQ(fmt(want), want);
    // A top-level `or` is the weaker operator: the condition breaks there, not at the `and`s inside.
    const std::string in2 = "rule r { label a; on e; when count(e) >= 20 and gap_mean(e) < 3s and "
                            "gap_max(e) < 6s or burstiness(e) < -0.5 and entropy(e.x) >= 1.5 and "
                            "distinct(e.x) > 2; }\n";
    const std::string want2 =
        "rule r {\n"
        "    label a;\n"
        "    on e;\n"
        "    when count(e) >= 20 and gap_mean(e) < 3s and gap_max(e) < 6s\n"
        "        or burstiness(e) < -0.5 and entropy(e.x) >= 1.5 and distinct(e.x) > 2;\n"
        "}\n";
    EXPECT_EQ(fmt(in2), want2);
    EXPECT_EQ(fmt(want2), want2);
}

TEST(Fmt, RejectsInvalidInput) {
    compiler::Diagnostics d;
    EXPECT_FALSE(compiler::format_source("bad.etho", "rule {", d));
    EXPECT_GE(d.error_count(), 1u);
}

TEST(Fmt, IdempotentOnExamplesAndGoldens) {
    std::vector<fs::path> files;
    for (const char* dir : {"examples", "rules", "tests/golden/diagnostics", "tests/fuzz/corpus"}) {
        fs::path p = fs::path(ETHOGRAM_SOURCE_DIR) / dir;
        if (!fs::exists(p)) continue;
        for (const auto& e : fs::recursive_directory_iterator(p))
            if (e.path().extension() == ".etho") files.push_back(e.path());
    }
    ASSERT_FALSE(files.empty());
    int formatted = 0;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        compiler::Diagnostics d;
        auto once = compiler::format_source(f.string(), ss.str(), d);
        if (!once) continue; // goldens of syntax errors do not parse
        ++formatted;
        compiler::Diagnostics d2;
        auto twice = compiler::format_source(f.string(), *once, d2);
        ASSERT_TRUE(twice) << f << "\n" << d2.render() << *once;
        EXPECT_EQ(*once, *twice) << f;
        // Formatting never changes what a file means: same diagnostics codes, same IR.
        compiler::Diagnostics a, b;
        auto ra = compiler::compile_source("x.etho", ss.str(), a, {false, false});
        auto rb = compiler::compile_source("x.etho", *once, b, {false, false});
        EXPECT_EQ(a.error_count(), b.error_count()) << f;
        if (ra.ruleset && rb.ruleset) {
            ra.ruleset->content_hash.clear();
            rb.ruleset->content_hash.clear();
            std::string ia = compiler::dump_ir(*ra.ruleset), ib = compiler::dump_ir(*rb.ruleset);
            EXPECT_EQ(ia, ib) << f;
        }
    }
    EXPECT_GT(formatted, 5);
}

} // namespace
} // namespace ethogram::test
