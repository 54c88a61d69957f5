// flat_json_test.cpp: the decoder's flat-object scan against simdjson's DOM, line by line, on a random mix of
// valid, malformed, multi-document, empty, oversized and unusual lines: the same verdicts, events, interned
// strings and dead-letter texts (docs/performance-history.md, "The flat-object scan").
#include "runtime/decoder.h"
#include "runtime/flat_json.h"

#include "tests/runtime/decoder_compare.h"
#include "tests/runtime/test_schema.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace ethogram::runtime {
namespace {

using Rng = std::mt19937_64;

size_t pick(Rng& rng, size_t n) {
    return static_cast<size_t>(rng() % n);
}

// A JSON string's text (without quotes): mostly plain, sometimes with escapes, UTF-8 (valid or not), raw
// control bytes, or long.
std::string random_text(Rng& rng) {
    static const std::vector<std::string> plain = {"u1",
                                                   "u42",
                                                   "home",
                                                   "product",
                                                   "cart",
                                                   "/p/1",
                                                   "e-7",
                                                   "",
                                                   "a b",
                                                   "x:y",
                                                   "{}",
                                                   "[1]",
                                                   "250ms",
                                                   "1.5s",
                                                   "abcdefghijklmnop",
                                                   "2026-11-29T10:00:00.250Z",
                                                   "2026-11-29T10:00:00+02:00",
                                                   "1970-01-01T00:00:00Z",
                                                   "10000-01-01T00:00:00Z",
                                                   "bogus"};
    static const std::vector<std::string> odd = {
        "\\\"",         "\\\\",          "\\n",      "\\u00e9",      "\\u0000",
        "\\/",          "\\x",           "\xc3\xa9", "\xe2\x82\xac", "\xff",
        "\xc3",         "\x01",          "\t",       "\x7f",         "\xf0\x9f\x98\x80",
        "\xed\xa0\x80", "\\ud83d\\ude00"};
    std::string s;
    const size_t parts = 1 + pick(rng, 3);
    for (size_t i = 0; i < parts; ++i)
        s += pick(rng, 5) == 0 ? odd[pick(rng, odd.size())] : plain[pick(rng, plain.size())];
    if (pick(rng, 200) == 0) s += std::string(1000 + pick(rng, 20000), 'z'); // long
    return s;
}

// A number's text: well formed in every shape the grammar has, and malformed ones.
std::string random_number(Rng& rng) {
    static const std::vector<std::string> fixed = {"0",
                                                   "-0",
                                                   "00",
                                                   "01",
                                                   "-01",
                                                   "0.0",
                                                   "-0.0",
                                                   "1.",
                                                   ".5",
                                                   "+1",
                                                   "1e",
                                                   "1e+",
                                                   "-",
                                                   "--1",
                                                   "1.5e3",
                                                   "1E-3",
                                                   "1e400",
                                                   "-1e400",
                                                   "1e-400",
                                                   "4.9e-324",
                                                   "2.2250738585072014e-308",
                                                   "1.7976931348623157e308",
                                                   "1.7976931348623159e308",
                                                   "9223372036854775807",
                                                   "9223372036854775808",
                                                   "-9223372036854775808",
                                                   "-9223372036854775809",
                                                   "18446744073709551615",
                                                   "18446744073709551616",
                                                   "123456789012345678",
                                                   "1234567890123456789",
                                                   "99999999999999999999999",
                                                   "0.1",
                                                   "0.30000000000000004",
                                                   "123456789012345.6",
                                                   "1234567890123456.7",
                                                   "3.141592653589793238462643383279",
                                                   "1e22",
                                                   "1e23",
                                                   "1e-22",
                                                   "1e-23",
                                                   "9007199254740993",
                                                   "9007199254740993.0",
                                                   "1e00005",
                                                   "1.0e-00005",
                                                   "1800000000006",
                                                   "306.57",
                                                   "1_0",
                                                   "0x10",
                                                   "1e1.5",
                                                   "Infinity",
                                                   "NaN",
                                                   "1.5e-7",
                                                   "5e-324",
                                                   "123.456e-300"};
    switch (pick(rng, 4)) {
    case 0: return fixed[pick(rng, fixed.size())];
    case 1: return std::to_string(static_cast<int64_t>(rng() >> pick(rng, 64)) * (pick(rng, 2) ? 1 : -1));
    case 2: {
        // Random decimal: digits, fraction, exponent.
        std::string s = pick(rng, 4) == 0 ? "-" : "";
        s += std::to_string(rng() % 100000000000ull);
        if (pick(rng, 2)) s += "." + std::string(1 + pick(rng, 3), '0') + std::to_string(rng() % 1000000);
        if (pick(rng, 3) == 0) s += fmt::format("e{}{}", pick(rng, 2) ? "-" : "", pick(rng, 40));
        return s;
    }
    default: {
        double d = 0;
        const uint64_t bits = rng();
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) d = 1.25;
        return fmt::format("{}", d);
    }
    }
}

