// detection_build_test.cpp: detections built in recycled storage, and the fast id equal to its definition.
#include "compiler/interp/detection.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ethogram::interp::testing {
namespace {

using ir::AggKind;
using ir::Op;

/// Keeps a copy of every detection and leaves the original to the executor (so that its storage is
/// recycled), unlike CollectSink, which moves from it.
struct CopySink : ir::DetectionSink {
    std::vector<ir::Detection> out;
    void emit(ir::Detection&& d) override { out.push_back(d); }
    void suppressed(ir::Detection&& d) override { out.push_back(d); }
};

/// Every bound event's seq as 8 little-endian bytes, after the rule and key bytes: the id's definition.
uint64_t id_by_definition(std::string_view rule, std::string_view key, const ir::Detection& d) {
    std::vector<unsigned char> bytes(rule.begin(), rule.end());
    bytes.insert(bytes.end(), key.begin(), key.end());
    for (const ir::Binding& b : d.bindings)
        for (const ir::BoundEvent& e : b.events)
            for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<unsigned char>(e.seq >> (8 * i)));
    return fnv1a(bytes);
}

TEST(DetectionBuild, IdEqualsItsDefinitionForSeqsOfEveryWidth) {
    IrBuilder b;
    uint16_t A = b.event("A");
    uint16_t B = b.event("B");
    b.pattern("ab", {pos("a", {A}), pos("b", {B})});
    Runner r(b.rs);
    // Zero high bytes take the shortcut (one multiplication by a power of the prime); inner zero bytes,
    // full-width seqs and 0 must give the byte-wise value too.
    const std::vector<uint64_t> seqs{0,
                                     1,
                                     0xff,
                                     0x100,
                                     0x10000,
                                     0xffffffff,
                                     0x12345678,
                                     0x100000000,
                                     0x123456789a,
                                     0x0102030405060708,
                                     0xff00000000000000ULL,
                                     UINT64_MAX,
                                     0x8000000000000001ULL,
                                     0x00ff00ff00ff00ffULL};
    int64_t t = 0;
    for (size_t i = 0; i + 1 < seqs.size(); i += 2) {
        r.ev_seq(A, "user-7", t++, seqs[i]);
        r.ev_seq(B, "user-7", t++, seqs[i + 1]);
    }
    ASSERT_EQ(r.sink.out.size(), seqs.size() / 2);
    for (size_t i = 0; i < r.sink.out.size(); ++i) {
        const ir::Detection& d = r.sink.out[i];
        EXPECT_EQ(d.id, id_by_definition("ab", "user-7", d)) << i;
        EXPECT_EQ(d.id, detection_id("ab", "user-7", d.bindings)) << i;
        EXPECT_EQ(interp::testing::seqs(d, 0), std::vector<uint64_t>{seqs[2 * i]}) << i;
        EXPECT_EQ(interp::testing::seqs(d, 1), std::vector<uint64_t>{seqs[2 * i + 1]}) << i;
    }
}

/// A rule set whose detections differ in shape: a threshold rule (bindings trigger and scope, the scope up
/// to 8 events, an emit), a two-step pattern (bindings a and b) and a Kleene pattern (one binding, several
/// events), so that recycled storage of one shape is reused by another.
struct Shapes {
    IrBuilder b;
    uint16_t A = b.event("A");
    uint16_t B = b.event("B");
    uint32_t th = b.threshold("th", last_n(8, b.bin(Op::Ge, b.agg(AggKind::Count, {A}), b.i(3)), {A}));
    uint32_t ab = b.pattern("ab", {pos("a", {A}), pos("b", {B})});
    uint32_t many = b.pattern("many", {pos("f", {A}, ir::kNoExpr, 2, 4), pos("g", {B})});
    Shapes() { b.emit(th, "n", b.agg(AggKind::Count, {A})); }
};

/// Runs the shapes' script through `sink`.
void feed_shapes(const Shapes& s, ir::DetectionSink& sink) {
    ir::StringPool pool;
    ir::seed_string_pool(s.b.rs, pool);
    auto exec = make_interpreter(s.b.rs, pool, {});
    uint64_t seq = 0;
    // Bursts of A then a B, and a burst of A alone: the threshold re-arms when count(A) in the last 8
    // drops below 3.
    const char* script = "AAAAB"
                         "B"
                         "AAB"
                         "BBBBBBBB"
                         "AAAAAAB"
                         "BBBBBBBB"
                         "AB"
                         "AAAB";
    for (const char* key : {"k1", "k2"}) {
        for (int64_t t = 0; script[t]; ++t) {
            ir::Event e;
            e.type = script[t] == 'A' ? s.A : s.B;
            e.key = pool.intern(key);
            e.time = t * 1000;
            e.seq = ++seq;
            e.line = seq;
            e.fields = {ir::Value::string(e.key), ir::Value::timestamp(e.time)};
            exec->advance_watermark(e.time, sink);
            exec->on_event(e, sink);
        }
    }
    exec->advance_watermark(ir::kTimeInfinity, sink);
}

std::vector<ir::Detection> run_shapes(const Shapes& s, bool copy) {
    CopySink copies;
    CollectSink moves;
    feed_shapes(s, copy ? static_cast<ir::DetectionSink&>(copies) : moves);
    return copy ? copies.out : moves.out;
}

