// spec.h: the rule test file (YAML, docs/testing.md): what it says, loaded with positions for errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ethogram::ruletest {

/// A position in a test file, 1-based (0 = unknown).
struct Pos {
    uint32_t line = 0, col = 0;
};

/// `file:line:col: error: message` (line/col left out when unknown).
std::string located(const std::string& file, Pos p, const std::string& msg);
Pos pos_of(const YAML::Node& n);
/// A yaml-cpp parse or conversion error as `file:line:col: error: not valid YAML: ...` (the position left
/// out when yaml-cpp has none), for every YAML file `etho test` and `etho synth` read.
std::string yaml_error(const std::string& file, const YAML::Exception& e);

/// A time in a test: relative to the case's start (`90s`, `1m30s`, `+10s` after the previous event) or
/// absolute (RFC 3339).
struct TimeSpec {
    bool absolute = false;
    bool after_previous = false; ///< `+D`: relative to the previous event (events only)
    int64_t us = 0;
};

/// One expected detection (partial: what is not given is not checked).
struct Expectation {
    Pos pos;
    std::string rule;      ///< a rule name, or empty
    std::string behaviour; ///< a taxonomy node (its subtree matches), or empty
    std::optional<std::string> key;
    std::optional<TimeSpec> time, time_to; ///< exact time, or the range [time, time_to]
    std::optional<std::string> trigger;    ///< event, absence, session_end
    std::vector<std::pair<std::string, YAML::Node>> fields;
    std::vector<std::pair<std::string, uint64_t>> event_counts; ///< alias -> number of bound events
    int64_t count = -1;                                         ///< exactly this many; -1: at least one
    bool suppressed = false; ///< match suppressed detections (exclusive groups) instead of emitted ones
    Pos fields_pos;
};

/// A rule or behaviour that must not fire in a case.
struct Forbidden {
    Pos pos;
    std::string name; ///< rule name or taxonomy node
};

struct TestCase {
    std::string name;
    Pos pos;
    std::optional<TimeSpec> start; ///< overrides the file's start
    std::optional<YAML::Node> key; ///< default key of the case's events
    YAML::Node events;             ///< inline events (a sequence), or null
    std::string events_file;       ///< a JSON Lines file (resolved path), or empty
    Pos events_pos;
    std::vector<Expectation> expect;
    std::vector<Forbidden> expect_none;
    std::optional<bool> no_other; ///< overrides the file's no_other_detections
    std::optional<uint64_t> dead_letters;
    bool stable = true; ///< false: jitter flips are reported but do not fail the case
};

struct TestFile {
    std::string path;
    std::vector<std::string> rules;     ///< resolved paths
    std::vector<std::string> rules_raw; ///< as written (relative to the test file)
    Pos rules_pos;
    std::string config; ///< resolved path, or empty
    Pos config_pos;
    std::optional<int64_t> lateness_us;
    int64_t start_us = 0;
    YAML::Node defaults; ///< per event type: fields added to every event of the type
    bool no_other = false;
    std::vector<TestCase> cases;
};

/// Loads and checks a test file's structure (unknown keys, types, durations, times). Rule names, event
/// types and fields are checked later, against the compiled rules. Returns false with `error`
/// (`file:line:col: error: ...`).
bool load_test_file(const std::string& path, TestFile& out, std::string& error);

/// Parses `90s`, `1m30s`, `2h`, `250ms`, `1d2h` (units us, ms, s, m, h, d; at least one part).
std::optional<int64_t> parse_compound_duration(std::string_view s);

/// Resolves a time against a case start and the previous event's time.
int64_t resolve_time(const TimeSpec& t, int64_t start, int64_t previous);

} // namespace ethogram::ruletest
