// reorder.h: the reorder buffer: watermark, late-event detection and release in (time, arrival) order.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/value.h"

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
        if (heap_.empty() && time <= watermark_) {
            if (high_water_ == 0) high_water_ = 1;
            return Admit::Straight;
        }
        return Admit::Buffer;
    }
    /// After admit_event said Buffer: buffers `e` and moves every event now ready into `out` (cleared).
    void push_admitted(ir::Event&& e, std::vector<ir::Event>& out);
    /// Moves every buffered event into `out` (end of input), in (time, seq) order.
    void drain(std::vector<ir::Event>& out);

    int64_t watermark() const { return watermark_; }
    size_t size() const { return heap_.size(); }
    /// Largest number of events buffered at once (for the summary).
    size_t high_water() const { return high_water_; }

    // Checkpoints: the buffer's whole state, and putting it back into a fresh buffer.
    int64_t max_time() const { return max_time_; }
    const std::vector<ir::Event>& buffered() const { return heap_; } ///< in heap order
    void restore(int64_t max_time, int64_t watermark, size_t high_water, std::vector<ir::Event> heap) {
        max_time_ = max_time;
        watermark_ = watermark;
        high_water_ = high_water;
        heap_ = std::move(heap);
    }

private:
    /// The verdict on an event at `time` (false: late), moving the watermark when it is the latest yet.
    bool admit(int64_t time);
    /// Buffers an admitted event.
    void enqueue(ir::Event&& e);
    void pop_while(int64_t limit, std::vector<ir::Event>& out);

    int64_t lateness_;
    int64_t max_time_ = ir::kTimeMinusInfinity;
    int64_t watermark_ = ir::kTimeMinusInfinity;
    std::vector<ir::Event> heap_; // min-heap on (time, seq)
    size_t high_water_ = 0;
};

} // namespace ethogram::runtime
