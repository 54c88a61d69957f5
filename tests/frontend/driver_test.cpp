// driver_test.cpp: compile_paths: folders, imports loaded once, headers, content hashes.
#include "tests/frontend/test_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ethogram::test {
namespace {

namespace fs = std::filesystem;

class Driver : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("ethogram_driver_" + std::to_string(::getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "rules");
        write("common.etho",
              "ruleset shared version 0.0.1;\n"
              "event e { key k: string; time t: timestamp; n: int; }\ntaxonomy { a { b; } }\n");
        write("rules/b.etho", "import \"../common.etho\";\nrule rb { label a.b; on e; when e.n > 2; }\n");
        write("rules/a.etho", "ruleset main.set version 2.1.0;\nimport \"../common.etho\";\n"
                              "rule ra { label a; on e; when e.n > 1; }\n");
        write("rules/notes.txt", "not a rule file");
    }
    void TearDown() override { fs::remove_all(root_); }
    void write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }

    fs::path root_;
};

TEST_F(Driver, FolderIsSortedAndImportsLoadOnce) {
    compiler::Diagnostics d;
    auto r = compiler::compile_paths({(root_ / "rules").string()}, d);
    ASSERT_TRUE(r.ruleset) << d.render();
    const auto& rs = *r.ruleset;
    EXPECT_EQ(rs.name, "main.set");
    EXPECT_EQ(rs.version, "2.1.0");
    // a.etho sorts first; its import comes before it; b.etho's import of the same file is not reloaded.
    ASSERT_EQ(rs.sources.size(), 3u);
    EXPECT_EQ(fs::path(rs.sources[0]).filename(), "common.etho");
    EXPECT_EQ(fs::path(rs.sources[1]).filename(), "a.etho");
    EXPECT_EQ(fs::path(rs.sources[2]).filename(), "b.etho");
    ASSERT_EQ(rs.rules.size(), 2u);
    EXPECT_EQ(rs.rules[0].name, "ra");
    EXPECT_EQ(rs.events.size(), 1u);
    // The imported file's header is ignored, with a warning.
    EXPECT_EQ(d.warning_count(), 1u);
    EXPECT_NE(d.render().find("[W0101]"), std::string::npos);
    EXPECT_EQ(rs.content_hash.size(), 64u);
    EXPECT_EQ(rs.content_hash.find_first_not_of("0123456789abcdef"), std::string::npos);

    // Any change to any source changes the content hash; a rule's hash follows its own text only.
    std::string before = rs.content_hash, ra_hash = rs.rules[0].hash, rb_hash = rs.rules[1].hash;
    write("rules/b.etho", "import \"../common.etho\";\nrule rb { label a.b; on e; when e.n > 3; }\n");
    compiler::Diagnostics d2;
    auto r2 = compiler::compile_paths({(root_ / "rules").string()}, d2);
    ASSERT_TRUE(r2.ruleset) << d2.render();
    EXPECT_NE(r2.ruleset->content_hash, before);
    EXPECT_EQ(r2.ruleset->rules[0].hash, ra_hash);
    EXPECT_NE(r2.ruleset->rules[1].hash, rb_hash);
}

TEST_F(Driver, SchemaOnlyFileNeedsNoHeaderWhenAskedSo) {
    write("schema.etho", "event e { key k: string; time t: timestamp; }\n");
    compiler::Diagnostics d;
    compiler::CompileOptions o;
    o.require_header = false;
    auto r = compiler::compile_paths({(root_ / "schema.etho").string()}, d, o);
    EXPECT_TRUE(r.ruleset) << d.render();
    compiler::Diagnostics d2;
    auto r2 = compiler::compile_paths({(root_ / "schema.etho").string()}, d2);
    EXPECT_FALSE(r2.ruleset);
    EXPECT_NE(d2.render().find("[E0101]"), std::string::npos);
}

TEST_F(Driver, MissingInputIsAnError) {
    compiler::Diagnostics d;
    auto r = compiler::compile_paths({(root_ / "nope.etho").string()}, d);
    EXPECT_FALSE(r.ruleset);
    EXPECT_NE(d.render().find("error[E0103]: cannot read"), std::string::npos) << d.render();
}

TEST_F(Driver, ImportedSyntaxErrorPointsIntoTheImportedFile) {
    write("bad.etho", "event e { key k: string time t: timestamp; }\n");
    write("main.etho", "ruleset m version 1.0.0;\nimport \"bad.etho\";\n");
    compiler::Diagnostics d;
    auto r = compiler::compile_paths({(root_ / "main.etho").string()}, d);
    EXPECT_FALSE(r.ruleset);
    EXPECT_NE(d.render().find("bad.etho:1:24: error[E0001]: expected `;` after `string`"), std::string::npos)
        << d.render();
}

} // namespace
} // namespace ethogram::test
