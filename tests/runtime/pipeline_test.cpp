// pipeline_test.cpp: the whole streaming loop with a fake executor: counts, order, dead letters, outputs.
#include "runtime/pipeline.h"

#include "tests/runtime/test_schema.h"

#include <gtest/gtest.h>

namespace ethogram::runtime {
namespace {

std::string pv(const std::string& user, const std::string& ts) {
    return R"({"type":"page_view","user":")" + user + R"(","ts":)" + ts +
           R"(,"page":"home","url":"/","logged_in":false,"event_id":"id-)" + user +
           ts.substr(ts[0] == '"' ? 1 : 0, 4) + "\"}";
}

class PipelineTest : public ::testing::Test {
protected:
    ir::RuleSet rs = testing::make_ruleset();
    ir::StringPool pool;
    testing::FakeExecutor exec;
    testing::TempDir dir;
    PipelineOptions opts;

    void SetUp() override {
        ir::seed_string_pool(rs, pool);
        ir::Rule r;
        r.name = "seen";
        r.label = 2;
        rs.rules = {r};
        opts.out_path = dir.file("out.jsonl");
        opts.print_summary = false;
    }
    RunSummary run(const std::string& input) {
        opts.events_path = dir.write("events.jsonl", input);
        auto s = run_pipeline(rs, pool, exec, opts);
        EXPECT_TRUE(s) << s.error();
        return s ? *s : RunSummary{};
    }
    std::vector<int64_t> event_times() const {
        std::vector<int64_t> out;
        for (const auto& c : exec.calls)
            if (!c.watermark) out.push_back(c.time);
        return out;
    }
};

TEST_F(PipelineTest, CountsInEqualProcessedPlusDeadLettered) {
    std::string input = pv("a", "1000") + "\n" +                             // line 1: ok
                        "\n   \n" +                                          // lines 2-3: blank, skipped
                        "{broken\n" +                                        // line 4: parse_error
                        R"({"type":"nope"})" + "\n" +                        // line 5: unknown_type
                        R"({"user":"a"})" + "\n" +                           // line 6: missing_type
                        pv("b", "\"2026-13-01T00:00:00Z\"") + "\n" +         // line 7: bad_time
                        R"({"type":"purchase","account":1,"ts":5})" + "\n" + // line 8: missing_field
                        R"({"type":"purchase","account":1,"ts":5,"amount":"x"})" + "\n" + // 9: bad_field
                        pv("a", "900") + "\n" + // line 10: late (lateness 0, W = 1000)
                        pv("a", "2000");        // line 11: ok, no final newline
    RunSummary s = run(input);
    EXPECT_EQ(s.lines_in, 9u);
    EXPECT_EQ(s.processed, 2u);
    EXPECT_EQ(s.dead_total(), 7u);
    EXPECT_EQ(s.lines_in, s.processed + s.dead_total());
    for (size_t r = 0; r < kDeadReasonCount; ++r)
        EXPECT_EQ(s.dead[r], 1u) << dead_reason_code(static_cast<DeadReason>(r));
    EXPECT_EQ(s.late(), 1u);

    // The default dead-letter file sits next to the output; records carry line, reason, detail, raw.
    auto dl = testing::lines_of(testing::read_file(dir.file("out.jsonl.dead.jsonl")));
    ASSERT_EQ(dl.size(), 7u);
    EXPECT_EQ(dl[0], R"({"line":4,"reason":"parse_error","detail":"invalid JSON: )" +
                         dl[0].substr(dl[0].find(": ") + 2, dl[0].find("\",\"raw\"") - dl[0].find(": ") - 2) +
                         R"(","raw":"{broken"})");
    EXPECT_EQ(dl[1].rfind(R"({"line":5,"reason":"unknown_type",)", 0), 0u) << dl[1];
    EXPECT_EQ(dl[2].rfind(R"({"line":6,"reason":"missing_type",)", 0), 0u) << dl[2];
    EXPECT_EQ(dl[3].rfind(R"({"line":7,"reason":"bad_time",)", 0), 0u) << dl[3];
    EXPECT_EQ(dl[4].rfind(R"({"line":8,"reason":"missing_field",)", 0), 0u) << dl[4];
    EXPECT_EQ(dl[5].rfind(R"({"line":9,"reason":"bad_field",)", 0), 0u) << dl[5];
    EXPECT_EQ(dl[6].rfind(R"({"line":10,"reason":"late",)", 0), 0u) << dl[6];
    EXPECT_NE(dl[6].find("1970-01-01T00:00:00.900Z is before the watermark 1970-01-01T00:00:01.000Z"),
              std::string::npos)
        << dl[6];
    EXPECT_NE(dl[6].find(R"("raw":"{\"type\":\"page_view\")"), std::string::npos) << dl[6];
}

