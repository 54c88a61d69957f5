// reorder.h: the reorder buffer: watermark, late-event detection and release in (time, arrival) order.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/value.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::runtime {

/// The watermark after seeing `max_time` with `lateness` (>= 0): max_time - lateness, saturating at
/// kTimeMinusInfinity instead of wrapping. Every reorder decision (ReorderBuffer, the sharded scan) uses it.
inline int64_t watermark_after(int64_t max_time, int64_t lateness) {
    return max_time < ir::kTimeMinusInfinity + lateness ? ir::kTimeMinusInfinity : max_time - lateness;
}

/// The dead-letter detail of a late event (one text for every pipeline).
std::string late_detail(int64_t time, int64_t watermark, int64_t allowed_lateness_us);

/// Implements docs/semantics.md section 1. The watermark is W = (largest event time seen) - lateness
/// (kTimeMinusInfinity before any event). An event with time t < W on arrival is late and refused;
/// the others are buffered and released once W >= t, smallest (time, seq) first.
///
/// Most streams arrive nearly in order, so the buffer is two parts (as the sharded scan's ShardLoop): a
/// FIFO of the events that arrived no earlier than the FIFO's last one (already in (time, seq) order:
/// seq grows with arrival), and a min-heap of the others. A binary heap of every buffered event cost
/// log2(size) moves of a whole event per push and per release: 6.5% of a single-threaded run of the
/// e-commerce example x400 (allowed lateness 30 s, up to 12,001 events buffered).
class ReorderBuffer {
public:
    explicit ReorderBuffer(int64_t allowed_lateness_us);

    /// Offers an event. Returns false (and keeps nothing) when it is late. Events must carry distinct,
    /// increasing `seq` numbers in arrival order.
    bool push(ir::Event&& e);

    /// Moves every event with time <= watermark into `out` (cleared first), in (time, seq) order.
    void pop_ready(std::vector<ir::Event>& out);
    /// push(e) then pop_ready(out) in two steps, for a caller that hands an event released at once to its
    /// consumer itself (LineStage, without moving it through a vector or the heap): the verdict on an
    /// event at `time` (the watermark moved as push would). Straight: it would be released at once
    /// (nothing buffered, its time not after the watermark: every event when no lateness is allowed) and
    /// is the caller's now; Buffer: the caller must pass it to push_admitted; Late: drop it (nothing kept).
    enum class Admit : uint8_t { Late, Straight, Buffer };
    Admit admit_event(int64_t time) {
        if (!admit(time)) return Admit::Late;
        if (empty() && time <= watermark_) {
            if (high_water_ == 0) high_water_ = 1;
            return Admit::Straight;
        }
        return Admit::Buffer;
    }
    /// After admit_event said Buffer: buffers `e` and moves every event now ready into `out` (cleared).
    void push_admitted(ir::Event&& e, std::vector<ir::Event>& out);
    /// Moves every buffered event into `out` (end of input), in (time, seq) order.
    void drain(std::vector<ir::Event>& out);

    /// Moves the watermark to `w` if that is later (an embedding program's explicit watermark); the events
    /// it passes are released by the next pop_ready.
    void raise_watermark(int64_t w) { watermark_ = std::max(watermark_, w); }

    int64_t watermark() const { return watermark_; }
    size_t size() const { return fifo_.size() - head_ + heap_.size(); }
    /// Largest number of events buffered at once (for the summary).
    size_t high_water() const { return high_water_; }

    // Checkpoints: the buffer's whole state, and putting it back into a fresh buffer.
    int64_t max_time() const { return max_time_; }
    /// The buffered events in (time, seq) order (which is also a valid min-heap: snapshots have always
    /// held the buffer "in heap order", and a sorted array is one).
    std::vector<const ir::Event*> buffered() const;
    /// Puts a snapshot's buffer back: `events` in any order (a heap, from older snapshots).
    void restore(int64_t max_time, int64_t watermark, size_t high_water, std::vector<ir::Event> events);

private:
    /// The verdict on an event at `time` (false: late), moving the watermark when it is the latest yet.
    bool admit(int64_t time);
    /// Buffers an admitted event.
    void enqueue(ir::Event&& e);
    void pop_while(int64_t limit, std::vector<ir::Event>& out);
    bool empty() const { return head_ == fifo_.size() && heap_.empty(); }

    int64_t lateness_;
    int64_t max_time_ = ir::kTimeMinusInfinity;
    int64_t watermark_ = ir::kTimeMinusInfinity;
    std::vector<ir::Event> fifo_; // [head_, end) buffered, in (time, seq) order; [0, head_) released
    size_t head_ = 0;
    std::vector<ir::Event> heap_; // min-heap on (time, seq): arrivals earlier than the FIFO's last event
    size_t high_water_ = 0;
};

} // namespace ethogram::runtime
