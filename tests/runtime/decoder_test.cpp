// decoder_test.cpp: JSON line decoding and every validation (dead-letter) reason.
#include "runtime/decoder.h"
#include "runtime/event_finish.h"

#include "tests/runtime/test_schema.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ethogram::runtime {
namespace {

class DecoderTest : public ::testing::Test {
protected:
    ir::RuleSet rs = testing::make_ruleset();
    ir::StringPool pool;
    Decoder dec{rs, pool};
    ir::Event ev;

    static std::string pv(const std::string& extra) {
        return R"({"type":"page_view","user":"u42","ts":"2026-11-29T10:00:00.250Z","page":"product",)"
               R"("url":"/p/1","logged_in":true)" +
               extra + "}";
    }
    // Valid lines whose strings take each way out of export_deferred: plain strings, an integer key (its
    // decimal text), an escaped string (the DOM decoder's buffer).
    static std::vector<std::string> export_lines() {
        return {
            pv(R"(,"event_id":"e-1","price":1.5,"load_time":"250ms","n":3,"seen_at":1000)"),
            R"({"type":"page_view","user":42,"ts":0,"page":"home","url":"/x","logged_in":false})",
            R"({"type":"page_view","url":"/fi\"rst","user":"u7","ts":5,"page":"cart","logged_in":true})",
        };
    }
    // Asserts that `b` (decoded deferred, then committed) is the event `a` that decode() gave for `line`.
    static void expect_same_event(const ir::Event& b, const ir::Event& a, const std::string& line) {
        EXPECT_EQ(b.key, a.key) << line;
        EXPECT_EQ(b.id, a.id) << line;
        EXPECT_EQ(b.time, a.time) << line;
        ASSERT_EQ(b.fields.size(), a.fields.size()) << line;
        for (size_t f = 0; f < a.fields.size(); ++f) {
            EXPECT_EQ(b.fields[f].type, a.fields[f].type) << line << ": field " << f;
            EXPECT_EQ(b.fields[f].i, a.fields[f].i) << line << ": field " << f;
        }
    }
    // Asserts that `line` is rejected with `reason` and that the detail mentions `part`.
    void rejects(const std::string& line, DeadReason reason, const std::string& part) {
        EXPECT_FALSE(dec.decode(line, 1, ev)) << line;
        EXPECT_EQ(dead_reason_code(dec.error().reason), dead_reason_code(reason))
            << line << ": " << dec.error().detail;
        EXPECT_NE(dec.error().detail.find(part), std::string::npos) << dec.error().detail;
    }
};

TEST_F(DecoderTest, DecodesEveryFieldType) {
    std::string line = pv(R"(,"event_id":"e-1","price":19.99,"load_time":"250ms","n":-7,)"
                          R"("seen_at":1000,"extra":{"ignored":[1,2]})");
    ASSERT_TRUE(dec.decode(line, 12, ev)) << dec.error().detail;
    EXPECT_EQ(ev.type, 0);
    EXPECT_EQ(ev.line, 12u);
    EXPECT_EQ(pool.view(ev.key), "u42");
    EXPECT_EQ(ev.time, 1795946400250000);
    EXPECT_EQ(pool.view(ev.id), "e-1");
    ASSERT_EQ(ev.fields.size(), 10u);
    EXPECT_EQ(ev.fields[0].type, ir::Type::String);
    EXPECT_EQ(ev.fields[0].i, ev.key);
    EXPECT_EQ(ev.fields[1].type, ir::Type::Timestamp);
    EXPECT_EQ(ev.fields[3].type, ir::Type::Enum);
    EXPECT_EQ(ev.fields[3].i, 1); // "product" is index 1 of home|product|cart
    EXPECT_EQ(pool.view(static_cast<uint32_t>(ev.fields[4].i)), "/p/1");
    EXPECT_EQ(ev.fields[5].type, ir::Type::Float);
    EXPECT_DOUBLE_EQ(ev.fields[5].f, 19.99);
    EXPECT_EQ(ev.fields[6].type, ir::Type::Bool);
    EXPECT_TRUE(ev.fields[6].b);
    EXPECT_EQ(ev.fields[7].type, ir::Type::Duration);
    EXPECT_EQ(ev.fields[7].i, 250000);
    EXPECT_EQ(ev.fields[8].type, ir::Type::Int);
    EXPECT_EQ(ev.fields[8].i, -7);
    EXPECT_EQ(ev.fields[9].type, ir::Type::Timestamp);
    EXPECT_EQ(ev.fields[9].i, 1000000); // epoch ms by default
}