TEST(DetectionBuild, RecycledStorageBuildsTheSameDetections) {
    Shapes s;
    const std::vector<ir::Detection> fresh = run_shapes(s, false); // the sink moves: nothing recycled
    const std::vector<ir::Detection> reused = run_shapes(s, true); // the sink copies: storage recycled
    ASSERT_EQ(fresh.size(), reused.size());
    bool th = false, ab = false, many = false;
    for (size_t i = 0; i < fresh.size(); ++i) {
        const ir::Detection& f = fresh[i];
        const ir::Detection& r = reused[i];
        th = th || f.rule == s.th;
        ab = ab || f.rule == s.ab;
        many = many || f.rule == s.many;
        EXPECT_EQ(f.rule, r.rule) << i;
        EXPECT_EQ(f.id, r.id) << i;
        EXPECT_EQ(f.time, r.time) << i;
        EXPECT_EQ(f.first_time, r.first_time) << i;
        EXPECT_EQ(f.last_time, r.last_time) << i;
        EXPECT_EQ(f.trigger, r.trigger) << i;
        ASSERT_EQ(f.bindings.size(), r.bindings.size()) << i;
        for (size_t k = 0; k < f.bindings.size(); ++k) {
            EXPECT_EQ(f.bindings[k].alias, r.bindings[k].alias) << i;
            EXPECT_EQ(f.bindings[k].step, r.bindings[k].step) << i;
            EXPECT_EQ(seqs(f, k), seqs(r, k)) << i;
        }
        ASSERT_EQ(f.fields.size(), r.fields.size()) << i;
        for (size_t k = 0; k < f.fields.size(); ++k) EXPECT_EQ(f.fields[k].i, r.fields[k].i) << i;
        EXPECT_EQ(f.fields.size(), f.rule == s.th ? 1u : 0u) << i;
    }
    EXPECT_TRUE(th && ab && many); // every shape was built, after others
}

/// Copies every detection, then scribbles on the record it was handed (strings, bindings, fields, models,
/// suppressed_by), which the executor reuses for the rule's next detection: nothing of it may leak there.
struct ScribbleSink : ir::DetectionSink {
    std::vector<ir::Detection> out;
    static void scribble(ir::Detection& d) {
        d.trigger = "scribbled over the small-string size";
        d.decision = "fallback";
        if (!d.bindings.empty()) {
            d.bindings[0].alias = "zz";
            d.bindings[0].events.push_back({});
        }
        d.fields.push_back(ir::Value::integer(7));
        d.models.emplace_back();
        d.suppressed_by = 12345;
        d.confidence = -1;
    }
    void emit(ir::Detection&& d) override {
        out.push_back(d);
        scribble(d);
    }
    void suppressed(ir::Detection&& d) override {
        out.push_back(d);
        scribble(d);
    }
};

TEST(DetectionBuild, AReusedRecordKeepsNothingOfWhatTheSinkDidToIt) {
    Shapes s;
    const std::vector<ir::Detection> fresh = run_shapes(s, false);
    ScribbleSink sink;
    feed_shapes(s, sink);
    ASSERT_EQ(fresh.size(), sink.out.size());
    for (size_t i = 0; i < fresh.size(); ++i) {
        const ir::Detection& f = fresh[i];
        const ir::Detection& r = sink.out[i];
        EXPECT_EQ(f.rule, r.rule) << i;
        EXPECT_EQ(f.id, r.id) << i;
        EXPECT_EQ(f.trigger, r.trigger) << i;
        EXPECT_EQ(f.decision, r.decision) << i;
        EXPECT_EQ(f.suppressed_by, r.suppressed_by) << i;
        EXPECT_EQ(f.confidence, r.confidence) << i;
        EXPECT_EQ(f.models.size(), r.models.size()) << i;
        ASSERT_EQ(f.bindings.size(), r.bindings.size()) << i;
        for (size_t k = 0; k < f.bindings.size(); ++k) {
            EXPECT_EQ(f.bindings[k].alias, r.bindings[k].alias) << i;
            EXPECT_EQ(seqs(f, k), seqs(r, k)) << i;
        }
        ASSERT_EQ(f.fields.size(), r.fields.size()) << i;
        for (size_t k = 0; k < f.fields.size(); ++k) EXPECT_EQ(f.fields[k].i, r.fields[k].i) << i;
    }
}

TEST(DetectionBuild, AReusedRecordOfASuppressedDetectionWinsWithoutSuppressedBy) {
    // `low` fires with `high` on k1's A (and loses the group), then alone on k2's B, in the same record.
    IrBuilder b;
    uint16_t A = b.event("A");
    uint16_t B = b.event("B");
    ir::ExprId one_a = b.bin(Op::Eq, b.agg(AggKind::Count, {A}), b.i(1));
    ir::ExprId one_b = b.bin(Op::Eq, b.agg(AggKind::Count, {B}), b.i(1));
    uint32_t low = b.threshold("low", last_n(5, b.bin(Op::Or, one_a, one_b)));
    uint32_t high = b.threshold("high", last_n(5, one_a));
    b.group("g", {{low, 1}, {high, 2}});
    ir::StringPool pool;
    ir::seed_string_pool(b.rs, pool);
    auto exec = make_interpreter(b.rs, pool, {});
    CopySink sink;
    uint64_t seq = 0;
    for (auto [type, key] : {std::pair{A, "k1"}, std::pair{B, "k2"}}) {
        ir::Event e;
        e.type = type;
        e.key = pool.intern(key);
        e.time = static_cast<int64_t>(seq) * 1000;
        e.seq = ++seq;
        e.line = seq;
        e.fields = {ir::Value::string(e.key), ir::Value::timestamp(e.time)};
        exec->advance_watermark(e.time, sink);
        exec->on_event(e, sink);
    }
    ASSERT_EQ(sink.out.size(), 3u);
    EXPECT_EQ(sink.out[0].rule, low);
    EXPECT_EQ(sink.out[0].suppressed_by, static_cast<int32_t>(high));
    EXPECT_EQ(sink.out[1].rule, high);
    EXPECT_EQ(sink.out[2].rule, low);
    EXPECT_EQ(sink.out[2].suppressed_by, -1);
}

} // namespace
} // namespace ethogram::interp::testing
