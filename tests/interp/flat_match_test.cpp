// flat_match_test.cpp: flat partial matches (state.h PartialMatch): bound events in one array tagged with
// their steps, inline up to three and in one block beyond; references held exactly once per bound event;
// collected steps past the inline capacity read, emit and round-trip through a snapshot (state version 4)
// unchanged; version 3 snapshots are refused with both versions named.
#include "compiler/interp/state.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ethogram::interp::testing {
namespace {

using ir::Type;
using ir::Value;
using Seqs = std::vector<uint64_t>;

std::vector<const StoredEvent*> as_vector(StepEvents s) {
    return {s.begin(), s.end()};
}

TEST(FlatMatch, StepsAreRunsOfTheFlatArrayInlineAndInTheBlock) {
    std::vector<EventPtr> evs;
    for (int i = 0; i < 9; ++i) evs.push_back(EventPtr::make(1));
    PartialMatch m;
    // Steps 0, 2, 2, 2, 2, 2, 5, 5, 7: the fourth event moves the events to a heap block.
    const std::vector<uint32_t> tags = {0, 2, 2, 2, 2, 2, 5, 5, 7};
    for (size_t i = 0; i < tags.size(); ++i) {
        m.push(evs[i].get(), tags[i]);
        if (i + 1 <= PartialMatch::kInline)
            EXPECT_EQ(m.heap_bytes(), 0u);
        else
            EXPECT_GT(m.heap_bytes(), 0u);
    }
    ASSERT_EQ(m.size(), 9u);
    EXPECT_EQ(&m.first(), evs[0].get());
    EXPECT_EQ(&m.last(), evs[8].get());
    EXPECT_EQ(as_vector(m.step(0)), (std::vector<const StoredEvent*>{evs[0].get()}));
    EXPECT_EQ(as_vector(m.step(2)), (std::vector<const StoredEvent*>{evs[1].get(), evs[2].get(), evs[3].get(),
                                                                     evs[4].get(), evs[5].get()}));
    EXPECT_TRUE(m.step(1).empty()); // a step between bound steps
    EXPECT_EQ(m.step(5).size(), 2u);
    EXPECT_EQ(m.step(7).front(), evs[8].get());
    EXPECT_TRUE(m.step(8).empty());                          // past the last bound step
    for (const EventPtr& e : evs) EXPECT_EQ(e->ev.refs, 2u); // ours and the match's

    // A copy holds its own references; a move hands them over.
    PartialMatch copy = m;
    for (const EventPtr& e : evs) EXPECT_EQ(e->ev.refs, 3u);
    EXPECT_EQ(as_vector(copy.step(2)), as_vector(m.step(2)));
    PartialMatch moved = std::move(copy);
    for (const EventPtr& e : evs) EXPECT_EQ(e->ev.refs, 3u);
    EXPECT_EQ(moved.size(), 9u);
    EXPECT_EQ(copy.size(), 0u); // NOLINT(bugprone-use-after-move): a moved-from match is empty
    moved = PartialMatch();
    for (const EventPtr& e : evs) EXPECT_EQ(e->ev.refs, 2u);

    // Inline matches copy and move as well.
    PartialMatch small;
    small.push(evs[0].get(), 0);
    small.push(evs[1].get(), 1);
    PartialMatch small_copy = small;
    EXPECT_EQ(small_copy.heap_bytes(), 0u);
    EXPECT_EQ(small_copy.step(1).front(), evs[1].get());
    EXPECT_EQ(evs[0]->ev.refs, 4u);
    m = std::move(small_copy);
    EXPECT_EQ(evs[0]->ev.refs, 3u); // m's nine references went, small_copy's two came
    EXPECT_EQ(evs[8]->ev.refs, 1u);
}

// f: A{1,} -> b: B where count(f) >= 5; emits count(f), sum(f.v) and b.v.
struct KleeneRule {
    IrBuilder b;
    uint16_t A = b.event("A", {{"v", Type::Int}});
    uint16_t B = b.event("B", {{"v", Type::Int}});
    uint32_t rule = 0;
    KleeneRule() {
        const ir::ExprId enough = b.bin(ir::Op::Ge, b.step_agg(ir::AggKind::Count, 0), b.i(5));
        rule = b.pattern("fb", {pos("f", {A}, ir::kNoExpr, 1, ir::kUnbounded), pos("b", {B}, enough)});
        b.emit(rule, "n", b.step_agg(ir::AggKind::Count, 0));
        b.emit(rule, "s", b.step_agg(ir::AggKind::Sum, 0, b.fld(A, "v"), ir::kNoExpr, Type::Int));
        b.emit(rule, "bv", b.step_fld(1, B, "v"));
    }
};

TEST(FlatMatch, CollectedStepsPastTheInlineCapacityReadEmitAndRoundTrip) {
    KleeneRule k;
    Runner r(k.b.rs);
    Seqs as;
    for (int i = 0; i < 4; ++i) as.push_back(r.ev(k.A, "k", i * kSec, {Value::integer(i + 1)}));
    r.ev(k.B, "k", 4 * kSec, {Value::integer(-1)}); // count(f) = 4: no
    EXPECT_TRUE(r.sink.out.empty());
    for (int i = 4; i < 7; ++i) as.push_back(r.ev(k.A, "k", i * kSec + 500, {Value::integer(i + 1)}));

    // Mid-match (seven A events bound to one step): the state round-trips byte for byte.
    std::string snap;
    Runner fresh(k.b.rs);
    ASSERT_EQ(fresh.restore_from(r, snap), "");
    EXPECT_EQ(fresh.exec->stats().partial_matches, r.exec->stats().partial_matches);

    for (Runner* x : {&r, &fresh}) {
        x->ev_seq(k.B, "k", 10 * kSec, 100, {Value::integer(9)});
        ASSERT_EQ(x->sink.out.size(), 1u);
        const ir::Detection& d = x->sink.out[0];
        EXPECT_EQ(seqs(d, 0), as);
        EXPECT_EQ(seqs(d, 1), Seqs{100});
        ASSERT_EQ(d.fields.size(), 3u);
        EXPECT_EQ(d.fields[0].i, 7);
        EXPECT_EQ(d.fields[1].i, 28); // 1 + ... + 7
        EXPECT_EQ(d.fields[2].i, 9);
        EXPECT_EQ(d.first_time, 0);
        EXPECT_EQ(d.last_time, 10 * kSec);
    }
    EXPECT_EQ(r.sink.out[0].id, fresh.sink.out[0].id);
}

TEST(FlatMatch, Version3SnapshotsAreRefusedWithBothVersionsNamed) {
    KleeneRule k;
    Runner r(k.b.rs);
    r.ev(k.A, "k", 0, {Value::integer(1)});
    std::string snap;
    ASSERT_TRUE(r.exec->save_state(snap).ok());
    ASSERT_EQ(static_cast<uint8_t>(snap[0]), 4u); // the state version, little-endian
    std::string old = snap;
    old[0] = 3;
    Runner other(k.b.rs);
    Status st = other.exec->restore_state(old);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("format version 3 (this engine reads version 4)"), std::string::npos)
        << st.error();
    // Refused, not half-restored: the executor still takes the snapshot of its own version.
    EXPECT_TRUE(other.exec->restore_state(snap).ok());
}

TEST(FlatMatch, SnapshotsWithStepsOutOfOrderAreRefused) {
    KleeneRule k;
    Runner r(k.b.rs);
    r.ev(k.A, "k", 0, {Value::integer(1)});
    std::string snap;
    ASSERT_TRUE(r.exec->save_state(snap).ok());
    // The match's one event is tagged with step 0; as step 7 (past the rule's two steps) it is refused. The
    // match as saved: matches u64 1, pos u32 0, count u32 1, events u64 1, then tag u32 0 and the event's
    // table index u64 0 (the key's latest event, the table's first).
    auto le = [](uint64_t v, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
        return out;
    };
    const std::string match = le(1, 8) + le(0, 4) + le(1, 4) + le(1, 8) + le(0, 4) + le(0, 8);
    const size_t at = snap.find(match);
    ASSERT_NE(at, std::string::npos);
    std::string bad = snap;
    bad[at + 24] = 7;
    Runner other(k.b.rs);
    Status st = other.exec->restore_state(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("steps out of order"), std::string::npos) << st.error();
}

} // namespace
} // namespace ethogram::interp::testing