TEST_F(DecoderTest, OptionalMissingOrNullIsMissing) {
    ASSERT_TRUE(dec.decode(pv(R"(,"price":null)"), 1, ev)) << dec.error().detail;
    EXPECT_TRUE(ev.fields[2].is_missing());
    EXPECT_TRUE(ev.fields[5].is_missing());
    EXPECT_TRUE(ev.fields[7].is_missing());
    EXPECT_EQ(ev.id, ir::kNoString);
}

TEST_F(DecoderTest, FloatsAcceptIntsAndDurationNumbersAreMillis) {
    ASSERT_TRUE(dec.decode(pv(R"(,"price":20,"load_time":1.5)"), 1, ev)) << dec.error().detail;
    EXPECT_EQ(ev.fields[5].type, ir::Type::Float);
    EXPECT_DOUBLE_EQ(ev.fields[5].f, 20.0);
    EXPECT_EQ(ev.fields[7].i, 1500);
}

TEST_F(DecoderTest, TimeFromEpochNumbers) {
    std::string line = R"({"type":"purchase","account":17,"ts":1772438672468,"amount":5})";
    ASSERT_TRUE(dec.decode(line, 3, ev)) << dec.error().detail;
    EXPECT_EQ(ev.type, 1);
    EXPECT_EQ(ev.time, 1772438672468000);
    EXPECT_EQ(pool.view(ev.key), "17");
    EXPECT_EQ(ev.fields[0].type, ir::Type::Int);
    EXPECT_EQ(ev.fields[0].i, 17);

    Decoder secs(rs, pool, DecoderOptions{"type", EpochUnit::Seconds});
    ASSERT_TRUE(secs.decode(R"({"type":"purchase","account":17,"ts":1772438672,"amount":5})", 4, ev));
    EXPECT_EQ(ev.time, 1772438672000000);
}

TEST_F(DecoderTest, IntKeyForStringKeyIsItsDecimalText) {
    ASSERT_TRUE(dec.decode(
        R"({"type":"page_view","user":42,"ts":0,"page":"home","url":"","logged_in":false})", 1, ev));
    EXPECT_EQ(pool.view(ev.key), "42");
    EXPECT_EQ(ev.fields[0].type, ir::Type::String);
}

TEST_F(DecoderTest, CustomTypeField) {
    Decoder kind(rs, pool, DecoderOptions{"kind", EpochUnit::Millis});
    EXPECT_TRUE(kind.decode(R"({"kind":"purchase","account":1,"ts":0,"amount":1})", 1, ev))
        << kind.error().detail;
    EXPECT_FALSE(kind.decode(R"({"type":"purchase","account":1,"ts":0,"amount":1})", 1, ev));
    EXPECT_EQ(kind.error().reason, DeadReason::MissingType);
}

TEST_F(DecoderTest, ParseErrors) {
    rejects("{not json", DeadReason::ParseError, "invalid JSON");
    rejects(R"({"type":"page_view",})", DeadReason::ParseError, "invalid JSON");
    rejects("[1,2,3]", DeadReason::ParseError, "expected a JSON object, got array");
    rejects("42", DeadReason::ParseError, "object");
}

TEST_F(DecoderTest, TypeErrors) {
    rejects(R"({"user":"u1","ts":0})", DeadReason::MissingType, "\"type\"");
    rejects(R"({"type":7,"user":"u1"})", DeadReason::MissingType, "must be a string");
    rejects(R"({"type":"page_veiw","user":"u1"})", DeadReason::UnknownType, "page_veiw");
}

TEST_F(DecoderTest, MissingAndNullRequiredFields) {
    rejects(R"({"type":"page_view","user":"u1","ts":0,"page":"home","logged_in":true})",
            DeadReason::MissingField, "page_view.url");
    rejects(pv(R"(,"url":null)"), DeadReason::MissingField, "page_view.url: required field is null");
    rejects(R"({"type":"page_view","user":"u1","page":"home","url":"","logged_in":true})",
            DeadReason::MissingField, "page_view.ts");
    rejects(R"({"type":"page_view","ts":0,"page":"home","url":"","logged_in":true})",
            DeadReason::MissingField, "page_view.user");
    rejects(R"({"type":"page_view","user":null,"ts":0,"page":"home","url":"","logged_in":true})",
            DeadReason::MissingField, "key is null");
}