std::string random_value(Rng& rng) {
    static const std::vector<std::string> other = {"true",      "false",
                                                   "null",      "tru",
                                                   "nul",       "falsey",
                                                   "truex",     "[]",
                                                   "[1,2]",     "{}",
                                                   "{\"a\":1}", "[{\"b\":[null]}]",
                                                   "'x'",       "\"unterminated",
                                                   "TRUE",      ""};
    switch (pick(rng, 5)) {
    case 0:
    case 1: return "\"" + random_text(rng) + "\"";
    case 2:
    case 3: return random_number(rng);
    default: return other[pick(rng, other.size())];
    }
}

std::string random_ws(Rng& rng) {
    static const std::vector<std::string> ws = {"",  "",   "",   "",   "",   "",     "",
                                                " ", "\t", "  ", "\r", "\n", " \r\n"};
    if (pick(rng, 40) == 0) return pick(rng, 2) ? "\f" : "\v"; // not JSON whitespace
    return ws[pick(rng, ws.size())];
}

// A member for the test schema's events (make_ruleset()): a field with a fitting value most of the time.
std::string random_member(Rng& rng) {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> fields = {
        {"type", {"\"page_view\"", "\"purchase\"", "\"nope\"", "7", "null", "\"page_view\\u0000\""}},
        {"user", {"\"u1\"", "\"u42\"", "42", "-5", "\"\"", "null", "1.5", "true"}},
        {"account", {"17", "\"17\"", "-3", "9223372036854775807", "9223372036854775808", "null"}},
        {"ts",
         {"1772438672468", "\"2026-11-29T10:00:00.250Z\"", "1772438672.5", "-1", "\"x\"", "null", "true",
          "1e300", "17724386724680000000"}},
        {"event_id", {"\"e-1\"", "12", "null", "-12"}},
        {"page", {"\"home\"", "\"product\"", "\"cart\"", "\"nope\"", "1", "null"}},
        {"url", {"\"/p/1\"", "\"\"", "null", "1"}},
        {"price", {"19.99", "20", "-0.5", "\"1\"", "null", "1e-310", "18446744073709551615"}},
        {"logged_in", {"true", "false", "null", "1", "\"true\""}},
        {"load_time", {"\"250ms\"", "1.5", "300", "\"bad\"", "null", "-1e300"}},
        {"n", {"-7", "0", "1.0", "9223372036854775808", "\"7\"", "null"}},
        {"seen_at", {"1000", "\"2026-01-01T00:00:00Z\"", "null", "1.5e12"}},
        {"amount", {"5", "2.5", "null", "\"5\""}},
    };
    std::string key;
    std::string value;
    if (pick(rng, 4) == 0) { // anything
        key = pick(rng, 3) == 0 ? random_text(rng) : fields[pick(rng, fields.size())].first;
        value = random_value(rng);
    } else {
        const auto& f = fields[pick(rng, fields.size())];
        key = f.first;
        value = pick(rng, 3) == 0 ? random_value(rng) : f.second[pick(rng, f.second.size())];
    }
    return random_ws(rng) + "\"" + key + "\"" + random_ws(rng) + ":" + random_ws(rng) + value +
           random_ws(rng);
}

