// event_log_test.cpp: event logs -> sequences (types, keys, gaps, lengths, time order), malformed lines
// counted and dead-lettered, label files in both formats.
#include "tools/event_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace ethogram::tools {
namespace {

class EventLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("ethogram_el_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const char* name, const std::string& text) const {
        std::string p = (dir_ / name).string();
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    static std::string slurp(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    EventLogOptions opts() const {
        EventLogOptions o;
        o.key_field = "s";
        o.field = "page";
        o.event_types = {"view"};
        return o;
    }
    std::filesystem::path dir_;
};

TEST_F(EventLogTest, MalformedLinesAreCountedListedAndDeadLettered) {
    std::string p = write("e.jsonl", R"({"type":"view","s":"a","page":"home","ts":1000}
not json

{"type":"view","s":"a","ts":2000}
{"s":"a","page":"x","ts":3000}
[1,2]
{"type":"view","page":"home","ts":4000}
{"type":"view","s":"a","page":"cart","ts":"yesterday"}
{"type":"view","s":{"x":1},"page":"home","ts":5000}
{"type":"view","s":"a","page":[1],"ts":5000}
{"type":"click","s":"a","page":"home","ts":6000}
{"type":"view","s":7,"page":true,"ts":"2026-01-01T00:00:00Z"}
)");
    EventLogOptions o = opts();
    o.dead_letter_path = (dir_ / "dead.jsonl").string();
    auto log = read_event_log(p, o);
    ASSERT_TRUE(log.ok()) << log.error();
    EXPECT_EQ(log->lines, 12u);
    EXPECT_EQ(log->blank, 1u);
    EXPECT_EQ(log->events, 2u);
    EXPECT_EQ(log->other_types, 1u);
    EXPECT_EQ(log->malformed, 8u);
    EXPECT_EQ(log->malformed_by_reason.at("parse_error"), 2u);
    EXPECT_EQ(log->malformed_by_reason.at("missing_field"), 1u);
    EXPECT_EQ(log->malformed_by_reason.at("missing_type"), 1u);
    EXPECT_EQ(log->malformed_by_reason.at("missing_key"), 1u);
    EXPECT_EQ(log->malformed_by_reason.at("bad_time"), 1u);
    EXPECT_EQ(log->malformed_by_reason.at("bad_field"), 2u);
    ASSERT_EQ(log->first_malformed.size(), 8u);
    EXPECT_EQ(log->first_malformed[0].line, 2u);
    EXPECT_EQ(log->first_malformed[1].detail, "no \"page\" member (the model's field)");
    std::string text = describe_malformed(*log);
    EXPECT_NE(text.find(p + ":2: parse_error: invalid JSON"), std::string::npos) << text;
    EXPECT_NE(text.find(p + ":8: bad_time: \"ts\": "), std::string::npos) << text;
    // Every malformed line is in the dead-letter file, raw text included.
    std::string dead = slurp(o.dead_letter_path);
    EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 8);
    EXPECT_NE(dead.find("\"line\":2,\"reason\":\"parse_error\""), std::string::npos) << dead;
    EXPECT_NE(dead.find("\"raw\":\"not json\""), std::string::npos) << dead;
    // Integer keys and boolean values become text.
    ASSERT_EQ(log->sequences.size(), 2u);
    EXPECT_EQ(log->sequences[1].key, "7");
    EXPECT_EQ(log->sequences[1].symbols, (std::vector<std::string>{"true"}));
}

TEST_F(EventLogTest, SequencesAreTimeOrderedAndCutAtGapsAndLengths) {
    std::string p = write("e.jsonl", R"({"type":"view","s":"b","page":"p3","ts":3000}
{"type":"view","s":"a","page":"x1","ts":"1970-01-01T00:00:01Z"}
{"type":"view","s":"b","page":"p1","ts":1000}
{"type":"view","s":"b","page":"p2","ts":2000}
{"type":"view","s":"b","page":"q1","ts":100000}
{"type":"view","s":"a","page":"x2","ts":1500.5}
)");
    EventLogOptions o = opts();
    o.gap_us = 10'000'000; // 10 s
    auto log = read_event_log(p, o);
    ASSERT_TRUE(log.ok()) << log.error();
    ASSERT_EQ(log->sequences.size(), 3u);
    // Keys in order of first appearance; within a key, by time; a 97 s pause cuts b in two.
    EXPECT_EQ(log->sequences[0].id, "b#1");
    EXPECT_EQ(log->sequences[0].symbols, (std::vector<std::string>{"p1", "p2", "p3"}));
    EXPECT_EQ(log->sequences[1].id, "b#2");
    EXPECT_EQ(log->sequences[1].symbols, (std::vector<std::string>{"q1"}));
    EXPECT_EQ(log->sequences[2].id, "a");
    EXPECT_EQ(log->sequences[2].symbols, (std::vector<std::string>{"x1", "x2"}));
    EXPECT_EQ(log->sequences[2].last_us, 1'500'500);
    EXPECT_EQ(log->min_us, 1'000'000);
    EXPECT_EQ(log->max_us, 100'000'000);

    o.gap_us = 0;
    o.max_length = 2;
    auto cut = read_event_log(p, o);
    ASSERT_TRUE(cut.ok());
    ASSERT_EQ(cut->sequences.size(), 3u);
    EXPECT_EQ(cut->sequences[0].symbols, (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(cut->sequences[1].symbols, (std::vector<std::string>{"p3", "q1"}));
}

TEST_F(EventLogTest, FatalErrorsNameTheFile) {
    auto none = read_event_log((dir_ / "none.jsonl").string(), opts());
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().find("none.jsonl"), std::string::npos) << none.error();
    EventLogOptions o = opts();
    o.dead_letter_path = (dir_ / "no/such/dir/dead.jsonl").string();
    auto dl = read_event_log(write("e.jsonl", "{}\n"), o);
    ASSERT_FALSE(dl.ok());
    EXPECT_NE(dl.error().find("cannot write the dead-letter file"), std::string::npos) << dl.error();
}

TEST_F(EventLogTest, LabelsCsvAndJsonl) {
    auto csv = read_labels(write("l.csv", "id,label,key\n1,bot,s1\n\n2,human,s2\n"));
    ASSERT_TRUE(csv.ok()) << csv.error();
    EXPECT_EQ(csv->by_key, (std::map<std::string, std::string>{{"s1", "bot"}, {"s2", "human"}}));
    auto js = read_labels(
        write("l.jsonl", "{\"key\":\"s1\",\"label\":\"bot\"}\n{\"key\":42,\"label\":\"human\"}\n"));
    ASSERT_TRUE(js.ok()) << js.error();
    EXPECT_EQ(js->by_key.at("42"), "human");
    // Lookup by sequence id first, then key.
    Labels l;
    l.by_key = {{"k", "human"}, {"k#2", "bot"}};
    Sequence a{"k#1", "k", {}, 0, 0}, b{"k#2", "k", {}, 0, 0}, c{"z", "z", {}, 0, 0};
    EXPECT_EQ(*l.find(a), "human");
    EXPECT_EQ(*l.find(b), "bot");
    EXPECT_EQ(l.find(c), nullptr);
}

TEST_F(EventLogTest, BadLabelFilesAreRefusedWithFileAndLine) {
    std::string p = write("a.csv", "session,class\ns1,bot\n");
    EXPECT_NE(
        read_labels(p).error().find(p + ":1: error: a CSV labels file starts with a header naming a 'key'"),
        std::string::npos);
    p = write("b.csv", "key,label\ns1,bot\ns1,human\n");
    EXPECT_EQ(read_labels(p).error(), p + ":3: error: key 's1' is labelled 'human' here and 'bot' before");
    p = write("c.csv", "key,label\ns1,bot,extra\n");
    EXPECT_EQ(read_labels(p).error(), p + ":2: error: 3 column(s), the header has 2");
    p = write("d.jsonl", "{\"key\":\"s1\",\"label\":\"bot\"}\n{\"key\":\"s2\"}\n");
    EXPECT_EQ(read_labels(p).error(), p + ":2: error: expected a non-empty string member \"label\"");
    p = write("e.csv", "key,label\n");
    EXPECT_EQ(read_labels(p).error(), p + ": error: no labels in the file");
}

} // namespace
} // namespace ethogram::tools
