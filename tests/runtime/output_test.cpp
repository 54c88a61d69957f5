// output_test.cpp: JSON escaping, value formats and the detection record layout.
#include "runtime/output.h"

#include "runtime/json_writer.h"
#include "tests/runtime/test_schema.h"

#include "runtime/time.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace ethogram::runtime {
namespace {

std::string esc(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

std::string dbl(double v) {
    std::string out;
    append_json_double(out, v);
    return out;
}

TEST(JsonEscape, SpecialAndControlCharacters) {
    EXPECT_EQ(esc("plain"), "\"plain\"");
    EXPECT_EQ(esc("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(esc("l1\nl2\r\t"), R"("l1\nl2\r\t")");
    EXPECT_EQ(esc(std::string_view("\x00\x01\x1f\b\f", 5)), R"("\u0000\u0001\u001f\b\f")");
    EXPECT_EQ(esc("caf\xc3\xa9"), "\"caf\xc3\xa9\""); // UTF-8 passes through
    EXPECT_EQ(esc("\x7f"), "\"\x7f\"");               // DEL needs no escape in JSON
    EXPECT_EQ(esc(""), "\"\"");
}

TEST(JsonEscape, InvalidUtf8BecomesReplacementCharacter) {
    EXPECT_EQ(esc("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\""); // U+1F600: valid 4-byte sequence kept
    EXPECT_EQ(esc("\xe2\x82\xac"), "\"\xe2\x82\xac\"");         // U+20AC: valid 3-byte sequence kept
    EXPECT_EQ(esc("a\xff"
                  "b"),
              R"("a\ufffdb")");
    EXPECT_EQ(esc("\xc3"), R"("\ufffd")");                               // truncated sequence
    EXPECT_EQ(esc("\xc0\xaf"), R"("\ufffd\ufffd")");                     // overlong encoding of '/'
    EXPECT_EQ(esc("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");           // UTF-16 surrogate
    EXPECT_EQ(esc("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")"); // above U+10FFFF
}

TEST(JsonNumbers, ShortestRoundTrip) {
    EXPECT_EQ(dbl(0.7), "0.7");
    EXPECT_EQ(dbl(19.99), "19.99");
    EXPECT_EQ(dbl(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(dbl(1e21), "1e+21");
    EXPECT_EQ(dbl(-2.5), "-2.5");
    EXPECT_EQ(dbl(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(dbl(std::numeric_limits<double>::infinity()), "null");
}

// JsonOut (the buffered writer detections are formatted with) against the append_json_* functions and
// format_rfc3339, which define the text: random strings (plain, escaped, UTF-8, invalid bytes, lengths
// around the word size), doubles (whole numbers up to and past 2^53, -0, fractions, extremes), times
// (before 1970, beyond year 9999, on whole milliseconds and not), integers and ids.
TEST(JsonOut, WritesWhatTheAppendFunctionsWrite) {
    std::mt19937_64 rng(11);
    static const char kBytes[] = "abcXYZ019 _-.:/\\\"\n\t\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xff\xc0";
    const size_t plain_bytes = 15, all_bytes = sizeof kBytes - 1;
    std::string expected, got;
    {
        JsonOut out(got);
        for (int i = 0; i < 5000; ++i) {
            std::string s(rng() % 40, ' ');
            for (char& c : s) c = kBytes[rng() % (i % 2 ? all_bytes : plain_bytes)];
            append_json_string(expected, s);
            out.string(s);
        }
        std::uniform_real_distribution<double> unit(-1, 1);
        for (int i = 0; i < 5000; ++i) {
            double v = 0;
            switch (i % 5) {
            case 0: v = static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000); break;
            case 1: v = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 12)); break;
            case 2: v = unit(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20); break;
            case 3: v = std::ldexp(1.0, 53) + static_cast<double>(rng() % 5) - 2; break;
            default: v = i % 10 == 4 ? -0.0 : std::numeric_limits<double>::max() * unit(rng); break;
            }
            append_json_double(expected, v);
            expected.push_back(',');
            out.real(v);
            out.ch(',');
        }
        const int64_t year_10000 = *parse_rfc3339("9999-12-31T23:59:59Z") + 1'000'000;
        for (int i = 0; i < 3000; ++i) {
            int64_t us = static_cast<int64_t>(rng() % 400'000'000'000'000'000ULL) - 100'000'000'000'000'000LL;
            if (i % 3 == 0) us -= us % 1000;
            if (i % 7 == 0) us = year_10000 + i;
            if (i % 11 == 0) us = -us;
            expected += '"' + format_rfc3339(us) + '"';
            out.time(us);
            const uint64_t n = rng() >> (rng() % 64);
            append_json_uint(expected, n);
            out.uint64(n);
            append_json_int(expected, -static_cast<int64_t>(n >> 1));
            out.int64(-static_cast<int64_t>(n >> 1));
            append_json_hex16(expected, n);
            out.hex16(n);
            out.lit("{\"k\":");
            expected += "{\"k\":";
        }
    }
    // On a difference, show where it starts rather than two megabytes of text.
    const auto [g, e] = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end());
    const auto context = [](auto it, auto end) {
        return std::string(it, it + std::min<ptrdiff_t>(60, end - it));
    };
    EXPECT_TRUE(got == expected) << "first difference at byte " << (g - got.begin()) << ": got \""
                                 << context(g, got.end()) << "\", expected \"" << context(e, expected.end())
                                 << "\"";
}

TEST(JsonNumbers, LongestFormsAndIntegers) {
    EXPECT_EQ(dbl(-1.7976931348623157e308), "-1.7976931348623157e+308");
    EXPECT_EQ(dbl(5e-324), "5e-324");
    EXPECT_EQ(dbl(-2.2250738585072014e-308), "-2.2250738585072014e-308");
    std::string out;
    append_json_int(out, std::numeric_limits<int64_t>::min());
    out.push_back(' ');
    append_json_int(out, 0);
    out.push_back(' ');
    append_json_uint(out, std::numeric_limits<uint64_t>::max());
    out.push_back(' ');
    append_json_hex16(out, 0);
    append_json_hex16(out, 0xfedcba9876543210ULL);
    EXPECT_EQ(out, "-9223372036854775808 0 18446744073709551615 \"0000000000000000\"\"fedcba9876543210\"");
}

class DetectionFormat : public ::testing::Test {
protected:
    ir::RuleSet rs = testing::make_ruleset();
    ir::StringPool pool;

    void SetUp() override {
        // Rule 0: a pattern over page_view v (step 0) and purchase c (step 1), emitting every value kind.
        ir::Rule r;
        r.name = "cart_abandonment";
        r.kind = ir::RuleKind::Pattern;
        r.label = 2;
        r.severity = ir::Severity::Medium;
        ir::Step v;
        v.alias = "v";
        v.types = {0};
        v.pred_text = "v.page == product";
        ir::Step c;
        c.alias = "c";
        c.types = {1};
        r.pattern.steps = {v, c};
        // Expr 0: v.page (an enum field of step 0).
        ir::Expr page;
        page.kind = ir::ExprKind::Field;
        page.type = ir::Type::Enum;
        page.ref = ir::EventRef::Step;
        page.step = 0;
        page.field = 3;
        rs.exprs = {page};
        for (const char* n : {"sku", "value", "n", "ok", "page", "at", "wait", "half", "none"})
            r.emits.push_back({n, n == std::string("page") ? 0u : ir::kNoExpr});
        rs.rules = {r};
        ir::Rule other = r;
        other.name = "winner";
        rs.rules.push_back(other);
    }

    ir::Detection detection() {
        ir::Detection d;
        d.rule = 0;
        d.key = pool.intern("u42");
        d.time = 1795948200000000;       // 2026-11-29T10:30:00Z
        d.first_time = 1795946400250000; // 10:00:00.250
        d.last_time = 1795946460000001;  // 10:01:00.000001
        d.confidence = 0.7;
        d.trigger = "absence";
        d.fields = {ir::Value::string(pool.intern("A\"1")),
                    ir::Value::real(19.99),
                    ir::Value::integer(-3),
                    ir::Value::boolean(false),
                    ir::Value::enumeration(1),
                    ir::Value::timestamp(0),
                    ir::Value::duration(30000000),
                    ir::Value::duration(1500),
                    ir::Value::missing()};
        d.bindings = {{"v", 0, {{0, 12, 1795946400250000, pool.intern("e-1"), 0}}},
                      {"c", 1, {{1, 13, 1795946460000001, ir::kNoString, 1}}}};
        d.id = 0xabc;
        return d;
    }
};

TEST_F(DetectionFormat, KeysInOrderAndValueFormats) {
    std::string out;
    format_detection(detection(), rs, pool, {}, out);
    EXPECT_EQ(out, R"({"rule":"cart_abandonment","behaviour":"intent.purchase.abandonment","key":"u42",)"
                   R"("time":"2026-11-29T10:30:00.000Z","first":"2026-11-29T10:00:00.250Z",)"
                   R"("last":"2026-11-29T10:01:00.000001Z","severity":"medium","confidence":0.7,)"
                   R"("trigger":"absence","fields":{"sku":"A\"1","value":19.99,"n":-3,"ok":false,)"
                   R"("page":"product","at":"1970-01-01T00:00:00.000Z","wait":30000,"half":1.5,"none":null},)"
                   R"("events":{"v":[{"line":12,"time":"2026-11-29T10:00:00.250Z","id":"e-1"}],)"
                   R"("c":[{"line":13,"time":"2026-11-29T10:01:00.000001Z"}]},)"
                   R"("ruleset":"shop.web","version":"1.4.0","id":"0000000000000abc"})");
}

TEST_F(DetectionFormat, ExplainAndSuppressedBy) {
    ir::Detection d = detection();
    d.suppressed_by = 1;
    std::string out;
    format_detection(d, rs, pool, OutputOptions{true, -1}, out);
    auto tail = out.substr(out.find(",\"explain\""));
    EXPECT_EQ(tail, R"(,"explain":[{"alias":"v","step":0,"type":"page_view","predicate":"v.page == product",)"
                    R"("line":12},{"alias":"c","step":1,"type":"purchase","predicate":"","line":13}],)"
                    R"("suppressed_by":"winner"})");
}

TEST_F(DetectionFormat, LongBindingsListTheMostRecentEventsAndCountTheRest) {
    // Alias v holds 5 events (lines 10..14); with a cap of 2 only lines 13 and 14 are listed, and
    // "omitted" says 3 of v's events were left out; c (1 event) is listed whole and not mentioned.
    ir::Detection d = detection();
    d.bindings[0].events.clear();
    for (uint64_t line = 10; line < 15; ++line)
        d.bindings[0].events.push_back({line, line, 1795946400000000, ir::kNoString, 0});
    std::string out;
    OutputOptions opts;
    opts.explain = true;
    opts.max_events_per_alias = 2;
    format_detection(d, rs, pool, opts, out);
    EXPECT_NE(out.find(R"("events":{"v":[{"line":13,"time":"2026-11-29T10:00:00.000Z"},)"
                       R"({"line":14,"time":"2026-11-29T10:00:00.000Z"}],"c":[{"line":13,)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(R"(]},"omitted":{"v":3},"ruleset":)"), std::string::npos) << out;
    // The explanation lists the same events: v's lines 13 and 14, then c.
    auto explain = out.substr(out.find(",\"explain\""));
    EXPECT_EQ(explain.find(R"("line":12)"), std::string::npos) << explain;
    EXPECT_NE(explain.find(R"("step":0,"type":"page_view","predicate":"v.page == product","line":13})"),
              std::string::npos)
        << explain;
    // Under the cap nothing is omitted and the key is absent (the default layout is unchanged).
    opts.max_events_per_alias = 5;
    out.clear();
    format_detection(d, rs, pool, opts, out);
    EXPECT_EQ(out.find("omitted"), std::string::npos) << out;
}

// The writer's form (each rule's constant text written once, RulePieces) gives format_detection's text
// under every option that changes those pieces: explain, a bundle's provenance, a small cap, a detection
// suppressed by another rule, times repeated or not, and an emit whose enum cannot be traced.
TEST_F(DetectionFormat, RulePiecesWriteTheSameText) {
    std::vector<OutputOptions> options(4);
    options[1].explain = true;
    options[2].bundle_hash = "b1f2";
    options[3].explain = true;
    options[3].max_events_per_alias = 1;
    options[3].bundle_hash = "x\"y";
    for (int variant = 0; variant < 4; ++variant) {
        if (variant == 3) rs.rules[0].emits[4].expr = ir::kNoExpr;
        ir::Detection d = detection();
        if (variant == 1) d.suppressed_by = 1;
        if (variant == 2) d.first_time = d.last_time = d.time;
        for (const OutputOptions& opts : options) {
            std::string one, pieces;
            format_detection(d, rs, pool, opts, one);
            format_detection(d, rs, pool, opts, RulePieces(rs, rs.rules[d.rule], opts), pieces);
            EXPECT_EQ(one, pieces) << "variant " << variant;
        }
    }
}

TEST_F(DetectionFormat, UnresolvableEnumFallsBackToIndex) {
    rs.rules[0].emits[4].expr = ir::kNoExpr;
    std::string out;
    format_detection(detection(), rs, pool, {}, out);
    EXPECT_NE(out.find(R"("page":1,)"), std::string::npos) << out;
}

TEST_F(DetectionFormat, WriterFiltersByTaxonomyAndCounts) {
    testing::TempDir dir;
    auto out = OutputFile::open(dir.file("out.jsonl"));
    auto sup = OutputFile::open(dir.file("sup.jsonl"));
    ASSERT_TRUE(out && sup);
    {
        DetectionWriter only_intent(rs, pool, OutputOptions{false, 0}, out->get(), sup->get());
        only_intent.emit(detection());
        ir::Detection s = detection();
        s.suppressed_by = 1;
        only_intent.suppressed(std::move(s));
        EXPECT_EQ(only_intent.emitted(), 1u);
        EXPECT_EQ(only_intent.suppressed_count(), 1u);
        DetectionWriter only_risk(rs, pool, OutputOptions{false, 3}, out->get(), sup->get());
        only_risk.emit(detection());
        EXPECT_EQ(only_risk.emitted(), 0u);
        EXPECT_EQ(only_risk.filtered(), 1u);
    }
    ASSERT_TRUE((*out)->close());
    ASSERT_TRUE((*sup)->close());
    auto lines = testing::lines_of(testing::read_file(dir.file("out.jsonl")));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].rfind("{\"rule\":\"cart_abandonment\"", 0), 0u);
    auto slines = testing::lines_of(testing::read_file(dir.file("sup.jsonl")));
    ASSERT_EQ(slines.size(), 1u);
    EXPECT_NE(slines[0].find("\"suppressed_by\":\"winner\""), std::string::npos);
}

} // namespace
} // namespace ethogram::runtime