// A line that would decode: the type first or elsewhere, every required field of its type.
std::string valid_line(Rng& rng) {
    std::vector<std::string> m;
    if (pick(rng, 2)) {
        m = {"\"type\":\"page_view\"",
             fmt::format("\"user\":\"u{}\"", pick(rng, 1000)),
             fmt::format("\"ts\":{}", 1772438672468 + pick(rng, 100000)),
             "\"page\":\"product\"",
             fmt::format("\"url\":\"/p/{}\"", pick(rng, 50)),
             "\"logged_in\":true"};
        if (pick(rng, 2)) m.push_back("\"price\":" + random_number(rng));
        if (pick(rng, 2)) m.push_back(fmt::format("\"event_id\":\"e-{}\"", pick(rng, 100)));
        if (pick(rng, 2)) m.push_back(fmt::format("\"n\":{}", static_cast<int64_t>(rng() % 2000) - 1000));
        if (pick(rng, 3) == 0) m.push_back("\"load_time\":\"250ms\"");
        if (pick(rng, 3) == 0) m.push_back("\"seen_at\":\"2026-11-29T10:00:00Z\"");
        if (pick(rng, 3) == 0) m.push_back("\"extra\":" + random_value(rng));
    } else {
        m = {"\"type\":\"purchase\"", fmt::format("\"account\":{}", pick(rng, 1000)),
             fmt::format("\"ts\":{}", 1772438672468 + pick(rng, 100000)), "\"amount\":" + random_number(rng)};
    }
    std::shuffle(m.begin() + (pick(rng, 2) ? 1 : 0), m.end(), rng);
    std::string line = "{";
    for (size_t i = 0; i < m.size(); ++i) {
        if (i) line += ',';
        line += random_ws(rng);
        line += m[i];
    }
    return line + "}";
}

std::string random_object(Rng& rng) {
    std::string line = random_ws(rng) + "{";
    const size_t n = pick(rng, 20) == 0 ? 60 + pick(rng, 20) : pick(rng, 10); // some past kFlatMembers
    for (size_t i = 0; i < n; ++i) {
        if (i) line += ',';
        line += random_member(rng);
    }
    return line + "}" + random_ws(rng);
}

// Random damage: a byte inserted, deleted or replaced with one that matters to JSON.
std::string mutate(Rng& rng, std::string s) {
    static const std::string bytes = "{}[]\":,\\ \t\r\n0123456789.eE+-tfnaxu\x01\x7f\x80\xc3\xff";
    const size_t edits = 1 + pick(rng, 3);
    for (size_t k = 0; k < edits && !s.empty(); ++k) {
        const size_t at = pick(rng, s.size());
        switch (pick(rng, 3)) {
        case 0: s.insert(at, 1, bytes[pick(rng, bytes.size())]); break;
        case 1: s.erase(at, 1); break;
        default: s[at] = bytes[pick(rng, bytes.size())]; break;
        }
    }
    return s;
}

std::string random_line(Rng& rng) {
    switch (pick(rng, 12)) {
    case 0:
    case 1:
    case 2:
    case 3: return valid_line(rng);
    case 4:
    case 5: return random_object(rng);
    case 6:
    case 7: return mutate(rng, pick(rng, 2) ? valid_line(rng) : random_object(rng));
    case 8: { // two documents, or one and garbage
        static const std::vector<std::string> seps = {"", " ", "\n", ",", "x", "\r\n"};
        const std::string a = valid_line(rng);
        return a + seps[pick(rng, seps.size())] + (pick(rng, 2) ? valid_line(rng) : random_value(rng));
    }
    case 9: { // truncated
        const std::string a = valid_line(rng);
        return a.substr(0, pick(rng, a.size()));
    }
    case 10: { // empty, blank, not an object
        static const std::vector<std::string> odd = {
            "",
            " ",
            "\t",
            "{}",
            "[]",
            "42",
            "\"x\"",
            "null",
            "{ }",
            "\xef\xbb\xbf{\"type\":\"purchase\",\"account\":1,\"ts\":0,\"amount\":1}",
            "{\"type\":\"purchase\",\"account\":1,\"ts\":0,\"amount\":1,}",
            "{\"type\" \"purchase\"}",
            "{type:\"purchase\"}",
            "{\"a\":1}}"};
        return odd[pick(rng, odd.size())];
    }
    default: { // oversized: a long string member, or many members
        std::string line = valid_line(rng);
        line.pop_back();
        if (pick(rng, 2))
            line += ",\"pad\":\"" + std::string(2000 + pick(rng, 30000), 'p') + "\"}";
        else {
            for (size_t i = 0; i < 200 + pick(rng, 400); ++i) line += fmt::format(",\"k{}\":{}", i, i);
            line += "}";
        }
        return line;
    }
    }
}

