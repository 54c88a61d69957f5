// event_finish.h: the schema checks shared by every event decoder (JSON lines, embed's typed events).
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "runtime/decoder.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ethogram::runtime {

/// Per event type of a rule set: field name -> field slot (how a decoder finds a member's slot).
using FieldIndex = std::unordered_map<std::string_view, uint16_t>;
/// The index of every event type of `rs`, in type order (names view into `rs`).
std::vector<FieldIndex> build_field_index(const ir::RuleSet& rs);

/// Readies `ev` to be filled as an event of type `t`: type and line set, key/id/time cleared, every field
/// missing; `seen` (one flag per field) cleared for the decoder to mark the fields it fills. `seen` is
/// sized to a whole number of 8-byte words (at least one flag per field, the rest 0), which lets
/// finish_event count the fields seen a word at a time.
void begin_event(const ir::RuleSet& rs, int t, uint64_t line_no, ir::Event& ev, std::vector<uint8_t>& seen);

/// A dead letter: sets `err` and returns false (how every decoder step reports one).
inline bool decode_fail(DecodeError& err, DeadReason reason, std::string detail) {
    err.reason = reason;
    err.detail = std::move(detail);
    return false;
}

/// An enum field's value from its name: the index of the value, or bad_field naming the values it takes.
bool enum_value(const ir::EventType& et, const ir::FieldDef& fd, std::string_view name, ir::Value& out,
                DecodeError& err);

/// Interns the decimal text of `n` (integer keys and ids are strings of their digits); `scratch` is reused.
uint32_t intern_decimal(ir::StringPool& pool, std::string& scratch, int64_t n);

/// After the fields are filled: every required field must have been seen (else missing_field), the event
/// time is taken from the time field (missing_field when it is absent), and the id field, if any, is
/// interned into `pool` (an integer id as its decimal text; `scratch` is a reused buffer). With a null
/// `pool` (deferred interning, Decoder::decode_deferred) an integer id's text is left in `scratch` and
/// `ev.id` stays unset for the caller to intern later. False with the reason and detail in `err` on a dead
/// letter. Both decoders call it, so their reasons and texts agree.
bool finish_event(const ir::EventType& et, const std::vector<uint8_t>& seen, ir::StringPool* pool,
                  std::string& scratch, ir::Event& ev, DecodeError& err);

} // namespace ethogram::runtime
