// detection.h: completing detections (emits, confidence, id) and resolving exclusive groups.
#pragma once

#include "compiler/interp/engine.h"

#include <string>
#include <string_view>
#include <vector>

namespace ethogram::interp {

/// 64-bit FNV-1a over the rule name bytes, the key string bytes, and each bound event's `seq`
/// (8 bytes, little-endian) in binding order.
uint64_t detection_id(std::string_view rule, std::string_view key, const std::vector<ir::Binding>& bindings);

/// The FNV-1a state after the rule name's bytes (what detection_id starts from after `rule`): computed once
/// per rule (Engine::id_seed), so that a detection hashes only its key and its bound events.
uint64_t detection_id_seed(std::string_view rule);

/// A detection of `rule` to fill in, appended to `batch`: one of the rule's records (Engine::spare), whose
/// heap storage (bindings and their event vectors, fields, strings) is that of the rule's detection handed
/// to the sink earlier, so that building a detection allocates nothing in the steady state. Only `rule`,
/// `suppressed_by` (-1), `decision` and `models` (empty) are reset: the caller sets the key, time, trigger
/// and every binding (size_bindings, set_binding), and finish_detection the rest.
ir::Detection& new_detection(Engine& en, uint32_t rule, DetectionBatch& batch);

/// Makes `d.bindings` hold `n` bindings, reusing the ones there (and their event vectors' storage); each
/// must then be set with set_binding.
inline void size_bindings(ir::Detection& d, size_t n) {
    // Recycled storage is the rule's own: the size differs only the first time, or when the sink moved from
    // it.
    if (d.bindings.size() != n) d.bindings.resize(n);
}

/// Sets `s` to `v`, without writing when it already holds it (a reused record holds its rule's aliases and,
/// mostly, the same trigger): a short compare is cheaper than std::string's general assignment.
inline void set_text(std::string& s, std::string_view v) {
    if (s.size() == v.size()) {
        size_t i = 0;
        while (i < v.size() && s[i] == v[i]) ++i;
        if (i == v.size()) return;
    }
    s.assign(v.data(), v.size());
}

/// Sets binding `b` (alias, step, `n` events, each to be overwritten by the caller), keeping its event
/// vector's storage. Returns the events to write.
inline ir::BoundEvent* set_binding(ir::Binding& b, std::string_view alias, uint32_t step, size_t n) {
    set_text(b.alias, alias);
    b.step = step;
    // A reused record mostly has the count already (no value-initialisation of what is overwritten).
    if (b.events.size() != n) b.events.resize(n);
    return b.events.data();
}

/// The explanation record of one event. Inline: threshold detections list their whole scope.
inline ir::BoundEvent bound_event(const StoredEvent& se) {
    ir::BoundEvent b;
    b.seq = se.ev.seq;
    b.line = se.ev.line;
    b.time = se.ev.time;
    b.id = se.ev.id;
    b.type = se.ev.type;
    return b;
}

/// Fills in a detection whose rule, key, time, trigger and bindings are set: first/last time over the
/// bound events (`time` when none), emits and confidence (clamped to [0,1], missing -> 0) evaluated in
/// `ctx`, and the id (detection_id's value, from the rule's Engine::id_seed).
void finish_detection(Engine& en, ir::Detection& d, const EvalContext& ctx);

/// Resolves exclusive groups in one batch (one event, or one timer deadline of one key) and hands the
/// detections to `sink` in production order: per group, the detection of the highest priority wins
/// (ties: the rule declared first, then the one produced first); the group's other detections go to
/// `sink.suppressed` with `suppressed_by` = the winner's rule.
void resolve_batch(Engine& en, DetectionBatch& batch, ir::DetectionSink& sink);

} // namespace ethogram::interp
