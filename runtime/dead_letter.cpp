// dead_letter.cpp: dead-letter records and counts.
#include "runtime/dead_letter.h"

#include "runtime/json_writer.h"

namespace ethogram::runtime {

std::string_view dead_reason_code(DeadReason r) {
    switch (r) {
    case DeadReason::ParseError: return "parse_error";
    case DeadReason::UnknownType: return "unknown_type";
    case DeadReason::MissingType: return "missing_type";
    case DeadReason::MissingField: return "missing_field";
    case DeadReason::BadField: return "bad_field";
    case DeadReason::BadTime: return "bad_time";
    case DeadReason::Late: return "late";
    }
    return "?";
}

DeadLetterWriter::DeadLetterWriter(std::unique_ptr<OutputFile> out, std::string prefix)
    : out_(std::move(out)), prefix_(std::move(prefix)) {}

void DeadLetterWriter::write(uint64_t line, DeadReason reason, std::string_view detail,
                             std::string_view raw) {
    ++counts_[static_cast<size_t>(reason)];
    if (!out_) return;
    buf_.clear();
    buf_ += prefix_;
    buf_ += "{\"line\":";
    append_json_uint(buf_, line);
    buf_ += ",\"reason\":";
    append_json_string(buf_, dead_reason_code(reason));
    buf_ += ",\"detail\":";
    append_json_string(buf_, detail);
    buf_ += ",\"raw\":";
    append_json_string(buf_, raw);
    buf_ += "}\n";
    out_->write(buf_);
}

uint64_t DeadLetterWriter::total() const {
    uint64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
}

Expected<bool> DeadLetterWriter::close() {
    if (!out_) return true;
    return out_->close();
}

} // namespace ethogram::runtime
