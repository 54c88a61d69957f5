// adversarial_state.cpp: issue 4's bounded-state adversaries at benchmark size: one key with millions of
// events that each start partial matches, and millions of distinct keys, under --max-state-bytes. Prints
// the peak accounted state against the budget, the process's peak RSS, the drops and the warning count;
// exits 1 when the accounted state ever exceeded the budget after an event or no warning was logged.
// Usage: adversarial_state [--events N] [--keys K] [--budget BYTES] [--max-partial-matches N]
//                          [--max-scope-events N]
// (bench/adversarial_state.sh runs the benchmark configurations, each in its own process for its RSS.)
#include "bench/adversarial_workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    ethogram::bench::AdversarialOptions o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
        if (flag == "--events")
            o.events = v;
        else if (flag == "--keys")
            o.keys = v;
        else if (flag == "--budget")
            o.max_state_bytes = v;
        else if (flag == "--max-partial-matches")
            o.max_partial_matches = static_cast<uint32_t>(v);
        else if (flag == "--max-scope-events")
            o.max_scope_events = static_cast<uint32_t>(v);
        else {
            fmt::print(stderr, "adversarial_state: unknown flag {}\n", flag);
            return 2;
        }
    }
    if (argc % 2 == 0) {
        fmt::print(stderr, "adversarial_state: {} needs a value\n", argv[argc - 1]);
        return 2;
    }
    auto r = ethogram::bench::run_adversarial(o);
    if (!r) {
        fmt::print(stderr, "adversarial_state: {}\n", r.error());
        return 1;
    }
    const double mib = 1024.0 * 1024.0;
    fmt::print("adversarial: events {} keys {} budget {} B ({:.1f} MiB)\n", r->events, r->keys, r->budget,
               double(r->budget) / mib);
    fmt::print("adversarial: peak accounted state {} B ({:.1f} MiB, {:.1f}% of the budget), after-event "
               "overruns {}, transient peak {} B, final {} B\n",
               r->peak_accounted, double(r->peak_accounted) / mib,
               r->budget ? 100.0 * double(r->peak_accounted) / double(r->budget) : 0.0, r->over_budget,
               r->peak_transient, r->final_bytes);
    fmt::print("adversarial: live keys {}, live partial matches {}, overflow drops {}, budget drops {}, "
               "evictions {}, detections {}, budget warnings {}\n",
               r->live_keys, r->partial_matches, r->overflow_drops, r->budget_drops, r->evictions,
               r->detections, r->budget_warnings);
    fmt::print("adversarial: {:.2f} s ({:.0f} events/s), peak RSS {:.1f} MiB\n", r->seconds,
               double(r->events) / std::max(r->seconds, 1e-9), double(r->rss_peak_bytes) / mib);
    if (r->budget > 0 && (r->over_budget > 0 || r->budget_warnings != (r->budget_drops > 0 ? 1u : 0u))) {
        fmt::print(stderr,
                   "adversarial_state: FAILED: the budget did not hold or was not warned about once\n");
        return 1;
    }
    return 0;
}