TEST_F(DecoderTest, WrongFieldTypesNameFieldAndExpectation) {
    rejects(pv(R"(,"n":1.5)"), DeadReason::BadField, "page_view.n: expected int");
    rejects(pv(R"(,"n":"3")"), DeadReason::BadField, "got string");
    rejects(pv(R"(,"n":18446744073709551615)"), DeadReason::BadField, "out of the int64 range");
    rejects(pv(R"(,"price":"cheap")"), DeadReason::BadField, "page_view.price: expected float");
    rejects(R"({"type":"page_view","user":"u","ts":0,"page":"home","url":5,"logged_in":true})",
            DeadReason::BadField, "page_view.url: expected string, got integer");
    rejects(R"({"type":"page_view","user":"u","ts":0,"page":"home","url":"","logged_in":"yes"})",
            DeadReason::BadField, "page_view.logged_in: expected bool");
    rejects(pv(R"(,"load_time":"fast")"), DeadReason::BadField, "page_view.load_time");
    rejects(pv(R"(,"load_time":-5)"), DeadReason::BadField, "negative");
    rejects(R"({"type":"page_view","user":[1],"ts":0,"page":"home","url":"","logged_in":true})",
            DeadReason::BadField, "page_view.user");
    rejects(R"({"type":"purchase","account":"abc","ts":0,"amount":1})", DeadReason::BadField,
            "purchase.account: expected the key as a JSON integer");
}

TEST_F(DecoderTest, BadEnumValue) {
    rejects(R"({"type":"page_view","user":"u","ts":0,"page":"checkout","url":"","logged_in":true})",
            DeadReason::BadField,
            "\"checkout\" is not a value of the enum (expected one of: home, product, cart)");
}

TEST_F(DecoderTest, BadTimes) {
    rejects(
        R"({"type":"page_view","user":"u","ts":"2026-13-01T00:00:00Z","page":"home","url":"","logged_in":true})",
        DeadReason::BadTime, "month 13 out of range");
    rejects(R"({"type":"page_view","user":"u","ts":"soon","page":"home","url":"","logged_in":true})",
            DeadReason::BadTime, "page_view.ts");
    rejects(R"({"type":"page_view","user":"u","ts":true,"page":"home","url":"","logged_in":true})",
            DeadReason::BadTime, "got boolean");
    rejects(pv(R"(,"seen_at":"2026-02-30T00:00:00Z")"), DeadReason::BadTime, "page_view.seen_at");
}

TEST_F(DecoderTest, ReusableAfterErrors) {
    EXPECT_FALSE(dec.decode("{", 1, ev));
    ASSERT_TRUE(dec.decode(pv(""), 2, ev)) << dec.error().detail;
    EXPECT_EQ(ev.line, 2u);
    EXPECT_TRUE(ev.fields[8].is_missing()); // no leftover from an earlier line
}

// Every prefix and many byte mutations of a valid line decode or fail cleanly with a detail (run under
// ETHOGRAM_SANITIZE for memory errors); no prefix of an object can be valid JSON except the whole line.
TEST_F(DecoderTest, TruncationsAndMutationsFailCleanly) {
    std::string line = pv(R"(,"event_id":"e-1","price":19.99,"load_time":"250ms","n":-7,"seen_at":1000)");
    for (size_t n = 0; n < line.size(); ++n) {
        ASSERT_FALSE(dec.decode(std::string_view(line).substr(0, n), 1, ev)) << n;
        EXPECT_EQ(dec.error().reason, DeadReason::ParseError) << n;
        EXPECT_FALSE(dec.error().detail.empty());
    }
    uint64_t x = 7;
    int ok = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string m = line;
        for (int k = 0; k < 3; ++k) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            m[(x >> 33) % m.size()] = static_cast<char>((x >> 17) & 0xff);
        }
        if (dec.decode(m, 1, ev)) {
            ++ok;
            EXPECT_EQ(ev.fields.size(), rs.events[ev.type].fields.size());
        } else {
            EXPECT_FALSE(dec.error().detail.empty()) << m;
        }
    }
    EXPECT_LT(ok, 3000); // most mutations break something
}

