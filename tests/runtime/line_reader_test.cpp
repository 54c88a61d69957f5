// line_reader_test.cpp: line splitting: CRLF, missing final newline, blank and very long lines.
#include "runtime/line_reader.h"

#include "tests/runtime/test_schema.h"

#include <gtest/gtest.h>

namespace ethogram::runtime {
namespace {

std::vector<std::string> read_all(const std::string& text) {
    testing::TempDir dir;
    auto r = LineReader::open(dir.write("in.txt", text));
    EXPECT_TRUE(r) << r.error();
    std::vector<std::string> out;
    std::string_view line;
    while ((*r)->next(line)) out.emplace_back(line);
    EXPECT_EQ((*r)->line_number(), out.size());
    return out;
}

TEST(LineReader, SplitsLines) {
    EXPECT_EQ(read_all("a\nbb\n\nccc\n"), (std::vector<std::string>{"a", "bb", "", "ccc"}));
}

TEST(LineReader, CrLfAndNoFinalNewline) {
    EXPECT_EQ(read_all("a\r\nb\r\nlast"), (std::vector<std::string>{"a", "b", "last"}));
    EXPECT_EQ(read_all("x\r"), (std::vector<std::string>{"x"}));
    EXPECT_TRUE(read_all("").empty());
}

TEST(LineReader, LinesLongerThanTheBuffer) {
    std::string big(3 * (1 << 20) + 17, 'z');
    auto lines = read_all("s\n" + big + "\nt\n" + big);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "s");
    EXPECT_EQ(lines[1], big);
    EXPECT_EQ(lines[2], "t");
    EXPECT_EQ(lines[3], big);
}

TEST(LineReader, ManyLinesAcrossChunks) {
    std::string text;
    for (int i = 0; i < 200000; ++i) text += std::to_string(i) + "\n";
    auto lines = read_all(text);
    ASSERT_EQ(lines.size(), 200000u);
    for (int i = 0; i < 200000; i += 9973) EXPECT_EQ(lines[static_cast<size_t>(i)], std::to_string(i));
    EXPECT_EQ(lines.back(), "199999");
}

TEST(LineReader, MissingFileNamesIt) {
    auto r = LineReader::open("/nonexistent/dir/events.jsonl");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("/nonexistent/dir/events.jsonl"), std::string::npos);
    EXPECT_NE(r.error().find("No such file"), std::string::npos) << r.error();
}

} // namespace
} // namespace ethogram::runtime
