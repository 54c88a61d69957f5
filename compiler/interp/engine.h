// engine.h: what the interpreter's parts (sessions, thresholds, patterns) share: the rule set, the
// evaluator, the timer queue, statistics and tables precomputed from the rule set. Internal header.
#pragma once

#include "compiler/interp/aggregates.h"
#include "compiler/interp/coverage.h"
#include "compiler/interp/expr_eval.h"
#include "compiler/interp/models_eval.h"
#include "compiler/interp/state.h"
#include "compiler/interp/timer_queue.h"
#include "compiler/ir/executor.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

namespace ethogram::interp {

/// Per pattern rule: where its positive steps are, and what a visit of the rule reads of it (pattern.cpp's
/// PatternRun), gathered at setup so that a visit loads neither the rule nor its pattern.
/// The detections of one event, or of one timer deadline of one key, in production order: pointers to
/// the engine's per-rule detection storage (Engine::spare), handed to the sink by resolve_batch.
using DetectionBatch = std::vector<ir::Detection*>;

struct PatternInfo {
    std::vector<uint32_t> positives; ///< pattern step indices of the positive steps, in order
    int32_t absence = -1;            ///< step index of the trailing absence, -1 when none
    uint32_t rule = 0;               ///< the rule's index in RuleSet::rules
    uint32_t timer_slot = 0;         ///< Engine::pattern_slot(rule): its timer entries' slot
    const ir::Step* steps = nullptr; ///< the rule's pattern steps (RuleSet::rules[rule].pattern.steps)
    int64_t within_us = -1;          ///< the pattern's `within`, -1 when unbounded
    bool keep_all = false;           ///< ir::Rule::keep_all (no consumption)
    /// NativeHooks::step_bit of the rule (per step: its bit in Engine::step_bits, or kNoBit), null without
    /// compiled code (set by Engine::use_native).
    const uint32_t* step_bit = nullptr;
    /// Per event type: whether an event of that type can change the rule's state (some step lists the
    /// type). Empty when every type can: a step without types, or a strict step (`=>` kills a match on
    /// any event).
    std::vector<bool> touches;
    /// Per event type: an event of that type can start a match and change no live one (only the first
    /// positive step lists the type, that step binds one event, no step is strict or untyped): a live
    /// match is at a later step, or at the first holding its one event, or waiting out the absence, and
    /// no other step can take, kill or extend it. PatternRun::on_event then skips the walk over the live
    /// matches. Empty when no type qualifies.
    std::vector<bool> only_starts;
};

/// One pattern rule an event of some type walks (Engine::pattern_rules_by_type): what patterns_on_event
/// needs to skip it without loading the rule, its steps or PatternInfo.
struct PatternVisit {
    const PatternInfo* info = nullptr; ///< Engine::patterns[rule] (the Engine is never moved)
    uint32_t rule = 0;
    uint32_t slot = 0; ///< rule - Engine::pattern_first: its index from the start of KeyState::patterns
    /// The first positive step's native bit (NativeHooks::step_bit, set by Engine::use_native), kNoBit
    /// when none (or no first step, or no compiled code).
    uint32_t first_bit = kNoBit;
    bool first_takes = false; ///< the first positive step lists the type (or any type); false without one
    bool only_starts = false; ///< PatternInfo::only_starts of the type
};

/// Threshold rules whose Window / LastN scopes are the same (kind, window or N; the cap is the executor's)
/// see the same events: they share one scope ring per key, pushed and pruned once per event, held by the
/// group's first rule (`leader`: KeyState::thresholds[leader].scope; the other members' rings stay empty).
struct ScopeGroup {
    uint32_t leader = 0;  ///< the rule whose ThresholdState holds the ring
    uint32_t members = 0; ///< rules sharing it (overflow drops count once per member, as before sharing)
    ir::ScopeKind kind = ir::ScopeKind::Window;
    int64_t window_us = 0;
    uint64_t last_n = 0;
    /// Aggregates whose value over the ring is kept as it goes, in the ring's words (Ring::words): those
    /// whose element test (types, filter) and value read only the element itself, so that an event's part
    /// is the same when it enters the ring and when it leaves. Each is the rescan's value, bit for bit: a
    /// count is exact in any order, and so is a float sum, kept as its exact partials (exact_sum.h
    /// kept_sum), and an avg (that sum and the number of values): an element's value is added when it
    /// enters and taken out when it leaves. A sum that
    /// needs more partials than the words hold, or a value that is not finite, marks it stale (the next
    /// evaluation rescans and keeps the result when it fits).
    struct Kept {
        uint32_t agg = 0;  ///< the first aggregate of those alike (kind, types, filter, value, type)
        uint32_t word = 0; ///< Count: the count; Sum: kept_sum::kWords words, Avg: kAvgWords (exact_sum.h)
    };
    std::vector<Kept> kept;
    uint32_t words = 0; ///< words of the ring (a holder's: those of its whole family, see below)
    uint32_t slot = 0;  ///< leader - Engine::threshold_first: the ring holder's index in KeyState::thresholds
    /// An entry of `kept` as the ring's push and pop read it (so that they load neither the entry's
    /// aggregate nor the rule set).
    struct KeepStep {
        uint32_t word = 0;
        ir::ExprId filter = ir::kNoExpr;
        ir::ExprId value = ir::kNoExpr; ///< a float sum's or avg's value; kNoExpr for a count
        bool count = false;
        bool avg = false;      ///< an avg: its sum's words, then the number of values (kept_sum::kAvgWords)
        bool avg_time = false; ///< an avg of durations or timestamps (a value of another kind: stale)
        /// The filter's compiled test and the value's compiled function (null: the evaluator decides), set
        /// with the steps and by use_native, so that keep() calls them without looking them up.
        NativeTestFn filter_fn = nullptr;
        NativeExprFn value_fn = nullptr;
    };
    /// The KeepSteps an event can be an element of, by its type: those of type t are
    /// keep_steps[keep_from[t] .. keep_from[t + 1]) (the last type: one outside the schema).
    std::vector<KeepStep> keep_steps;
    std::vector<uint32_t> keep_from;
    /// Bit t (t < 63): events of type t have KeepSteps; bit 63: some type from 63 on has. A push or pop
    /// of an event no kept aggregate counts (most of them) tests one bit.
    uint64_t keep_types = 0;
    /// Bit t (t < 63), within keep_types: every KeepStep of type t is a count without filter, so a push or
    /// pop adds to its words inline (keep_if) rather than through keep() and an evaluation context.
    uint64_t keep_plain = 0;
    /// Nested windows: the Window groups of one origin (see group_scopes) keep one ring, the widest
    /// group's, since each narrower window holds a suffix of the same events (every event of the key
    /// enters every scope, and a narrower window prunes at least as far). `holder` is the group whose
    /// ring holds this group's events (its own index when it holds one); a nested group (a view) is the
    /// holder ring's last `size` elements, `size` in the holder ring's word `size_word`. Kept words of
    /// every group of a family are in the holder ring's words (`words` counts them all on the holder).
    uint32_t holder = 0;
    uint32_t size_word = 0;
    std::vector<uint32_t> views; ///< a holder's nested groups (indices into Engine::scope_groups)
    /// What the per-event update does with the group (one byte to test there).
    enum class Role : uint8_t { Ring, Holder, View };
    Role role = Role::Ring;
    bool nested() const { return role == Role::Holder; }
    /// A holder's: its own KeepSteps and those of all its views, by type, as keep_steps / keep_from /
    /// keep_types (an event enters the whole family: one keep call for them all).
    std::vector<KeepStep> view_steps;
    std::vector<uint32_t> view_from;
    uint64_t view_types = 0;
};

/// The interpreter's shared, non-per-key state.
struct Engine {
    Engine(const ir::RuleSet& r, ir::StringPool& p, const ir::ExecutorOptions& o);
    Engine(const Engine&) = delete; // ring_groups points into scope_groups
    Engine& operator=(const Engine&) = delete;