// The parallel runtime's path: decode_deferred validates without interning, export_deferred and
// commit_exported intern in the order
// decode() does, so the events and the pools are identical; a rejected line interns nothing (decode() may
// have interned the strings before the bad member, which is why it comes last here).
TEST_F(DecoderTest, DeferredDecodeThenCommitEqualsDecode) {
    ir::StringPool deferred_pool;
    Decoder deferred{rs, deferred_pool};
    const std::vector<std::string> lines = {
        pv(R"(,"event_id":"e-1","price":1.5,"load_time":"250ms","n":3,"seen_at":1000)"),
        R"({"type":"page_view","user":42,"ts":0,"page":"home","url":"/x","logged_in":false})",
        R"({"type":"page_view","url":"/first","user":"u7","ts":5,"page":"cart","logged_in":true})",
        pv(R"(,"event_id":"e-2","n":"not an int")"),
    };
    size_t interned = 0;
    for (const std::string& line : lines) {
        ir::Event a, b;
        const bool ok = dec.decode(line, 3, a);
        ASSERT_EQ(deferred.decode_deferred(line, 3, b), ok) << line;
        if (!ok) {
            EXPECT_EQ(deferred.error().detail, dec.error().detail);
            EXPECT_EQ(deferred_pool.size(), interned);
            continue;
        }
        EXPECT_EQ(deferred.key_text(), pool.view(a.key));
        EXPECT_EQ(b.key, ir::kNoString); // nothing interned yet
        std::string arena;
        std::vector<DeferredString> strings;
        deferred.export_deferred(arena, strings);
        Decoder::commit_exported(rs, deferred_pool, arena, strings.data(), strings.data() + strings.size(),
                                 b);
        expect_same_event(b, a, line);
        ASSERT_EQ(deferred_pool.size(), pool.size());
        for (uint32_t i = 0; i < pool.size(); ++i) EXPECT_EQ(deferred_pool.view(i), pool.view(i));
        interned = deferred_pool.size();
    }
    EXPECT_GT(interned, 5u);
}

// The parallel runtime parses each line in place in its chunk (decode_deferred with `padded`): the bytes
// after the line (the next lines, or the chunk's padding) must never be taken for part of it. Each line is
// placed in a buffer followed by text that would complete or change it if it were read, and must decode
// exactly as it does on its own.
TEST_F(DecoderTest, DeferredDecodeInPlaceIgnoresTheBytesAfterTheLine) {
    ir::StringPool copy_pool, place_pool;
    Decoder copy{rs, copy_pool}, place{rs, place_pool};
    const std::vector<std::string> lines = {
        pv(R"(,"event_id":"e-1","price":1.5,"load_time":"250ms","n":3,"seen_at":1000)"),
        R"({"type":"page_view","user":42,"ts":0,"page":"home","url":"/x","logged_in":false})",
        R"({"type":"page_view","user":"u7","ts":5,"page":"cart","url":"/y","logged_in":true,"n":12)",
        R"({"type":"page_view","user":"u7","ts":5,"page":"cart","url":"/y","logged_in":true,"n":12})",
        R"({"type":"page_view","user":"u7","ts":5,"page":"cart","url":"/y","logged_in":true,"n":"ab)",
        R"({"type":"page_view","user":"u7","ts":5)",
    };
    const std::string after = R"(34,"url":"/z"}"})" + std::string(kLinePadding, '9');
    for (const std::string& line : lines) {
        const std::string buf = line + after;
        ir::Event a, b;
        const bool ok = copy.decode_deferred(line, 5, a);
        ASSERT_EQ(place.decode_deferred(std::string_view(buf.data(), line.size()), 5, b, true), ok) << line;
        if (!ok) {
            EXPECT_EQ(place.error().detail, copy.error().detail) << line;
            continue;
        }
        EXPECT_EQ(place.key_text(), copy.key_text());
        ASSERT_EQ(b.fields.size(), a.fields.size());
        for (size_t f = 0; f < a.fields.size(); ++f) {
            EXPECT_EQ(b.fields[f].type, a.fields[f].type) << f;
            EXPECT_EQ(b.fields[f].i, a.fields[f].i) << f;
        }
        std::string arena_a, arena_b;
        std::vector<DeferredString> sa, sb;
        copy.export_deferred(arena_a, sa);
        place.export_deferred(arena_b, sb);
        EXPECT_EQ(arena_b, arena_a) << line;
    }
}

