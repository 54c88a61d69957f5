// engine.h: what the interpreter's parts (sessions, thresholds, patterns) share: the rule set, the
// evaluator, the timer queue, statistics and tables precomputed from the rule set. Internal header.
#pragma once

#include "compiler/interp/coverage.h"
#include "compiler/interp/expr_eval.h"
#include "compiler/interp/models_eval.h"
#include "compiler/interp/state.h"
#include "compiler/ir/executor.h"

#include <cstdint>
#include <queue>
#include <vector>

namespace ethogram::interp {

/// A timer entry, 16 bytes. Slots order the timers of one key at one deadline: sessions first (slot =
/// session index), then pattern rules (slot = sessions + rule index). Entries are invalidated lazily: an
/// entry is live only while its owner is waiting for a timer at exactly its deadline
/// (SessionState::timer_at of an open session, PatternState::timer_deadline while scheduled). Two entries
/// of one owner at one deadline are indistinguishable: whichever is popped first acts (what a timer does
/// depends only on its deadline and its owner's state), and the owner then waits for another deadline or
/// none, so the other is a no-op. (A 64-bit generation per entry made them 24 bytes.)
struct Timer {
    int64_t deadline = 0;
    uint32_t key = ir::kNoString;
    uint32_t slot = 0;
    bool operator>(const Timer& o) const {
        if (deadline != o.deadline) return deadline > o.deadline;
        if (key != o.key) return key > o.key;
        return slot > o.slot;
    }
};

static_assert(sizeof(Timer) == 16, "a timer entry is 16 bytes");

using TimerQueue = std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>>;

/// Per pattern rule: where its positive steps are.
struct PatternInfo {
    std::vector<uint32_t> positives; ///< pattern step indices of the positive steps, in order
    int32_t absence = -1;            ///< step index of the trailing absence, -1 when none
    /// Per event type: whether an event of that type can change the rule's state (some step lists the
    /// type). Empty when every type can: a step without types, or a strict step (`=>` kills a match on
    /// any event).
    std::vector<bool> touches;
};

/// The interpreter's shared, non-per-key state.
struct Engine {
    Engine(const ir::RuleSet& r, ir::StringPool& p, const ir::ExecutorOptions& o);

    const ir::RuleSet& rs;
    ir::StringPool& pool;
    ir::ExecutorOptions opts;
    ExprEvaluator eval;
    TimerQueue timers;
    ir::ExecutorStats stats;
    std::vector<bool> overflow_warned;                    ///< per rule: the overflow warning was logged
    std::vector<bool> session_keeps_events;               ///< per session: some rule scopes over it
    std::vector<std::vector<uint32_t>> session_end_rules; ///< per session: `at session end` rules
    std::vector<PatternInfo> patterns;                    ///< per rule (empty for threshold rules)
    /// The rules KeyState::thresholds (patterns) covers: from the first to the last rule of that kind.
    uint32_t threshold_first = 0, threshold_count = 0, pattern_first = 0, pattern_count = 0;
    /// Per event type, the pattern rules an event of that type can concern (PatternInfo::touches), in
    /// rule order; the last entry (index rs.events.size()) for a type outside the schema. Saves walking
    /// every rule (and loading its per-key state) per event.
    std::vector<std::vector<uint32_t>> pattern_rules_by_type;
    std::vector<uint32_t> threshold_rules; ///< the threshold rules, in rule order
    ModelRuntime models;                   ///< the declared models, decoded once
    /// Compiled code (compiler/jit), or null. With a dispatch function for the event's type, the step
    /// tests of the event being processed are computed once into `step_bits` (`bits_event` names it).
    const NativeHooks* native = nullptr;
    std::vector<uint64_t> step_bits;
    const StoredEvent* bits_event = nullptr;
    Coverage* cov = nullptr; ///< optional counters (etho test --coverage); null: no counting

    uint32_t pattern_slot(uint32_t rule) const { return static_cast<uint32_t>(rs.sessions.size()) + rule; }
    /// Pushes a timer entry (its owner records `deadline` as the one it waits for).
    void schedule(int64_t deadline, uint32_t key, uint32_t slot);
};

/// Appends `e` to a capped buffer, dropping (and counting) the oldest when full.
void push_capped(EventBuffer& buf, const EventPtr& e, uint32_t cap, ir::ExecutorStats& stats);

/// True when `types` is empty or holds `t`.
bool type_in(const std::vector<uint16_t>& types, uint16_t t);

} // namespace ethogram::interp
