// dead_letter.h: the dead-letter output: every input line that is not processed, with a reason code.
#pragma once

#include "runtime/output_file.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Why an input line was not processed. The codes are part of the output format.
enum class DeadReason : uint8_t {
    ParseError,   ///< parse_error: not JSON, or not a JSON object
    UnknownType,  ///< unknown_type: the type field names no declared event
    MissingType,  ///< missing_type: no type field, or it is not a string
    MissingField, ///< missing_field: a required field is absent or null
    BadField,     ///< bad_field: a field has the wrong JSON type, a bad enum value, a bad duration
    BadTime,      ///< bad_time: a timestamp field does not parse or is out of range
    Late,         ///< late: event time below the watermark on arrival (docs/semantics.md section 1)
};
constexpr size_t kDeadReasonCount = 7;

/// The reason's code as written in records and summaries ("parse_error", ...).
std::string_view dead_reason_code(DeadReason r);

/// Counts dead letters per reason and writes one JSONL record per line:
/// `{"line":N,"reason":"<code>","detail":"<why>","raw":"<original line>"}`.
/// Where records go is the caller's choice (see runtime/pipeline.h); `prefix` is written before each
/// record (used for "dead-letter: " on stderr). A null stream only counts.
class DeadLetterWriter {
public:
    DeadLetterWriter(std::unique_ptr<OutputFile> out, std::string prefix = "");

    void write(uint64_t line, DeadReason reason, std::string_view detail, std::string_view raw);
    uint64_t count(DeadReason r) const { return counts_[static_cast<size_t>(r)]; }
    uint64_t total() const;
    /// Checkpoint resume: the counts as they were when the checkpoint was taken.
    void restore_count(DeadReason r, uint64_t n) { counts_[static_cast<size_t>(r)] = n; }
    OutputFile* stream() { return out_.get(); }
    /// Flushes and closes the stream; an error when any write failed.
    Expected<bool> close();

private:
    std::unique_ptr<OutputFile> out_;
    std::string prefix_;
    std::string buf_;
    std::array<uint64_t, kDeadReasonCount> counts_{};
};

} // namespace ethogram::runtime