// The parallel runtime's path: lines validated by decode_deferred and exported (their strings copied out),
// then committed later, after the decoder has moved on, into another pool (the owner shard's): the same
// events and the same pool as decode() gives.
TEST_F(DecoderTest, ExportedStringsCommitLaterLikeDecode) {
    ir::StringPool parse_pool, owner_pool;
    Decoder deferred{rs, parse_pool};
    std::vector<std::string> lines = export_lines();
    lines.push_back(pv(R"(,"event_id":"e-2","n":"not an int")"));
    lines.push_back(pv(R"(,"event_id":17)"));
    std::string arena;
    std::vector<DeferredString> strings;
    std::vector<ir::Event> events;
    std::vector<std::pair<size_t, size_t>> ranges;
    for (const std::string& line : lines) {
        ir::Event e;
        if (!deferred.decode_deferred(line, 3, e)) continue;
        const size_t first = strings.size();
        deferred.export_deferred(arena, strings);
        events.push_back(std::move(e));
        ranges.emplace_back(first, strings.size());
    }
    ASSERT_EQ(events.size(), 3u);     // the "not an int" and the integer id are dead letters
    EXPECT_EQ(parse_pool.size(), 0u); // nothing interned while validating
    size_t k = 0;
    for (const std::string& line : lines) {
        ir::Event a;
        if (!dec.decode(line, 3, a))
            break; // the dead letters come last (decode() interns what precedes
                   // the bad member, decode_deferred nothing)
        ir::Event& b = events[k];
        Decoder::commit_exported(rs, owner_pool, arena, strings.data() + ranges[k].first,
                                 strings.data() + ranges[k].second, b);
        ++k;
        expect_same_event(b, a, line);
    }
    EXPECT_EQ(k, events.size());
    // decode() also interned what preceded the bad member of the first dead letter ("e-2"): one more.
    ASSERT_EQ(owner_pool.size() + 1, pool.size());
    for (uint32_t i = 0; i < owner_pool.size(); ++i) EXPECT_EQ(owner_pool.view(i), pool.view(i));
}

// As the parallel runtime exports: the lines parsed in place in one buffer (a chunk) and exported with that
// buffer as the source, so that a string standing as is in its line is recorded as a range of the buffer
// instead of copied; an escaped string (unescaped into the decoder's buffer) and an integer key's or id's
// decimal text are copied to the arena. Committed later, after the decoder has moved on, the events and
// the pool are those decode() gives.
TEST_F(DecoderTest, ExportedStringsLeftInTheSourceCommitLikeDecode) {
    ir::StringPool parse_pool, owner_pool;
    Decoder deferred{rs, parse_pool};
    std::vector<std::string> lines = export_lines();
    lines.push_back(pv(R"(,"event_id":"e-3")"));
    std::string chunk;
    std::vector<std::pair<size_t, size_t>> at; // each line's offset and length in `chunk`
    for (const std::string& line : lines) {
        at.emplace_back(chunk.size(), line.size());
        chunk += line + "\n";
    }
    chunk.append(kLinePadding, ' ');
    const std::string_view source(chunk);
    std::string arena;
    std::vector<DeferredString> strings;
    std::vector<ir::Event> events(lines.size());
    std::vector<std::pair<size_t, size_t>> ranges;
    for (size_t i = 0; i < lines.size(); ++i) {
        ASSERT_TRUE(deferred.decode_deferred(source.substr(at[i].first, at[i].second), 3, events[i], true))
            << lines[i];
        const size_t first = strings.size();
        deferred.export_deferred(arena, strings, source);
        ranges.emplace_back(first, strings.size());
    }
    // Copied: the integer key's text "42", and the third line's strings: its escape sends it through
    // simdjson's DOM, whose strings are in simdjson's buffer ("/fi\"rst" unescaped, and "u7"). Every other
    // string is a range of the source holding exactly its text.
    EXPECT_EQ(arena, std::string("42") + "/fi\"rst" + "u7");
    size_t in_source = 0;
    for (const DeferredString& s : strings) {
        if (!s.in_source) continue;
        ++in_source;
        ASSERT_LE(s.offset + s.size, source.size());
        EXPECT_EQ(source.substr(s.offset, s.size).find_first_of("\"\\"), std::string_view::npos);
    }
    EXPECT_EQ(in_source, strings.size() - 3);
    EXPECT_GE(in_source, 6u);
    for (size_t k = 0; k < lines.size(); ++k) {
        ir::Event a;
        ASSERT_TRUE(dec.decode(lines[k], 3, a));
        ir::Event& b = events[k];
        Decoder::commit_exported(rs, owner_pool, arena, strings.data() + ranges[k].first,
                                 strings.data() + ranges[k].second, b, source);
        expect_same_event(b, a, lines[k]);
    }
    ASSERT_EQ(owner_pool.size(), pool.size());
    for (uint32_t i = 0; i < pool.size(); ++i) EXPECT_EQ(owner_pool.view(i), pool.view(i));
    EXPECT_EQ(parse_pool.size(), 0u);
}

