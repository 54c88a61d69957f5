// timer_queue.h: the interpreter's timer entries and their queue (a calendar of 128-bit ranks).
// Internal header.
#pragma once

#include "compiler/ir/event.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace ethogram::interp {

/// A timer entry, 16 bytes. Slots order the timers of one key at one deadline: sessions first (slot =
/// session index), then pattern rules (slot = sessions + rule index). Entries are invalidated lazily: an
/// entry is live only while its owner is waiting for a timer at exactly its deadline
/// (SessionState::timer_at of an open session, PatternState::timer_deadline while scheduled). Two entries
/// of one owner at one deadline are indistinguishable: whichever is popped first acts (what a timer does
/// depends only on its deadline and its owner's state), and the owner then waits for another deadline or
/// none, so the other is a no-op. (A 64-bit generation per entry made them 24 bytes.)
struct Timer {
    int64_t deadline = 0;
    uint32_t key = ir::kNoString;
    uint32_t slot = 0;
    bool operator>(const Timer& o) const {
        if (deadline != o.deadline) return deadline > o.deadline;
        if (key != o.key) return key > o.key;
        return slot > o.slot;
    }
};

static_assert(sizeof(Timer) == 16, "a timer entry is 16 bytes");

/// The timer queue: pops Timers in (deadline, key, slot) order, the order of the std::priority_queue it
/// replaced (but top() returns a copy; entries that compare equal are indistinguishable, see Timer).
///
/// An entry is stored as its rank, one unsigned 128-bit number ordered as (deadline, key, slot): the
/// deadline with its sign bit flipped, then key << 32 | slot.
///
/// A calendar queue: the interpreter pushes entries at or after the time of the event or timer that sets
/// them, a few minutes to hours ahead, and pops them in order as the watermark passes them. Entries are
/// kept by bucket (their deadline's 2^kShift µs, about 8.4 s) in a ring of kRing buckets (about 4.8 h)
/// starting at the bucket of the least entry (`base_`): a push appends to its bucket, and a bucket is
/// sorted once, when it becomes the first (a pop then takes its last entry). This replaced a 4-ary heap
/// whose pops walked every level of a heap of all pending timers (about 260 instructions per timer on
/// the bench: docs/performance-history.md). Entries past the ring wait in a heap (`far_`) and move into the
/// ring as it advances; an entry before the first bucket (restored or carried state, events out of time
/// order) goes to a heap (`early_`) whose entries all rank below every other, so it is popped first.
/// due_before() advances `base_` only to a due entry, or (an empty ring) to the bucket of the time it was
/// asked about, never past the watermark, so that the timers set by the next events land in the ring
/// (top() and pop() advance it to the least entry, due or not).
class TimerQueue {
public:
    TimerQueue() : ring_(kRing) {}
    bool empty() const { return n_ == 0; }
    size_t size() const { return n_; }
    /// The least entry (the queue is not empty).
    Timer top() const {
        if (!early_.empty()) return timer(early_.top());
        settle(UINT64_MAX);
        return timer(ring_[base_ & kMask].back());
    }
    /// Whether some entry's deadline is before `t` (top().deadline < t).
    bool due_before(int64_t t) const {
        if (n_ == 0 || t <= low_) return false; // most calls (one per event)
        if (!early_.empty()) return deadline_of(early_.top()) < t;
        // An entry with a deadline before t is in t's bucket or before it.
        if (!settle(bucket(static_cast<uint64_t>(t) ^ kSign))) return false;
        low_ = deadline_of(ring_[base_ & kMask].back());
        return low_ < t;
    }
    /// Inline: most pushes (a pattern rule's or a session's next deadline, minutes ahead) go to a ring bucket
    /// after the first one, with room left: an append and a mask bit, without push_slow's frame (about 25
    /// instructions of the 70 of a push were the frame and its saved registers).
    void push(const Timer& t) {
        const U128 r = rank(t);
        const uint64_t b = bucket_of(r);
        std::vector<U128>& v = ring_[b & kMask];
        // base_ < b < base_ + kRing (unsigned: b <= base_ wraps to a large difference).
        if (b - base_ - 1 < kRing - 1 && v.size() < v.capacity()) [[likely]] {
            ++n_;
            low_ = std::min(low_, t.deadline);
            hint_ = std::min(hint_, b);
            // Known to have room: without its growth path, push_back needs no frame here.
            if (v.size() == v.capacity()) __builtin_unreachable();
            v.push_back(r);
            ++ring_n_;
            mask_[(b & kMask) >> 6] |= uint64_t{1} << (b & 63);
            return;
        }
        push_slow(r, t.deadline);
    }
    void pop() {
        --n_;
        if (!early_.empty()) {
            early_.pop();
            return;
        }
        settle(UINT64_MAX);
        std::vector<U128>& first = ring_[base_ & kMask];
        first.pop_back();
        --ring_n_;
        if (first.empty()) mask_[(base_ & kMask) >> 6] &= ~(uint64_t{1} << (base_ & 63));
    }

private:
    __extension__ using U128 = unsigned __int128;
    /// 8.4 s buckets (half the 17 s ones before): a first bucket's sort is over half the entries, about one
    /// comparison less per entry; the ring keeps its span (jit / 50 rules: 30 fewer instructions per event,
    /// the three rules 2 more; 4.2 s buckets were no better, 1 s ones worse).
    static constexpr unsigned kShift = 23;
    static constexpr uint64_t kRing = 2048, kMask = kRing - 1;
    static constexpr uint64_t kSign = uint64_t{1} << 63;
    static U128 rank(const Timer& t) {
        const uint64_t hi = static_cast<uint64_t>(t.deadline) ^ kSign;
        return (U128{hi} << 64) | (uint64_t{t.key} << 32) | t.slot;
    }
    static int64_t deadline_of(U128 r) {
        return static_cast<int64_t>(static_cast<uint64_t>(r >> 64) ^ kSign);
    }
    static Timer timer(U128 r) {
        const auto lo = static_cast<uint64_t>(r);
        return Timer{deadline_of(r), static_cast<uint32_t>(lo >> 32), static_cast<uint32_t>(lo)};
    }
    static uint64_t bucket(uint64_t hi) { return hi >> kShift; }
    static uint64_t bucket_of(U128 r) { return bucket(static_cast<uint64_t>(r >> 64)); }
    /// push's other cases: the first bucket (sorted: into its place), a bucket that must grow, far_, early_,
    /// or an empty queue whose ring may start anywhere.
    [[gnu::noinline]] void push_slow(U128 r, int64_t deadline) {
        ++n_;
        low_ = std::min(low_, deadline);
        const uint64_t b = bucket_of(r);
        if (b < base_ && n_ == 1) {
            // The queue was empty: the ring may start anywhere (not later: a later entry may be due
            // before the next ones pushed).
            base_ = b;
            sorted_ = false;
        } else if (b < base_) {
            early_.push(r);
            return;
        }
        hint_ = std::min(hint_, b);
        if (b >= base_ + kRing) {
            far_.push(r);
            return;
        }
        put(r, b);
    }
    /// Adds `r` to ring bucket `b` (base_ <= b < base_ + kRing); into its place when `b` is the first
    /// bucket and sorted (descending: the least entry last).
    void put(U128 r, uint64_t b) const {
        std::vector<U128>& v = ring_[b & kMask];
        if (b == base_ && sorted_)
            v.insert(std::upper_bound(v.begin(), v.end(), r, std::greater<>()), r);
        else
            v.push_back(r);
        ++ring_n_;
        mask_[(b & kMask) >> 6] |= uint64_t{1} << (b & 63);
    }
    /// Moves base_ to the bucket of the least entry of the ring and `far_` when that bucket is at most
    /// `limit`, and sorts it: true then. False (base_ unchanged) when there is none or it is later.
    bool settle(uint64_t limit) const {
        if (hint_ > limit) return false;                           // the least entry is known to be later
        if (sorted_ && !ring_[base_ & kMask].empty()) return true; // most other calls
        return find_first(limit);
    }
    /// settle's loop: out of line, so that its common answers above need no frame.
    [[gnu::noinline]] bool find_first(uint64_t limit) const {
        for (;;) {
            if (!ring_[base_ & kMask].empty()) {
                if (!sorted_) {
                    std::vector<U128>& v = ring_[base_ & kMask];
                    std::sort(v.begin(), v.end(), std::greater<>());
                    sorted_ = true;
                }
                return true;
            }
            const uint64_t next = ring_n_ > 0 ? next_bucket() : UINT64_MAX;
            const uint64_t far = far_.empty() ? UINT64_MAX : bucket_of(far_.top());
            const uint64_t target = std::min(next, far);
            hint_ = target;
            if (target == UINT64_MAX) return false;
            // No entry is before the target bucket (early_ is empty when this is called).
            low_ = std::max(low_, static_cast<int64_t>((target << kShift) ^ kSign));
            if (target > limit) {
                // Nothing due. An empty ring moves up to the watermark's bucket (every entry is later),
                // so that the timers the next events set land in it rather than in far_.
                if (ring_n_ == 0 && limit != UINT64_MAX && limit > base_) {
                    base_ = limit;
                    sorted_ = false;
                    migrate();
                }
                return false;
            }
            base_ = target;
            sorted_ = false;
            migrate();
        }
    }
    /// Moves the entries of far_ that the ring now covers into it.
    void migrate() const {
        while (!far_.empty() && bucket_of(far_.top()) < base_ + kRing) {
            const U128 r = far_.top();
            far_.pop();
            put(r, bucket_of(r));
        }
    }
    /// The first non-empty ring bucket after base_ (the ring holds an entry, and base_'s bucket is empty).
    uint64_t next_bucket() const {
        const uint64_t start = base_ & kMask;
        uint64_t w = start >> 6;
        uint64_t bits = mask_[w] & (~uint64_t{0} << (start & 63));
        // The first word from base_ on, the others, then the first word's bits before base_ (the end of
        // the ring).
        for (uint64_t k = 0; k <= kRing / 64; ++k) {
            if (bits != 0) {
                const uint64_t i = (w << 6) + static_cast<uint64_t>(__builtin_ctzll(bits));
                return base_ + ((i - start) & kMask);
            }
            w = (w + 1) & (kRing / 64 - 1);
            bits = mask_[w];
        }
        return UINT64_MAX;
    }

    size_t n_ = 0;
    // Mutable: top() and due_before() advance the ring to the least entry, which changes no entry.
    mutable uint64_t base_ = 0;   ///< the bucket of the ring's first slot (ring_[base_ & kMask])
    mutable bool sorted_ = false; ///< the first bucket is sorted (descending)
    mutable size_t ring_n_ = 0;   ///< entries in the ring
    /// At or before the bucket of the least entry of the ring and far_ (settle's answer until a push).
    mutable uint64_t hint_ = 0;
    /// At or before the least entry's deadline (due_before's first answer).
    mutable int64_t low_ = INT64_MIN;
    mutable std::vector<std::vector<U128>> ring_;
    mutable std::array<uint64_t, kRing / 64> mask_{}; ///< bit i: ring_[i] is not empty
    mutable std::priority_queue<U128, std::vector<U128>, std::greater<>> far_;
    std::priority_queue<U128, std::vector<U128>, std::greater<>> early_;
};

} // namespace ethogram::interp
