// typed_event.h: validation of an ethogram::TypedEvent against the rule set's schemas into an ir::Event, with
// the JSON decoder's rules and dead-letter reasons (runtime/decoder.h), for Engine::push. Internal to embed/.
#pragma once

#include "ethogram/engine.h"

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "runtime/decoder.h"
#include "runtime/event_finish.h"
#include "runtime/time.h"

#include <string>
#include <string_view>
#include <vector>

namespace ethogram::embed {

/// Decodes typed events for one rule set; interns strings into `pool` (as the JSON decoder does).
class TypedDecoder {
public:
    TypedDecoder(const ir::RuleSet& rs, ir::StringPool& pool, runtime::EpochUnit unit);

    /// Fills `out` (fields, type, key, time, id, line; `seq` is left to the caller). False on a dead
    /// letter, with the reason and a detail naming the field in `err`.
    bool decode(const TypedEvent& in, uint64_t line_no, ir::Event& out, runtime::DecodeError& err);

private:
    bool field(runtime::DecodeError& err, const ir::EventType& et, uint16_t slot, const FieldValue& v,
               ir::Value& out);
    bool key(runtime::DecodeError& err, const ir::EventType& et, const FieldValue& v, ir::Event& ev);

    const ir::RuleSet& rs_;
    ir::StringPool& pool_;
    runtime::EpochUnit unit_;
    std::vector<runtime::FieldIndex> index_; ///< per event type: name -> slot
    std::vector<uint8_t> seen_;
    std::string scratch_;
};

/// `ev` written as one JSON object that `rs`'s JSON decoder takes back as the same event (for events given
/// back to the program: SwapReport::refused): the type under `type_field`, roles under the names of the
/// schema's key, time and id fields (`key`, `time`, `id` for a type `rs` does not declare), a name set twice
/// once with its last value, timestamps as RFC 3339, durations as "NNNus", floats with a fraction or
/// exponent (a non-finite float as a string: JSON has no such number).
std::string typed_event_json(const TypedEvent& ev, const ir::RuleSet& rs, std::string_view type_field);

} // namespace ethogram::embed