    const ir::RuleSet& rs;
    ir::StringPool& pool;
    ir::ExecutorOptions opts;
    ExprEvaluator eval;
    TimerQueue timers;
    ir::ExecutorStats stats;
    std::vector<bool> overflow_warned;                    ///< per rule: the overflow warning was logged
    std::vector<bool> session_keeps_events;               ///< per session: some rule scopes over it
    std::vector<std::vector<uint32_t>> session_end_rules; ///< per session: `at session end` rules
    /// Per event type, the sessions an event of that type can join or end (a member type, an `end on`
    /// type, or a session without `events`), in session order; the last entry for a type outside the
    /// schema.
    /// One session an event type can join or end, with what sessions_on_event asks of the type, so that it
    /// reads neither the session's types nor its ends for an event that cannot end it.
    struct SessionVisit {
        uint32_t session = 0;
        bool joins = false;       ///< the type is a member type (or the session has no `events`)
        bool ends = false;        ///< some `end on` of the session names the type (its predicate decides)
        bool ends_always = false; ///< some `end on` names the type without a predicate: no evaluation
        bool stores = false;      ///< session_keeps_events: a rule scopes over the session
    };
    std::vector<std::vector<SessionVisit>> sessions_by_type;
    std::vector<PatternInfo> patterns; ///< per rule (empty for threshold rules)
    /// The rules KeyState::thresholds (patterns) covers: from the first to the last rule of that kind.
    uint32_t threshold_first = 0, threshold_count = 0, pattern_first = 0, pattern_count = 0;
    /// Per event type, the pattern rules an event of that type can concern (PatternInfo::touches), in
    /// rule order; the last entry (index rs.events.size()) for a type outside the schema. Saves walking
    /// every rule (and loading its per-key state) per event; each entry carries the per-type facts that
    /// decide whether the rule can act (PatternVisit).
    std::vector<std::vector<PatternVisit>> pattern_rules_by_type;
    std::vector<uint32_t> threshold_rules; ///< the threshold rules, in rule order
    /// Per event type, the threshold rules an event of that type is evaluated by (not `at session end`,
    /// the type in `on`), in rule order; the last entry for a type outside the schema.
    std::vector<std::vector<uint32_t>> threshold_rules_by_type;
    static constexpr uint32_t kNoRing = UINT32_MAX;
    static constexpr uint32_t kNoView = UINT32_MAX;
    /// One visit of a per-event threshold rule: what thresholds_on_event reads per rule, gathered so that
    /// a visit loads neither the rule nor its group (about 100 instructions of set-up per rule before).
    struct ThresholdVisit {
        uint32_t rule = 0;
        uint32_t slot = 0;       ///< rule - threshold_first: its state's index in KeyState::thresholds
        uint32_t ring = kNoRing; ///< slot of the rule holding its shared scope ring, kNoRing for none
        /// A nested group's size word in that ring (ScopeGroup::size_word), kNoView when the rule's scope
        /// is the whole ring.
        uint32_t view = kNoView;
        ir::ExprId cond = ir::kNoExpr;
        /// The condition's compiled test (NativeHooks::tests), null without one (set by use_native).
        NativeTestFn test = nullptr;
        uint32_t session = kNoSession; ///< the session it scopes over, kNoSession when none
        bool gated = false;            ///< a model gate (decide() then reads the rule)
    };
    static constexpr uint32_t kNoSession = UINT32_MAX;
    /// threshold_rules_by_type as visits (rebuilt by group_scopes: `ring` depends on the groups).
    std::vector<std::vector<ThresholdVisit>> threshold_visits_by_type;
    std::vector<ScopeGroup> scope_groups; ///< shared Window / LastN scopes, by first member
    /// The groups that hold a ring (ScopeGroup::holder == itself), in group order: what the per-event
    /// update walks (pointers into scope_groups, which group_scopes does not change afterwards).
    std::vector<const ScopeGroup*> ring_groups;
    std::vector<uint32_t> scope_group; ///< per rule: its index in scope_groups, kNoGroup when none
    static constexpr uint32_t kNoGroup = UINT32_MAX;
    /// Per aggregate: its first word in its group's ring (ScopeGroup::kept), kNoWord when it is rescanned.
    std::vector<uint32_t> agg_word;
    ModelRuntime models; ///< the declared models, decoded once
    /// Compiled code (compiler/jit), or null. With a dispatch function for the event's type, the step
    /// tests of the event being processed are computed once into `step_bits` (`bits_event` names it).
    const NativeHooks* native = nullptr;
    /// Sets `native`, the first-step bits of pattern_rules_by_type (PatternVisit::first_bit) and the
    /// conditions' compiled tests of threshold_visits_by_type (ThresholdVisit::test).
    void use_native(const NativeHooks* nh);
    /// The compiled test of predicate `cond`, null without one.
    NativeTestFn native_test(ir::ExprId cond) const;
    /// The compiled function of expression `id`, null without one.
    NativeExprFn native_expr(ir::ExprId id) const;
    std::vector<uint64_t> step_bits;
    const StoredEvent* bits_event = nullptr;
    Coverage* cov = nullptr; ///< optional counters (etho test --coverage); null: no counting
    /// Scratch for the matches a pattern rule completes on one event or timer (pattern.cpp): reused, so
    /// that a completion allocates no vector.
    std::vector<PartialMatch> pattern_done;
    /// Detections (detection.cpp): per rule, the FNV-1a state after its name (the id's first bytes), and
    /// the rule's detection records, built in place by new_detection and reused whole once the sink is done
    /// with them (resolve_batch), so that a detection neither constructs nor destroys a record, nor
    /// allocates, in the steady state; `used` of them are in the current batch (at most the rule's
    /// detections in one batch, so a handful); scratch of resolve_batch.
    std::vector<uint64_t> id_seed;
    struct SpareDetections {
        std::vector<std::unique_ptr<ir::Detection>> dets; ///< stable addresses: the batch points at them
        uint32_t used = 0;
    };
    std::vector<SpareDetections> spare;
    std::vector<int64_t> group_winner;
    std::vector<int32_t> group_winner_rule;

