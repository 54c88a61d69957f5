// state_bytes.cpp: approximate bytes of per-key interpreter state (for --stats and the state budget).
#include "compiler/interp/state_bytes.h"

#include "compiler/interp/key_table.h"

#include <variant>

namespace ethogram::interp {

namespace {

constexpr uint64_t kBlock = 16; // malloc's per-block overhead, roughly

template <class V>
uint64_t vector_bytes(const V& v) {
    return v.capacity() == 0 ? 0 : v.capacity() * sizeof(typename V::value_type) + kBlock;
}

template <class S>
uint64_t block_bytes(const S& slots) {
    const uint64_t n = slots.heap_bytes();
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
    // The record in the key table's slab and its index entries (key_table.h).
    uint64_t n = sizeof(KeyState) + KeyTable::kIndexBytesPerKey;
    const StoredEvent* last = ks.last.get();
    if (last) n += stored_event_bytes(*last);
    n += block_bytes(ks.sessions) + block_bytes(ks.thresholds) + block_bytes(ks.patterns);
    n += block_bytes(ks.models);
    for (const ModelKeyState& m : ks.models) n += model_state_bytes(m);
    for (const SessionState& s : ks.sessions) {
        n += ring_bytes(s.events, last);
        if (s.last_event && s.last_event.get() != last) n += stored_event_bytes(*s.last_event);
    }
    for (const ThresholdState& t : ks.thresholds) n += ring_bytes(t.scope, last);
    for (const PatternState& p : ks.patterns) {
        n += vector_bytes(p.matches);
        for (const PartialMatch& m : p.matches) {
            n += vector_bytes(m.bound);
            for (const auto& step : m.bound) {
                n += vector_bytes(step);
                for (const EventPtr& e : step)
                    if (e.get() != last) n += stored_event_bytes(*e);
            }
        }
    }
    return n;
}

} // namespace ethogram::interp
