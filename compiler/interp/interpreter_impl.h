// interpreter_impl.h: the reference interpreter's class, shared by the files that implement it
// (interpreter.cpp: events and timers; further files: state snapshots and transfers). Internal header.
#pragma once

#include "compiler/interp/engine.h"
#include "compiler/interp/key_table.h"
#include "compiler/interp/state.h"
#include "compiler/ir/executor.h"

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// An entry of the interpreter's activity queue: a key and the time of its latest event when queued. 12
/// bytes (the time in two 4-byte halves, so that the entry needs no 8-byte alignment): a
/// std::pair<int64_t, uint32_t> took 16.
struct Activity {
    Activity() = default;
    Activity(int64_t t, uint32_t k)
        : hi(static_cast<uint32_t>(static_cast<uint64_t>(t) >> 32)), lo(static_cast<uint32_t>(t)), key(k) {}
    int64_t time() const { return static_cast<int64_t>((uint64_t{hi} << 32) | lo); }
    bool operator>(const Activity& o) const {
        if (hi != o.hi) return static_cast<int32_t>(hi) > static_cast<int32_t>(o.hi);
        if (lo != o.lo) return lo > o.lo;
        return key > o.key;
    }
    uint32_t hi = 0, lo = 0;
    uint32_t key = ir::kNoString;
};

static_assert(sizeof(Activity) == 12, "an activity entry is 12 bytes");

class Interpreter final : public ir::Executor {
public:
    Interpreter(const ir::RuleSet& rs, ir::StringPool& pool, const ir::ExecutorOptions& opts,
                const NativeHooks* native = nullptr)
        : en_(rs, pool, opts), horizon_(time_horizon(rs)) {
        en_.use_native(native);
        en_.eval.set_native(native);
        // Indexed by rule, from the first to the last rule of each kind (none without a rule of that kind).
        keys_.set_layout(KeyLayout{static_cast<uint32_t>(rs.sessions.size()), en_.threshold_count,
                                   en_.threshold_first, en_.pattern_count, en_.pattern_first,
                                   static_cast<uint32_t>(en_.models.size())});
    }

    void on_event(const ir::Event& e, ir::DetectionSink& sink) override;
    void advance_watermark(int64_t wm, ir::DetectionSink& sink) override;
    ir::ExecutorStats stats() const override;
    /// The per-key accounting summed afresh (what stats() reports without a budget; under one, stats()
    /// reports the incremental total, which must equal this).
    uint64_t recomputed_state_bytes() const;
    void set_coverage(Coverage* cov) { en_.cov = cov; }
    Status save_state(std::string& out) const override; // snapshot.cpp
    Status restore_state(std::string_view in) override; // snapshot.cpp
    /// state_transfer.cpp: carries the state of unchanged rules from another interpreter.
    bool take_state(ir::Executor& from, ir::StateTransfer& out) override;

private:
    /// The key's state, created when absent. The lookup (a page and an entry of the key table's index) is
    /// inline: every event makes it, and a key is created once per many events.
    KeyState& key_state(uint32_t key) {
        if (KeyState* ks = keys_.find(key)) return *ks;
        return new_key_state(key);
    }
    KeyState& new_key_state(uint32_t key);
    /// advance_watermark's work once some timer is due or some key may be idle: fires the due timers,
    /// then evicts. Out of line: the common call does neither.
    [[gnu::noinline]] void fire_timers(int64_t wm, ir::DetectionSink& sink);
    /// advance_watermark, inline in on_event: most calls (two per event, the caller's and on_event's own)
    /// find no timer due and no key idle, and answer in a few instructions.
    void advance(int64_t wm, ir::DetectionSink& sink) {
        if (!en_.timers.due_before(wm)) {
            if (!en_.opts.evict_idle_keys || wm == ir::kTimeInfinity || wm == evicted_at_) return;
            if (activity_.empty() || !idle_at(activity_.top().time(), wm)) {
                evicted_at_ = wm;
                return;
            }
        }
        fire_timers(wm, sink);
    }
    // Bounded state (docs/architecture.md, "Bounded state").
    static int64_t time_horizon(const ir::RuleSet& rs);
    bool evictable(const KeyState& ks) const;
    void evict_idle(int64_t wm);
    /// Whether a key whose latest event is at `last` is idle at watermark `wm`: wm - last > horizon (as
    /// unsigned: wm >= last, and the difference may exceed INT64_MAX).
    bool idle_at(int64_t last, int64_t wm) const {
        return wm > last &&
               static_cast<uint64_t>(wm) - static_cast<uint64_t>(last) > static_cast<uint64_t>(horizon_);
    }
    void account(KeyState& ks);
    /// Queues `ks` for eviction unless it is queued already. Without a budget, a key with an open session
    /// needs no entry yet: it is not evictable before the session closes, and its session's timer entry
    /// stands for it in the timer queue; it is queued (at the same time, its latest event's) when the
    /// session closes, before the watermark that could evict it is checked (timers fire first). Under a
    /// budget every key is queued: the budget drops the least recently active keys, open sessions or not.
    /// Inline: every event asks, and most keys have an entry or an open session.
    void queue_activity(KeyState& ks) {
        if (ks.queued) return;
        if (en_.opts.max_state_bytes == 0)
            for (const SessionState& s : ks.sessions)
                if (s.open()) return;
        push_activity(ks);
    }
    void push_activity(KeyState& ks);
    void enforce_budget(uint32_t current);
    void drop_key(KeyState& ks);

    Engine en_;
    KeyTable keys_;
    /// Keys by least recent activity, a min-heap of (time of the key's latest event when queued, key); one
    /// entry per key at most (KeyState::queued), re-queued at the key's latest time when found stale. A
    /// heap, not a FIFO, so that every idle key is checked at the same watermark whatever the other keys
    /// do (shards then evict exactly what a single-threaded run evicts).
    std::priority_queue<Activity, std::vector<Activity>, std::greater<>> activity_;
    int64_t horizon_;          ///< longest time bound of the rule set (µs)
    uint64_t total_bytes_ = 0; ///< sum of KeyState::bytes
    bool budget_warned_ = false;
    DetectionBatch batch_;
    std::vector<uint32_t> to_close_;
    uint64_t next_ord_ = 0; ///< processing order of events (see StoredEvent::ord)
    /// The watermark of the last evict_idle pass (INT64_MIN: none yet).
    int64_t evicted_at_ = INT64_MIN;
};

} // namespace ethogram::interp