// Decodes `lines` with the DOM alone and with the flat scan, immediately and deferred, and requires the same
// results line by line. Returns the lines the flat scan took.
uint64_t compare_decoders(const std::vector<std::string>& lines) {
    const ir::RuleSet rs = testing::make_ruleset();
    testing::DecoderPair pair(rs);
    size_t failures = 0;
    for (size_t i = 0; i < lines.size() && failures < 10; ++i) {
        const std::string diff = pair.compare(lines[i], i + 1);
        if (!diff.empty()) {
            ++failures;
            ADD_FAILURE() << "line " << i + 1 << ": " << fmt::format("{:?}", lines[i].substr(0, 300)) << "\n"
                          << diff;
        }
    }
    EXPECT_EQ(pair.compare_pools(), "");
    EXPECT_EQ(pair.dom().flat_lines(), 0u);
    EXPECT_EQ(pair.flat().flat_lines(), pair.flat_deferred().flat_lines());
    return pair.flat().flat_lines();
}

TEST(FlatJsonTest, RandomLinesDecodeAsWithTheDom) {
    Rng rng(20261130);
    std::vector<std::string> lines;
    for (int i = 0; i < 40000; ++i) lines.push_back(random_line(rng));
    const uint64_t flat = compare_decoders(lines);
    // Both paths are exercised: a good part of the lines through the scan, a good part declined.
    EXPECT_GT(flat, lines.size() / 4);
    EXPECT_LT(flat, lines.size() * 3 / 4);
}

TEST(FlatJsonTest, NumbersDecodeAsWithTheDom) {
    // Every number shape as a float field and as an int field: the scan's doubles must be simdjson's, bit
    // for bit, and its integers the same ones.
    Rng rng(7);
    std::vector<std::string> lines;
    for (int i = 0; i < 30000; ++i) {
        const std::string n = random_number(rng);
        lines.push_back(R"({"type":"purchase","account":1,"ts":0,"amount":)" + n + "}");
        lines.push_back(
            R"({"type":"page_view","user":"u","ts":1,"page":"home","url":"","logged_in":true,"n":)" + n +
            "}");
    }
    compare_decoders(lines);
}

TEST(FlatJsonTest, ScanDeclinesWhatItCannotBeSureOf) {
    JsonMember m[kFlatMembers];
    EXPECT_EQ(scan_flat_object(R"({"a":1,"b":"x","c":true,"d":null,"e":1.5})", m, kFlatMembers), 5);
    EXPECT_EQ(m[4].value.type, JsonType::Double);
    EXPECT_EQ(scan_flat_object(" { } ", m, kFlatMembers), 0);
    for (const char* line :
         {R"({"a":"\n"})", "{\"a\":\"\xc3\xa9\"}", R"({"a":[1]})", R"({"a":{}})", R"({"a":-0})",
          R"({"a":0.0})", R"({"a":1e400})", R"({"a":1234567890123456789})", R"({"a":1}{})", R"({"a":1} x)",
          R"({"a":01})", R"({"a":1,})", R"([1])", "", "{\"a\":\"\x01\"}"})
        EXPECT_EQ(scan_flat_object(line, m, kFlatMembers), -1) << line;
    std::string many = "{";
    for (int i = 0; i <= kFlatMembers; ++i) many += fmt::format("{}\"k{}\":{}", i ? "," : "", i, i);
    EXPECT_EQ(scan_flat_object(many + "}", m, kFlatMembers), -1);
}

} // namespace
} // namespace ethogram::runtime