    /// Groups the Window / LastN threshold rules by scope. `origin` (per rule, or null) splits groups
    /// further: only rules of equal origin share (a hot swap keeps carried and fresh rings apart).
    void group_scopes(const std::vector<int64_t>* origin);
    /// Copies the events of each nested group of `ks` (the suffix of its holder's ring) into the ring of
    /// the group's leader, which is otherwise empty, so that scope_ring() then returns every group's
    /// events (a hot swap moves rings by group). The holder rings' words are left as they are.
    void unnest(KeyState& ks) const;
    /// The scope ring of Window / LastN threshold rule `rule` (its group's, held by the leader; for a
    /// nested group, empty unless unnest() filled it).
    EventBuffer& scope_ring(KeyState& ks, uint32_t rule) const {
        return ks.thresholds[scope_groups[scope_group[rule]].leader].scope;
    }
    const EventBuffer& scope_ring(const KeyState& ks, uint32_t rule) const {
        return ks.thresholds[scope_groups[scope_group[rule]].leader].scope;
    }
    /// Whether `rule` holds its group's ring (a Window / LastN threshold rule that leads its group).
    bool holds_ring(uint32_t rule) const {
        return rule < scope_group.size() && scope_group[rule] != kNoGroup &&
               scope_groups[scope_group[rule]].leader == rule;
    }

