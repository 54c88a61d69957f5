// state_bytes.cpp: approximate bytes of per-key interpreter state (for --stats and the state budget).
#include "compiler/interp/state_bytes.h"

#include "compiler/interp/engine.h"
#include "compiler/interp/interpreter_impl.h"
#include "compiler/interp/key_table.h"

#include <variant>

namespace ethogram::interp {

namespace {

constexpr uint64_t kBlock = 16; // malloc's per-block overhead, roughly
constexpr uint64_t kTimerEntryBytes = sizeof(Timer);
constexpr uint64_t kActivityEntryBytes = sizeof(Activity);

template <class V>
uint64_t vector_bytes(const V& v) {
    return v.capacity() == 0 ? 0 : v.capacity() * sizeof(typename V::value_type) + kBlock;
}

template <class R>
uint64_t block_bytes(const R& ring) {
    const uint64_t n = ring.heap_bytes();
    return n == 0 ? 0 : n + kBlock;
}

// A buffer and its events except `skip` (the key's latest event, counted once by the caller). O(1): the
// events of one buffer are costed like its newest one (the field arrays differ only between event types).
uint64_t ring_bytes(const EventBuffer& b, const StoredEvent* skip) {
    uint64_t n = block_bytes(b);
    if (b.empty()) return n;
    const uint64_t others = b.size() - (b.back().get() == skip ? 1 : 0);
    return n + others * stored_event_bytes(*b.back());
}

} // namespace

uint64_t model_state_bytes(const ModelKeyState& m) {
    // The variant is inline (counted with the models vector); what it owns on the heap: an HMM's
    // posterior and its scratch row (N doubles each), a classifier's chain state per class.
    if (const auto* h = std::get_if<models::HmmState>(&m.st)) {
        const uint64_t n = h->posterior().size();
        return n == 0 ? 0 : 2 * (n * sizeof(double) + kBlock);
    }
    if (const auto* c = std::get_if<std::vector<models::MarkovState>>(&m.st)) return vector_bytes(*c);
    return 0;
}

uint64_t stored_event_bytes(const StoredEvent& se) {
    // One block: the StoredEvent and its fields (state.h).
    return stored_event_alloc_bytes(static_cast<uint32_t>(se.ev.fields.size())) + kBlock;
}

uint64_t key_state_bytes(const KeyState& ks) {
    // The record in the key table's slab (the KeyState and its arrays) and its index entry (key_table.h).
    const uint64_t record = sizeof(KeyState) + ks.sessions.inline_bytes() + ks.thresholds.inline_bytes() +
                            ks.patterns.inline_bytes() + ks.models.inline_bytes();
    uint64_t n = ((record + 7) & ~uint64_t{7}) + KeyTable::kIndexBytesPerKey;
    // Its entry in the interpreter's activity queue (at most one) and its live timer entries (one per open
    // session and per scheduled pattern rule; engine.h Timer). Stale timer entries wait for their deadline
    // and are not counted.
    if (ks.queued) n += kActivityEntryBytes;
    const StoredEvent* last = ks.last.get();
    if (last) n += stored_event_bytes(*last);
    for (const ModelKeyState& m : ks.models) n += model_state_bytes(m);
    for (const SessionState& s : ks.sessions) {
        if (s.open()) n += kTimerEntryBytes;
        n += ring_bytes(s.events, last) + s.events.fold_bytes();
        if (s.last_event && s.last_event.get() != last) n += stored_event_bytes(*s.last_event);
    }
    for (const ThresholdState& t : ks.thresholds) n += ring_bytes(t.scope, last);
    for (const PatternState& p : ks.patterns) {
        if (p.timer_scheduled) n += kTimerEntryBytes;
        n += vector_bytes(p.matches);
        for (const PartialMatch& m : p.matches) {
            // The match is inline in the vector; a match of more than PartialMatch::kInline events has a
            // heap block.
            if (const uint64_t h = m.heap_bytes()) n += h + kBlock;
            for (uint32_t i = 0; i < m.size(); ++i)
                if (m.events()[i] != last) n += stored_event_bytes(*m.events()[i]);
        }
    }
    return n;
}

} // namespace ethogram::interp
