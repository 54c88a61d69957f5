// handwritten_full.h: the three rules of bench/rules/three.etho by hand, doing the engines' whole job: every
// detection built as the interpreter builds it (bindings, trigger, times, confidence, id) and handed to a
// DetectionSink. The second hand-written baseline, beside the count-only one (handwritten.h).
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ethogram::bench {

/// hw_search_burst, hw_cart_then_buy and hw_abandon in plain C++ with flat per-key state, emitting exactly
/// the detections the interpreter emits for three.etho, in the same order (docs/semantics.md): call
/// advance_watermark(e.time) before each on_event(e), as an executor is driven, and
/// advance_watermark(ir::kTimeInfinity) at the end of input. The IR is read only at construction (event
/// types, the price slot, rule indices, names and aliases); throws std::runtime_error when the rule set
/// is not three.etho's. Events must come in non-decreasing time order (the benchmark workload does).
class HandWrittenFull {
public:
    /// `pool`: where the events' keys are interned (the detection id hashes the key's text).
    HandWrittenFull(const ir::RuleSet& rs, const ir::StringPool& pool);
    /// hw_abandon: every pending absence deadline before `t` fires, in (deadline, key) order. Inline: most
    /// calls (one per event) find nothing due.
    void advance_watermark(int64_t t, ir::DetectionSink& sink) {
        if (!deadlines_.empty() && deadlines_.front().at < t) fire_until(t, sink);
    }
    /// The caller has advanced the watermark to `e.time`.
    void on_event(const ir::Event& e, ir::DetectionSink& sink);

private:
    /// A first-in first-out queue in one vector: popped entries are reclaimed when it empties or once
    /// they are half of it.
    template <class T>
    struct Fifo {
        std::vector<T> items;
        size_t head = 0;
        bool empty() const { return head == items.size(); }
        size_t size() const { return items.size() - head; }
        const T& front() const { return items[head]; }
        const T* begin() const { return items.data() + head; }
        const T* end() const { return items.data() + items.size(); }
        void pop_front() {
            if (++head == items.size()) clear();
        }
        void clear() {
            items.clear();
            head = 0;
        }
        void push_back(const T& v) {
            if (head > 16 && head * 2 > items.size()) {
                items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(head));
                head = 0;
            }
            if (items.capacity() == 0) items.reserve(8); // not 1, 2, 4, 8: a key's queues are mostly short
            items.push_back(v);
        }
    };
    struct Key {
        Fifo<ir::BoundEvent> recent;  ///< hw_search_burst's scope: the key's events of the last minute
        uint32_t searches = 0;        ///< searches in `recent`
        bool burst = false;           ///< the condition's previous value (edge triggering)
        Fifo<ir::BoundEvent> carts;   ///< hw_cart_then_buy: expensive carts of the last 10 minutes
        Fifo<ir::BoundEvent> pending; ///< hw_abandon: carts with no purchase since, not yet 30m old
    };
    struct Deadline {
        int64_t at;
        uint32_t key;
    };
    /// What a rule's detections share, found at construction.
    struct RuleInfo {
        uint32_t index = 0;
        std::string name;
        std::vector<std::string> aliases; ///< pattern rules: the positive steps' aliases (steps 0, 1, ...)
    };

    void fire_until(int64_t t, ir::DetectionSink& sink);
    void fire_absences(uint32_t key, int64_t at, ir::DetectionSink& sink);
    /// The detection of `r` for `key` whose bindings (`scratch_.bindings`) are set: fills in the rest and
    /// hands it to `sink`.
    void emit(const RuleInfo& r, uint32_t key, int64_t time, const char* trigger, ir::DetectionSink& sink);
    /// Makes `scratch_` hold `n` bindings; returns binding `i` with its events cleared.
    ir::Binding& binding(size_t i, const std::string& alias, uint32_t step);

    const ir::StringPool& pool_;
    uint16_t search_ = 0, cart_ = 0, purchase_ = 0, price_slot_ = 0;
    RuleInfo burst_rule_, buy_rule_, abandon_rule_;
    uint32_t max_matches_ = 0, max_scope_ = 0; ///< the executors' default caps (ir::ExecutorOptions)
    std::unordered_map<uint32_t, Key> keys_;
    Fifo<Deadline> deadlines_;       ///< hw_abandon's, in time order (appended at event time + 30m)
    std::vector<uint32_t> due_keys_; ///< the keys of one deadline, sorted (their fire order)
    ir::Detection scratch_;          ///< the detection being built (its storage reused)
};

} // namespace ethogram::bench