    uint32_t pattern_slot(uint32_t rule) const { return static_cast<uint32_t>(rs.sessions.size()) + rule; }
    /// Pushes a timer entry (its owner records `deadline` as the one it waits for). Inline: the queue's
    /// common push is an append (TimerQueue::push).
    void schedule(int64_t deadline, uint32_t key, uint32_t slot) { timers.push(Timer{deadline, key, slot}); }
};

/// Makes room for one more event in a buffer capped at `cap`: while it is full, drops (and counts) its
/// oldest through `pop` (which removes the buffer's front). False when the cap is 0: the event itself is
/// dropped, and counted.
template <class Pop>
bool make_room(const EventBuffer& buf, uint32_t cap, ir::ExecutorStats& stats, Pop&& pop) {
    if (cap == 0) {
        ++stats.overflow_drops;
        return false;
    }
    while (buf.size() >= cap) {
        pop();
        ++stats.overflow_drops;
    }
    return true;
}

/// Appends `e` to a capped buffer, dropping (and counting) the oldest when full.
inline void push_capped(EventBuffer& buf, const EventPtr& e, uint32_t cap, ir::ExecutorStats& stats) {
    if (make_room(buf, cap, stats, [&] { buf.pop_front(); })) buf.push_back(e);
}
/// push_capped for a session's events (allocated with their owner word): a dropped event leaves the
/// session's folds first.
inline void push_capped(SessionEvents& buf, const EventPtr& e, uint32_t cap, ir::ExecutorStats& stats,
                        ExprEvaluator& eval) {
    if (make_room(buf, cap, stats, [&] {
            if (buf.existing_folds()) fold_out_front(eval, buf);
            buf.pop_front();
        }))
        buf.push(e);
}

/// True when `types` is empty or holds `t`. Inline: every event tests the types of sessions and steps.
inline bool type_in(const std::vector<uint16_t>& types, uint16_t t) {
    if (types.empty()) return true;
    for (uint16_t x : types)
        if (x == t) return true;
    return false;
}

} // namespace ethogram::interp
