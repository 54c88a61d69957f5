// diff.h: `etho diff`: the structural diff of two rule-set versions and, over a corpus, the replay diff
// (detections added, removed and changed per rule).
#pragma once

#include "compiler/ir/ir.h"
#include "tools/ruletest/replay.h"

#include <string>
#include <vector>

namespace ethogram::ruletest {

/// One rule present in both versions whose canonical text differs.
struct RuleChange {
    std::string rule;
    std::string old_hash, new_hash;
    bool cosmetic = false;              ///< only comments or layout changed (canonical text equal)
    std::vector<std::string> changes;   ///< "window: 10m -> 15m", "condition branch 2: `a` -> `b`" ...
    std::vector<std::string> text_diff; ///< canonical text, lines prefixed "- " / "+ " (changed lines only)
};

struct StructuralDiff {
    std::string old_name, old_version, new_name, new_version;
    std::vector<std::string> added, removed, unchanged;
    std::vector<RuleChange> changed;
    std::vector<std::string> schema; ///< event types / fields / taxonomy nodes added or removed
};

StructuralDiff structural_diff(const ir::RuleSet& old_rs, const ir::RuleSet& new_rs);

/// Detections of one rule in the two runs.
struct RuleReplayDiff {
    std::string rule;
    uint64_t old_count = 0, new_count = 0, same = 0;
    std::vector<std::string> added, removed;                  ///< JSON lines (all, reports cut)
    std::vector<std::pair<std::string, std::string>> changed; ///< (old, new) JSON lines
    std::vector<std::string> changed_what;                    ///< per changed pair: what differs
};

struct ReplayDiff {
    uint64_t events = 0, old_total = 0, new_total = 0;
    std::vector<RuleReplayDiff> rules; ///< every rule of either version that fired, sorted by name
};

/// Matches the detections of two runs over the same events: same rule, key, time and bound events is the
/// same detection (changed when its fields or confidence differ); what is left is paired by rule, key
/// and time, then by rule, key and bound events (changed); the rest is added or removed.
ReplayDiff replay_diff(const ReplayResult& old_run, const ReplayResult& new_run);

std::string diff_text(const StructuralDiff& s, const ReplayDiff* r, const std::string& corpus,
                      uint32_t examples);
std::string diff_json(const StructuralDiff& s, const ReplayDiff* r, const std::string& corpus,
                      uint32_t examples);

} // namespace ethogram::ruletest