// The decoder finds a member's field through a small per-type hash table (with the field index behind
// entries two names share): every field of a wide schema is found by its name, and names that differ
// from a field's only in a byte the hash does not read, or in length, are ignored as unknown members.
TEST(DecoderNames, WideSchemaEveryFieldFoundNearMissesIgnored) {
    ir::RuleSet rs;
    ir::EventType et;
    et.name = "wide";
    et.fields.push_back(testing::field("k", ir::Type::String));
    et.fields.push_back(testing::field("ts", ir::Type::Timestamp));
    // Names alike in length, first, middle and last byte, so that some of them share a table entry.
    for (int i = 0; i < 60; ++i)
        et.fields.push_back(testing::field(fmt::format("f{:02d}x", i), ir::Type::Int, true));
    et.key_field = 0;
    et.time_field = 1;
    rs.events = {et};
    ir::StringPool pool;
    Decoder dec{rs, pool};
    std::string line = R"({"type":"wide","k":"a","ts":5)";
    for (int i = 59; i >= 0; --i) line += fmt::format(R"(,"f{:02d}x":{})", i, 1000 + i);
    line += R"(,"f0x":1,"f00y":2,"f00xx":3,"":4,"F00x":5})";
    ir::Event ev;
    ASSERT_TRUE(dec.decode(line, 1, ev)) << dec.error().detail;
    ASSERT_EQ(ev.fields.size(), 62u);
    for (int i = 0; i < 60; ++i) {
        EXPECT_EQ(ev.fields[2 + i].type, ir::Type::Int) << i;
        EXPECT_EQ(ev.fields[2 + i].i, 1000 + i) << i;
    }
    EXPECT_EQ(ev.time, 5000); // 5 ms since the epoch, in µs
}

// The event type is found through the same kind of table: with many look-alike type names (some sharing an
// entry) every type is found by its name, and near misses are unknown types.
TEST(DecoderNames, ManyEventTypesEachFoundNearMissesUnknown) {
    ir::RuleSet rs;
    for (int i = 0; i < 80; ++i) {
        ir::EventType et;
        et.name = fmt::format("t{:02d}x", i);
        et.fields.push_back(testing::field("k", ir::Type::String));
        et.fields.push_back(testing::field("ts", ir::Type::Timestamp));
        et.key_field = 0;
        et.time_field = 1;
        rs.events.push_back(et);
    }
    ir::StringPool pool;
    Decoder dec{rs, pool};
    ir::Event ev;
    for (int i = 0; i < 80; ++i) {
        ASSERT_TRUE(dec.decode(fmt::format(R"({{"type":"t{:02d}x","k":"a","ts":5}})", i), 1, ev))
            << dec.error().detail;
        EXPECT_EQ(ev.type, i);
    }
    for (const char* name : {"t0x", "t00y", "t00xx", "", "T00x"}) {
        EXPECT_FALSE(dec.decode(fmt::format(R"({{"type":"{}","k":"a","ts":5}})", name), 1, ev)) << name;
        EXPECT_EQ(dec.error().reason, DeadReason::UnknownType) << name;
    }
}

