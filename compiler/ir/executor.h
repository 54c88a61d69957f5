// executor.h: the interface every executor of the IR implements (interpreter, JIT) and the detection
// record it produces.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "support/expected.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::ir {

/// An event bound into a detection (its explanation).
struct BoundEvent {
    uint64_t seq = 0;
    uint64_t line = 0;
    int64_t time = 0;
    uint32_t id = kNoString; ///< event id (StringPool), if the schema has one
    uint16_t type = 0;
};

/// The events bound to one alias. Pattern rules: one per positive step, `step` = its index. Threshold
/// rules: alias "trigger" (the evaluated event) and "scope" (events in the scope, oldest first).
struct Binding {
    std::string alias;
    uint32_t step = UINT32_MAX; ///< pattern step index, UINT32_MAX for threshold bindings
    std::vector<BoundEvent> events;
};

/// One model's scores for the detection's key when it fired (the explanation of a model decision).
struct ModelScore {
    uint32_t model = 0; ///< index into RuleSet::models
    uint64_t evidence = 0;
    bool confident = false;                                     ///< evidence >= min_evidence
    double surprise = std::numeric_limits<double>::quiet_NaN(); ///< NaN before any observed event
    double loglik = std::numeric_limits<double>::quiet_NaN();
};

struct Detection {
    uint32_t rule = 0;
    uint32_t key = kNoString; ///< StringPool id
    int64_t time = 0;         ///< detection time (event time of the trigger, or the timer's deadline)
    int64_t first_time = 0;   ///< first matched event's time
    int64_t last_time = 0;    ///< last matched event's time
    double confidence = 1.0;
    std::vector<Binding> bindings;
    std::vector<Value> fields;  ///< one per Rule::emits, in order
    uint64_t id = 0;            ///< deterministic: hash of rule, key and matched event seqs
    int32_t suppressed_by = -1; ///< rule index of the winning detection, for suppressed ones
    std::string trigger;        ///< what fired it: "event", "absence", "session_end"
    /// Rules that call models in their decision (Rule::gate): "model" when every gated model had its
    /// minimum evidence, "fallback" when the `fallback when` condition decided; empty for other rules.
    std::string decision;
    std::vector<ModelScore> models; ///< per Rule::models, in order
};

/// Receives what an executor produces. Suppressed detections (exclusive groups) go to `suppressed`.
class DetectionSink {
public:
    virtual ~DetectionSink() = default;
    virtual void emit(Detection&& d) = 0;
    virtual void suppressed(Detection&& d) = 0;
};

struct ExecutorOptions {
    uint32_t max_partial_matches = 1000; ///< per key and rule; overflow drops the oldest
    uint32_t max_scope_events = 100000;  ///< per key and scope; overflow drops the oldest
    /// Evict keys idle past the rule set's longest time bound whose state is indistinguishable from a
    /// fresh key's (by the watermark, never by wall time): output is the same either way.
    bool evict_idle_keys = true;
    /// Budget for the approximate bytes of per-key state (0 = none). Over it, whole keys are dropped,
    /// least recently active first (counted in ExecutorStats::budget_drops): output may then differ.
    uint64_t max_state_bytes = 0;
};

struct ExecutorStats {
    uint64_t events = 0;
    uint64_t live_keys = 0;
    uint64_t partial_matches = 0; ///< currently live
    uint64_t overflow_drops = 0;  ///< partial matches or scope events dropped by the caps
    uint64_t detections = 0;
    uint64_t suppressed = 0;
    uint64_t evictions = 0;        ///< idle keys evicted (no effect on output)
    uint64_t state_bytes = 0;      ///< approximate bytes of per-key state now (0 when not accounted)
    uint64_t peak_state_bytes = 0; ///< its largest value under a budget (without one: the current value)
    uint64_t budget_drops = 0;     ///< keys whose state was dropped to stay under max_state_bytes
};

/// What a state transfer (Executor::take_state) carried into the new executor and what it started fresh.
struct StateTransfer {
    std::vector<std::string> carried_rules; ///< rule names whose per-key state was carried
    std::vector<std::string> fresh_rules;   ///< rules of the new set that start fresh (new or changed)
    uint32_t carried_sessions = 0, carried_models = 0;
    uint64_t keys = 0;            ///< keys with carried state
    uint64_t partial_matches = 0; ///< carried partial matches
    uint64_t timers = 0;          ///< pending timers carried (they still fire)
    std::string error;            ///< why the transfer did not happen (then nothing was moved)
};

/// Runs one compiled rule set. Contract with the caller (the runtime):
///  - events arrive in non-decreasing `time`, ties in increasing `seq`, all already validated;
///  - before each event the caller calls `advance_watermark(e.time)`;
///  - at end of input the caller calls `advance_watermark(kTimeInfinity)`.
/// `advance_watermark(w)` fires every timer (absence, session gap or maximum length, pattern window)
/// whose deadline is strictly less than `w`, in deadline order (ties: key id, then rule index).
class Executor {
public:
    virtual ~Executor() = default;
    virtual void on_event(const Event& e, DetectionSink& sink) = 0;
    virtual void advance_watermark(int64_t wm, DetectionSink& sink) = 0;
    virtual ExecutorStats stats() const = 0;
    /// Checkpoints (docs/architecture.md, "Checkpoints and recovery"): appends every bit of the executor's
    /// state (per-key state, timers, statistics) to `out` as an opaque, versioned byte string. String ids
    /// in it refer to the executor's StringPool, which the caller saves alongside. Default: not supported.
    virtual Status save_state(std::string& out) const {
        (void)out;
        return Error{"this executor cannot save its state"};
    }
    /// Replaces the state of a freshly created executor (same rule set, same options, a pool restored to
    /// the same ids) with what save_state() wrote; an error says why the bytes were refused.
    virtual Status restore_state(std::string_view in) {
        (void)in;
        return Error{"this executor cannot restore a state"};
    }

    /// Hot swap (docs/governance.md, "Hot deployment"): moves into this fresh executor (no event seen yet)
    /// the per-key state of every rule of `from`'s rule set that is unchanged in this one, plus the
    /// cumulative statistics; the other rules start fresh. Both executors must share one StringPool (the
    /// new rule set bound to it with runtime::bind_strings). `from` is left unusable on success. The
    /// default does not support it: returns false with `out.error` set, moving nothing.
    virtual bool take_state(Executor& from, StateTransfer& out) {
        (void)from;
        out.error = "this executor cannot take over another executor's state";
        return false;
    }
    /// The executor that holds the state (a wrapper such as the JIT's returns the one it wraps).
    virtual Executor* state_holder() { return this; }
};

} // namespace ethogram::ir
