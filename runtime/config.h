// config.h: the engine's configuration (a YAML file, every key optional, CLI flags override it).
#pragma once

#include "runtime/expected.h"
#include "runtime/time.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Everything the runtime can be configured with. Defaults are those of an absent file.
///
/// YAML layout (all keys optional; unknown keys are errors so that typos do not pass silently):
/// ```yaml
/// time:   { allowed_lateness: 5s }          # duration string, or a number of milliseconds
/// input:  { path: events.jsonl, epoch_unit: ms, type_field: type }   # epoch_unit: ms | s
/// state:  { max_partial_matches: 1000, max_scope_events: 100000,     # positive integers
///           max_state_bytes: 512MiB }   # bytes, or with a unit: KiB, MiB, GiB (0 or absent: no budget)
/// output: { path: out.jsonl, explain: false, dead_letter: dl.jsonl, suppressed: sup.jsonl,
///           summary_json: summary.json, max_events_per_alias: 1000 }
/// ```
struct EngineConfig {
    int64_t allowed_lateness_us = 0;
    EpochUnit epoch_unit = EpochUnit::Millis;
    std::string type_field = "type";
    uint32_t max_partial_matches = 1000;
    uint32_t max_scope_events = 100000;
    uint64_t max_state_bytes = 0; ///< state.max_state_bytes; 0 = no budget
    bool explain = false;
    uint32_t max_events_per_alias = 1000; ///< output.max_events_per_alias
    std::string input_path;               ///< empty: not set (the CLI's --events is then required)
    std::string output_path;              ///< empty: stdout
    std::string dead_letter_path;
    std::string suppressed_path;
    std::string summary_json_path;
};

/// Loads and validates a YAML configuration file. Errors name the file, the key path
/// (`time.allowed_lateness`) and what was expected.
Expected<EngineConfig> load_config(const std::string& path);

/// Same, from text; `name` is used in error messages.
Expected<EngineConfig> parse_config(std::string_view text, std::string_view name);

/// Parses a byte count: digits, optionally followed by B, KiB, MiB or GiB ("512MiB").
Expected<uint64_t> parse_bytes(std::string_view s);

/// Parses an epoch unit as written in the config or on the command line ("ms" or "s").
Expected<EpochUnit> parse_epoch_unit(std::string_view s);

} // namespace ethogram::runtime