// begin_event and finish_event (shared with embed's typed events) over types of 1 to 19 fields, one event
// reused across types of every size (as LineStage reuses released field arrays): every field missing
// after begin_event, and finish_event's verdict that of the rule "every required field seen", for random
// seen sets and optional flags (the word-at-a-time count of the fields seen must not miss one).
TEST(EventFinish, VerdictsOverReusedEventsOfEverySize) {
    ir::RuleSet rs;
    for (size_t n = 1; n < 20; ++n) {
        ir::EventType et;
        et.name = fmt::format("t{}", n);
        for (size_t f = 0; f < n; ++f) {
            ir::FieldDef fd;
            fd.name = fmt::format("f{}", f);
            fd.type = ir::Type::Int;
            fd.optional = (f * 7 + n) % 3 == 0;
            et.fields.push_back(fd);
        }
        rs.events.push_back(et);
    }
    ir::StringPool pool;
    ir::Event ev;
    std::vector<uint8_t> seen;
    std::string scratch;
    uint64_t r = 12345;
    auto next = [&] { return r = r * 6364136223846793005ull + 1442695040888963407ull, r >> 33; };
    for (int i = 0; i < 20000; ++i) {
        const int t = static_cast<int>(next() % rs.events.size());
        const ir::EventType& et = rs.events[static_cast<size_t>(t)];
        begin_event(rs, t, 7, ev, seen);
        ASSERT_EQ(ev.fields.size(), et.fields.size());
        ASSERT_GE(seen.size(), et.fields.size());
        for (size_t f = 0; f < et.fields.size(); ++f) {
            ASSERT_TRUE(ev.fields[f].is_missing());
            ASSERT_EQ(seen[f], 0);
        }
        bool want = true;
        std::string first_missing;
        for (size_t f = 0; f < et.fields.size(); ++f) {
            if (next() % 8 != 0) {
                seen[f] = 1;
                ev.fields[f] = ir::Value::integer(1);
            } else if (!et.fields[f].optional && want) {
                want = false;
                first_missing = fmt::format("{}.{}: missing required field", et.name, et.fields[f].name);
            }
        }
        DecodeError err;
        ASSERT_EQ(finish_event(et, seen, &pool, scratch, ev, err), want) << i;
        if (!want) {
            EXPECT_EQ(err.detail, first_missing);
        }
    }
}

// Decodes `line` with `dec` (which has seen earlier lines) and with a fresh decoder over `fresh_pool`: the
// same verdict, dead-letter text, time, key and field values (strings by text: the two use pools of their
// own).
void expect_like_a_fresh_decoder(const ir::RuleSet& rs, Decoder& dec, const ir::StringPool& pool,
                                 ir::StringPool& fresh_pool, const std::string& line) {
    ir::Event a, b;
    Decoder fresh{rs, fresh_pool};
    const bool ok_a = dec.decode(line, 1, a);
    const bool ok_b = fresh.decode(line, 1, b);
    ASSERT_EQ(ok_a, ok_b) << line;
    if (!ok_a) {
        ASSERT_EQ(dec.error().detail, fresh.error().detail) << line;
        return;
    }
    ASSERT_EQ(a.fields.size(), b.fields.size()) << line;
    ASSERT_EQ(a.time, b.time) << line;
    ASSERT_EQ(pool.view(a.key), fresh_pool.view(b.key)) << line;
    for (size_t f = 0; f < a.fields.size(); ++f) {
        ASSERT_EQ(a.fields[f].type, b.fields[f].type) << line << " field " << f;
        if (a.fields[f].type == ir::Type::String) {
            ASSERT_EQ(pool.view(static_cast<uint32_t>(a.fields[f].i)),
                      fresh_pool.view(static_cast<uint32_t>(b.fields[f].i)))
                << line << " field " << f;
        } else if (a.fields[f].type != ir::Type::Missing) {
            ASSERT_EQ(a.fields[f].i, b.fields[f].i) << line << " field " << f;
        }
    }
}

