// diagnostics_test.cpp: golden diagnostics, one file per code under tests/golden/diagnostics/.
// ETHOGRAM_UPDATE_GOLDEN=1 rewrites the .expected files (read every one afterwards).
#include "tests/frontend/test_util.h"

#include "compiler/diag/diagnostics.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ethogram::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A line-by-line diff, enough to see what moved.
std::string diff(const std::string& want, const std::string& got) {
    std::istringstream a(want), b(got);
    std::string la, lb, out;
    int n = 1;
    while (true) {
        bool ha = static_cast<bool>(std::getline(a, la));
        bool hb = static_cast<bool>(std::getline(b, lb));
        if (!ha && !hb) break;
        if (!ha) la = "<none>";
        if (!hb) lb = "<none>";
        if (la != lb) out += "line " + std::to_string(n) + ":\n  - " + la + "\n  + " + lb + "\n";
        ++n;
    }
    return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpected) {
    // Paths in the output are relative to the repository root: run from there.
    fs::current_path(ETHOGRAM_SOURCE_DIR);
    const std::string name = GetParam();
    fs::path src = fs::path("tests/golden/diagnostics") / (name + ".etho");
    fs::path exp = fs::path("tests/golden/diagnostics") / (name + ".expected");
    compiler::Diagnostics d;
    compiler::CompileOptions opts;
    // Files named `*_noheader` check schema-only compilation (etho check on a shared file).
    auto r = compiler::compile_paths({src.string()}, d, opts);
    std::string got = d.render();
    const char* update = std::getenv("ETHOGRAM_UPDATE_GOLDEN");
    if (update && std::string(update) == "1") {
        std::ofstream(exp, std::ios::binary) << got;
        GTEST_SKIP() << "rewrote " << exp;
    }
    ASSERT_TRUE(fs::exists(exp)) << "missing " << exp << "; run with ETHOGRAM_UPDATE_GOLDEN=1";
    std::string want = slurp(exp);
    EXPECT_EQ(want, got) << diff(want, got);
    // The file name starts with the code it demonstrates, and that code is what it reports.
    std::string code = name.substr(0, name.find('_'));
    EXPECT_NE(got.find("[" + code + "]"), std::string::npos) << got;
    if (code[0] == 'E') {
        EXPECT_FALSE(r.ruleset);
    }
}

std::vector<std::string> golden_names() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(fs::path(ETHOGRAM_SOURCE_DIR) / "tests/golden/diagnostics"))
        if (e.path().extension() == ".etho") out.push_back(e.path().stem().string());
    std::sort(out.begin(), out.end());
    return out;
}

INSTANTIATE_TEST_SUITE_P(Diagnostics, Golden, ::testing::ValuesIn(golden_names()),
                         [](const auto& info) { return info.param; });

TEST(Diagnostics, EveryDocumentedCodeHasAGolden) {
    std::string doc = slurp(fs::path(ETHOGRAM_SOURCE_DIR) / "docs/diagnostics.md");
    auto names = golden_names();
    size_t pos = 0;
    int codes = 0;
    while ((pos = doc.find("### ", pos)) != std::string::npos) {
        std::string code = doc.substr(pos + 4, 5);
        pos += 4;
        ++codes;
        bool found = false;
        for (const auto& n : names) found = found || n.rfind(code + "_", 0) == 0;
        EXPECT_TRUE(found) << "no golden for " << code;
    }
    EXPECT_GT(codes, 40);
}

TEST(Diagnostics, RenderingLayout) {
    compiler::Diagnostics d;
    compiler::compile_source("x.etho", "ruleset a version 1.0.0;\nrule r {\n\tlabel nope; when true; }\n", d);
    // The caret line copies the tab so that it lines up under the label.
    EXPECT_EQ(d.render(), "x.etho:3:8: error[E0302]: unknown taxonomy node `nope`\n"
                          "    3 | \tlabel nope; when true; }\n"
                          "      | \t      ^~~~\n");
    EXPECT_EQ(d.error_count(), 1u);
}

TEST(Diagnostics, SuggestionsNeedACloseName) {
    EXPECT_EQ(compiler::closest_match("add_to_crt", {"add_to_cart", "purchase"}), "add_to_cart");
    EXPECT_FALSE(compiler::closest_match("zzz", {"add_to_cart", "purchase"}));
}

} // namespace
} // namespace ethogram::test
