// synth.h: synthetic user journeys from a scenario (YAML, docs/testing.md): users follow steps with
// event types, field values and timing distributions; deterministic for one seed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ethogram::ruletest {

struct SynthResult {
    std::string jsonl; ///< the events, one JSON object per line, in time order
    uint64_t users = 0, events = 0;
};

/// Generates the scenario in file `path` with `seed` (nullopt: the scenario's `seed`, else 1). Returns
/// false with `error` (`file:line:col: error: ...`) when the scenario is malformed.
bool synthesize(const std::string& path, std::optional<uint64_t> seed, SynthResult& out, std::string& error);

} // namespace ethogram::ruletest