// The member loop first tries the field found at the same position on the type's last line. One decoder
// over 20,000 lines whose members come in random orders, with some left out, repeated, unknown or named
// like a field of the other type, against a fresh decoder per line (which has no last line): the same
// verdict, dead-letter text and field values (strings by text: the two use pools of their own).
TEST(DecoderLayout, GuessedSlotsAgreeWithAFreshDecoderPerLine) {
    const ir::RuleSet rs = testing::make_ruleset();
    ir::StringPool pool, fresh_pool;
    Decoder dec{rs, pool};
    uint64_t r = 99;
    auto next = [&] { return r = r * 6364136223846793005ull + 1442695040888963407ull, r >> 33; };
    const std::vector<std::string> pv = {R"("user":"u1")",       R"("ts":1772438672468)",
                                         R"("event_id":"e7")",   R"("page":"cart")",
                                         R"("url":"/p/2")",      R"("price":2.5)",
                                         R"("logged_in":false)", R"("n":3)",
                                         R"("amount":1.5)",      R"("zz":1)",
                                         R"("account":4)"};
    const std::vector<std::string> pu = {R"("account":17)", R"("ts":1772438672468)", R"("amount":9.25)",
                                         R"("user":"u2")",  R"("extra":"x")",        R"("page":"home")"};
    for (int i = 0; i < 20000; ++i) {
        const bool is_pv = next() % 2 == 0;
        std::vector<std::string> members = is_pv ? pv : pu;
        std::vector<std::string> line_members;
        for (const std::string& m : members) {
            const uint64_t k = next() % 16;
            if (k == 0) continue; // left out
            line_members.push_back(m);
            if (k == 1) line_members.push_back(m); // repeated
        }
        if (next() % 4 != 0) { // mostly the same order as the last line of the type, sometimes shuffled
            for (size_t j = line_members.size(); j > 1; --j)
                std::swap(line_members[j - 1], line_members[next() % j]);
        }
        std::string line = is_pv ? R"({"type":"page_view")" : R"({"type":"purchase")";
        for (const std::string& m : line_members) line += "," + m;
        line += "}";
        ASSERT_NO_FATAL_FAILURE(expect_like_a_fresh_decoder(rs, dec, pool, fresh_pool, line));
    }
}

// The fused scan compares the bytes after a comma with the guessed field's `"name":` at once. After a line
// that sets the guesses, lines that differ from that token by whitespace, a longer or shorter name, a
// missing colon or quote, or the end of the line right after it, against a fresh decoder per line: the same
// verdict, dead-letter text and field values.
TEST(DecoderLayout, GuessedTokenNeedsTheWholeQuotedNameAndColon) {
    const ir::RuleSet rs = testing::make_ruleset();
    ir::StringPool pool, fresh_pool;
    Decoder dec{rs, pool};
    const std::string primer = R"({"type":"purchase","account":17,"ts":1772438672468,"amount":9.25})";
    const std::vector<std::string> variants = {
        R"({"type":"purchase","account":17,"ts":1772438672468,"amount":9.25})",
        R"({"type":"purchase", "account":17,"ts":1772438672468,"amount":9.25})",
        R"({"type":"purchase","account" :17,"ts":1772438672468,"amount":9.25})",
        R"({"type":"purchase","account":17,"tsx":1772438672468,"ts":1,"amount":9.25})",
        R"({"type":"purchase","account":17,"t":1772438672468,"ts":2,"amount":9.25})",
        R"({"type":"purchase","account":17,"ts"1772438672468,"amount":9.25})",
        R"({"type":"purchase","account":17,ts":1772438672468,"amount":9.25})",
        R"({"type":"purchase","account":17,"ts":)",
        R"({"type":"purchase","account":17,"ts")",
        R"({"type":"purchase","account":17,"t)",
        R"({"type":"purchase","account":17,"ts":1772438672468,"amount":9.25,"amount":1})",
        R"({"type":"purchase","account":17,"ts":1772438672468,"amount":9.25,"account":3})",
        R"({"type":"purchase","account":17,"ts":1772438672468,"amount": 9.25})",
        R"({"type":"purchase","account":17,"ts":1772438672468,"amount":"9.25"})",
    };
    for (size_t i = 0; i < variants.size(); ++i) {
        ir::Event primed;
        ASSERT_TRUE(dec.decode(primer, 1, primed)) << dec.error().detail;
        const uint64_t flat_before = dec.flat_lines();
        ASSERT_NO_FATAL_FAILURE(expect_like_a_fresh_decoder(rs, dec, pool, fresh_pool, variants[i]));
        // The first five are flat objects the fused scan takes: the token's line, and lines where the
        // comparison fails and the member is read the slower way (whitespace, another name).
        if (i < 5) {
            EXPECT_EQ(dec.flat_lines(), flat_before + 1) << variants[i];
        }
    }
}
} // namespace
} // namespace ethogram::runtime
