// adversarial_workload.h: the bounded-state adversaries of issue 4 (one key whose events each start partial
// matches; a stream of distinct keys) run through the interpreter under a state budget, with the figures
// that show the budget holds: accounted bytes after every event, drops, the warning. Shared by the
// `adversarial_state` benchmark and tests/adversarial.
#pragma once

#include "support/expected.h"

#include <cstdint>
#include <string>

namespace ethogram::bench {

struct AdversarialOptions {
    uint64_t events = 200000;
    /// Events go to keys round-robin: 1 = one hot key; `events` = every event a new key.
    uint64_t keys = 1;
    uint64_t max_state_bytes = 0;        ///< the budget (0 = none: the unbounded baseline)
    uint32_t max_partial_matches = 1000; ///< per key and rule
    uint32_t max_scope_events = 100000;  ///< per key and scope
    int64_t step_us = 10000;             ///< event time step (10 ms)
};

struct AdversarialReport {
    uint64_t events = 0;
    uint64_t keys = 0;
    uint64_t budget = 0;
    uint64_t peak_accounted = 0; ///< the largest accounted state after an event (what the budget bounds)
    uint64_t peak_transient = 0; ///< ExecutorStats::peak_state_bytes: within an event, before enforcement
    uint64_t over_budget = 0;    ///< events after which the accounted state exceeded the budget
    uint64_t final_bytes = 0;
    uint64_t live_keys = 0;
    uint64_t partial_matches = 0; ///< live at the end
    uint64_t overflow_drops = 0;
    uint64_t budget_drops = 0;
    uint64_t evictions = 0;
    uint64_t detections = 0;
    uint64_t budget_warnings = 0; ///< "state budget ... exceeded" warnings logged (expected: 0 or 1)
    std::string first_warning;
    double seconds = 0;          ///< wall time of the event loop
    uint64_t rss_peak_bytes = 0; ///< the process's VmHWM at the end
};

/// The rule set the adversaries run: an open-ended pattern (every A starts a partial match that only a B
/// completes, and B never comes), a windowed one, a `last 10m` threshold holding every A in scope, and a
/// session per key (the threshold triggers on B, which never comes: its window holds the A events without
/// re-aggregating them on every event, which would only slow the adversary down).
const char* adversarial_rules();

/// Compiles adversarial_rules() and feeds `o.events` A events (x = 0, 1, 2, ...) through the interpreter,
/// checking the accounted state after every event. Budget warnings are counted through a spdlog sink
/// installed for the run (and still written to stderr).
Expected<AdversarialReport> run_adversarial(const AdversarialOptions& o);

/// Peak resident set size of this process (VmHWM), 0 when unknown.
uint64_t peak_rss_bytes();

} // namespace ethogram::bench
