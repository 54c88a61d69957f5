// state_bytes.h: approximate memory accounting of the interpreter's per-key state.
#pragma once

#include "compiler/interp/state.h"

#include <cstdint>

namespace ethogram::interp {

/// Approximate heap bytes of one key's state: its key-table record (with the per-rule and per-session
/// arrays) and index entry, its activity-queue entry and live timer entries, the event buffers and partial
/// matches (their capacity), the per-key model states (an HMM's posterior, a classifier's per-class chain
/// states), and the stored events. An event referenced from several places (scope buffers, sessions, partial
/// matches) is counted at every reference but the key's latest event, which is counted once: an upper bound,
/// as a budget needs. The events of a buffer are costed like its newest one, so that the cost is O(sessions +
/// rules + events bound by partial matches), not O(events held). Allocator overhead (about 16 bytes per
/// block) is included per block.
uint64_t key_state_bytes(const KeyState& ks);

/// Heap bytes one key's model state owns beyond its slot in KeyState::models (HMM rows, per-class states).
uint64_t model_state_bytes(const ModelKeyState& m);

/// Bytes of one stored event (its one block: the object and its fields).
uint64_t stored_event_bytes(const StoredEvent& se);

} // namespace ethogram::interp
