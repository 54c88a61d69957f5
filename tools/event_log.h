// event_log.h: reads a JSON Lines event log into per-key sequences of one categorical field, and label files.
#pragma once

#include "models/expected.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ethogram::tools {

/// What to read from each event line, and how to cut sequences (from a TrainSpec, or a model's header).
struct EventLogOptions {
    std::string type_field = "type";
    std::string key_field;
    std::string time_field = "ts";
    std::string field;
    std::set<std::string> event_types; ///< empty: every type
    bool epoch_seconds = false;        ///< numeric times are seconds (default: milliseconds)
    int64_t gap_us = 0;                ///< > 0: a longer pause within a key starts a new sequence
    uint64_t max_length = 0;           ///< > 0: longer sequences are cut into pieces of this length
    std::string dead_letter_path;      ///< non-empty: malformed lines are written there as JSONL
};

/// One malformed line: where and why.
struct Malformed {
    uint64_t line = 0;
    std::string reason; ///< parse_error, missing_type, missing_key, missing_field, bad_field, bad_time
    std::string detail;
};

/// The events of one key between two boundaries, ordered by event time (ties in file order).
struct Sequence {
    std::string id;  ///< the key, or "key#n" (1-based) when the key's events form several sequences
    std::string key; ///< the key field's value (integers as decimal text)
    std::vector<std::string> symbols;
    int64_t first_us = 0, last_us = 0;
};

/// Everything read from an event log.
struct EventLog {
    std::string file;
    std::vector<Sequence> sequences; ///< keys in order of first appearance, then the key's pieces in order
    uint64_t lines = 0;              ///< lines read, blank lines included
    uint64_t blank = 0;              ///< empty or whitespace-only lines (skipped, not malformed)
    uint64_t events = 0;             ///< events kept (of the selected types, well-formed)
    uint64_t other_types = 0;        ///< well-formed events of types not selected
    uint64_t malformed = 0;
    std::map<std::string, uint64_t> malformed_by_reason;
    std::vector<Malformed> first_malformed; ///< the first kMaxListedMalformed, for the report
    int64_t min_us = 0, max_us = 0;         ///< time range of the kept events (0 when none)
};

/// How many malformed lines are listed one by one in reports (all are counted, and all dead-lettered).
inline constexpr size_t kMaxListedMalformed = 10;

/// Reads `path` (JSON Lines, simdjson). Malformed lines are counted per reason, the first few kept for the
/// report, and all written to options.dead_letter_path when set; they never stop the read. Fails only
/// when the file (or the dead-letter file) cannot be opened, read or written.
models::Expected<EventLog> read_event_log(const std::string& path, const EventLogOptions& options);

/// "file:line: reason: detail" lines for the listed malformed lines, plus "... and N more" when cut.
std::string describe_malformed(const EventLog& log);

/// Class labels of keys (or of sequence ids "key#n"), from a labels file.
struct Labels {
    std::string file;
    std::map<std::string, std::string> by_key;
    /// The label of a sequence: by its id first, then by its key; nullptr when unlabelled.
    const std::string* find(const Sequence& s) const;
};

/// Reads a labels file. Two formats, told apart by the first non-blank line:
/// JSON Lines, one object per line with "key" (string or integer) and "label" (string) members; or
/// CSV with a header line naming a "key" and a "label" column (other columns ignored; no quoting: keys and
/// labels must not contain commas). Blank lines are skipped. A malformed line, or a key given two different
/// labels, is an error naming file:line.
models::Expected<Labels> read_labels(const std::string& path);

/// Keys of a detections file (`etho run`'s JSON Lines), optionally of one rule only.
struct DetectionKeys {
    std::set<std::string> keys;
    uint64_t lines = 0, detections = 0, other_rules = 0, malformed = 0;
};

/// Reads detection keys (string or integer "key" members) of `rule` (empty: every rule). A line that is not
/// an object with a "rule" string and a key is printed to stderr as file:line and counted, never fatal.
models::Expected<DetectionKeys> read_detection_keys(const std::string& path, const std::string& rule);

} // namespace ethogram::tools
