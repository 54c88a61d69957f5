// detection.h: completing detections (emits, confidence, id) and resolving exclusive groups.
#pragma once

#include "compiler/interp/engine.h"

#include <string_view>
#include <vector>

namespace ethogram::interp {

/// 64-bit FNV-1a over the rule name bytes, the key string bytes, and each bound event's `seq`
/// (8 bytes, little-endian) in binding order.
uint64_t detection_id(std::string_view rule, std::string_view key, const std::vector<ir::Binding>& bindings);

/// The explanation record of one event.
ir::BoundEvent bound_event(const StoredEvent& se);

/// Fills in a detection whose rule, key, time, trigger and bindings are set: first/last time over the
/// bound events (`time` when none), emits and confidence (clamped to [0,1], missing -> 0) evaluated in
/// `ctx`, and the id.
void finish_detection(Engine& en, ir::Detection& d, const EvalContext& ctx);

/// Resolves exclusive groups in one batch (one event, or one timer deadline of one key) and hands the
/// detections to `sink` in production order: per group, the detection of the highest priority wins
/// (ties: the rule declared first, then the one produced first); the group's other detections go to
/// `sink.suppressed` with `suppressed_by` = the winner's rule.
void resolve_batch(Engine& en, std::vector<ir::Detection>& batch, ir::DetectionSink& sink);

} // namespace ethogram::interp
