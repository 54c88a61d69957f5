// handwritten.h: the three reference rules of bench/rules/three.etho written by hand in plain C++: the
// baseline of what native code can do on the same pre-decoded events.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <deque>
#include <unordered_map>

namespace ethogram::bench {

struct HandCounts {
    uint64_t search_burst = 0;  ///< hw_search_burst
    uint64_t cart_then_buy = 0; ///< hw_cart_then_buy
    uint64_t abandon = 0;       ///< hw_abandon
    uint64_t total() const { return search_burst + cart_then_buy + abandon; }
};

/// Same semantics as the engine for these three rules (edge-triggered threshold over a sliding window,
/// consumption of partial matches, absence deadlines fired in deadline order); checked by comparing
/// detection counts with the engine in the same run. Field slots are resolved once from the schema.
class HandWritten {
public:
    explicit HandWritten(const ir::RuleSet& rs);
    void on_event(const ir::Event& e);
    /// End of input: every pending absence deadline passes.
    void finish();
    const HandCounts& counts() const { return counts_; }

private:
    struct Key {
        std::deque<int64_t> searches; ///< search times in the last minute
        bool burst = false;           ///< the threshold's previous value (edge triggering)
        std::deque<int64_t> carts;    ///< starts of hw_cart_then_buy partial matches
        uint64_t abandon_gen = 0;     ///< bumped by a purchase: kills pending absences
    };
    struct Deadline {
        int64_t at;
        uint32_t key;
        uint64_t gen;
    };
    void fire_until(int64_t t);

    uint16_t search_ = 0, cart_ = 0, purchase_ = 0, price_slot_ = 0;
    std::unordered_map<uint32_t, Key> keys_;
    std::deque<Deadline> deadlines_; ///< appended in time order: deadlines are event time + 30m
    HandCounts counts_;
};

} // namespace ethogram::bench