TEST_F(PipelineTest, ReordersWithinLatenessAndHonoursTheExecutorContract) {
    opts.allowed_lateness_us = 5000000; // 5 s
    opts.dead_letter_path = dir.file("dead.jsonl");
    std::string input = pv("a", "10000") + "\n" + pv("b", "8000") + "\n" + pv("a", "12000") + "\n" +
                        pv("a", "4000") + "\n" + // late: W = 12000 - 5000 = 7000
                        pv("b", "7000") + "\n" + // == W: accepted
                        pv("a", "9000") + "\n";
    RunSummary s = run(input);
    EXPECT_TRUE(exec.contract_ok);
    EXPECT_EQ(event_times(), (std::vector<int64_t>{7000000, 8000000, 9000000, 10000000, 12000000}));
    ASSERT_FALSE(exec.calls.empty());
    EXPECT_TRUE(exec.calls.back().watermark);
    EXPECT_EQ(exec.calls.back().time, ir::kTimeInfinity);
    EXPECT_EQ(s.processed, 5u);
    EXPECT_EQ(s.late(), 1u);
    EXPECT_EQ(testing::lines_of(testing::read_file(dir.file("dead.jsonl"))).size(), 1u);
}

TEST_F(PipelineTest, TiesKeepArrivalOrder) {
    opts.allowed_lateness_us = 1000000;
    run(pv("a", "5000") + "\n" + pv("b", "5000") + "\n" + pv("c", "4500") + "\n");
    std::vector<uint64_t> seqs;
    for (const auto& c : exec.calls)
        if (!c.watermark) seqs.push_back(c.seq);
    EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 0, 1}));
}

TEST_F(PipelineTest, DetectionsAreWrittenAndFiltered) {
    exec.detect_at = {2000000};
    run(pv("a", "1000") + "\n" + pv("a", "2000") + "\n");
    auto out = testing::lines_of(testing::read_file(dir.file("out.jsonl")));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rfind(R"({"rule":"seen","behaviour":"intent.purchase.abandonment","key":"a",)"
                           R"("time":"1970-01-01T00:00:02.000Z")",
                           0),
              0u)
        << out[0];
    EXPECT_NE(out[0].find(R"("events":{"v":[{"line":2,"time":"1970-01-01T00:00:02.000Z","id":"id-a2000"}]})"),
              std::string::npos)
        << out[0];

    testing::FakeExecutor exec2;
    exec2.detect_at = {2000000};
    opts.only = 3; // risk: the rule's label is not below it
    opts.events_path = dir.file("events.jsonl");
    auto s = run_pipeline(rs, pool, exec2, opts);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->detections, 0u);
    EXPECT_EQ(s->filtered, 1u);
    EXPECT_TRUE(testing::read_file(dir.file("out.jsonl")).empty());
}

TEST_F(PipelineTest, SummaryJson) {
    opts.summary_json_path = dir.file("summary.json");
    run(pv("a", "1000") + "\n{\n");
    std::string js = testing::read_file(dir.file("summary.json"));
    EXPECT_EQ(
        js.rfind(R"({"events_in":2,"events_processed":1,"detections":0,"suppressed":0,"filtered":0,)"
                 R"("dead_letters":{"parse_error":1,"unknown_type":0,"missing_type":0,"missing_field":0,)"
                 R"("bad_field":0,"bad_time":0,"late":0},"dead_letters_total":1,"late":0,)",
                 0),
        0u)
        << js;
}

TEST_F(PipelineTest, SummaryTextBlock) {
    RunSummary s;
    s.lines_in = 10;
    s.processed = 7;
    s.dead[static_cast<size_t>(DeadReason::Late)] = 2;
    s.dead[static_cast<size_t>(DeadReason::ParseError)] = 1;
    s.detections = 3;
    std::string text = format_summary(s);
    EXPECT_NE(text.find("10 events in, 7 processed, 3 dead-lettered (parse_error 1, late 2)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("3 detections, 0 suppressed\n"), std::string::npos) << text;
    s.executor.overflow_drops = 4;
    s.filtered = 2;
    text = format_summary(s);
    EXPECT_NE(text.find("3 detections, 0 suppressed, 2 filtered by --only, 4 dropped by the state caps\n"),
              std::string::npos)
        << text;
}

TEST_F(PipelineTest, IoErrorsNameTheFile) {
    opts.events_path = dir.file("missing.jsonl");
    auto s = run_pipeline(rs, pool, exec, opts);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("missing.jsonl"), std::string::npos) << s.error();
    opts.events_path = dir.write("e.jsonl", "");
    opts.out_path = "/nonexistent/dir/out.jsonl";
    auto o = run_pipeline(rs, pool, exec, opts);
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().find("/nonexistent/dir/out.jsonl"), std::string::npos) << o.error();
}

} // namespace
} // namespace ethogram::runtime
