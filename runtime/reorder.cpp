// reorder.cpp: the reorder buffer (a FIFO of in-order arrivals and a min-heap of the others, on (time, seq)).
#include "runtime/reorder.h"

#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>

namespace ethogram::runtime {

namespace {

// std::push_heap builds a max-heap: "less" is "later", so the earliest (time, seq) sits on top.
struct Later {
    bool operator()(const ir::Event& a, const ir::Event& b) const {
        return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
};

} // namespace

std::string late_detail(int64_t time, int64_t watermark, int64_t allowed_lateness_us) {
    return fmt::format("event time {} is before the watermark {} (allowed lateness {})", format_rfc3339(time),
                       format_rfc3339(watermark), format_duration(allowed_lateness_us));
}

ReorderBuffer::ReorderBuffer(int64_t allowed_lateness_us)
    : lateness_(allowed_lateness_us < 0 ? 0 : allowed_lateness_us) {}

bool ReorderBuffer::admit(int64_t time) {
    if (time < watermark_) return false;
    if (time > max_time_) {
        max_time_ = time;
        // Never back: raise_watermark may have moved it past what the event times say.
        watermark_ = std::max(watermark_, watermark_after(max_time_, lateness_));
    }
    return true;
}

void ReorderBuffer::enqueue(ir::Event&& e) {
    if (head_ == fifo_.size()) { // nothing in the FIFO: reuse its storage from the start
        fifo_.clear();
        head_ = 0;
    }
    if (head_ == fifo_.size() || !Later{}(fifo_.back(), e)) {
        // Released events' slots are dropped once they are half the FIFO: amortised O(1) per event.
        if (head_ >= 4096 && head_ * 2 >= fifo_.size()) {
            fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        fifo_.push_back(std::move(e));
    } else {
        heap_.push_back(std::move(e));
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
    high_water_ = std::max(high_water_, size());
}

bool ReorderBuffer::push(ir::Event&& e) {
    if (!admit(e.time)) return false;
    enqueue(std::move(e));
    return true;
}

void ReorderBuffer::push_admitted(ir::Event&& e, std::vector<ir::Event>& out) {
    enqueue(std::move(e));
    pop_while(watermark_, out);
}

void ReorderBuffer::pop_while(int64_t limit, std::vector<ir::Event>& out) {
    out.clear();
    for (;;) {
        ir::Event* f = head_ < fifo_.size() ? &fifo_[head_] : nullptr;
        if (!heap_.empty() && (f == nullptr || Later{}(*f, heap_.front()))) {
            if (heap_.front().time > limit) return;
            std::pop_heap(heap_.begin(), heap_.end(), Later{});
            out.push_back(std::move(heap_.back()));
            heap_.pop_back();
        } else {
            if (f == nullptr || f->time > limit) return;
            out.push_back(std::move(*f));
            ++head_;
        }
    }
}

std::vector<const ir::Event*> ReorderBuffer::buffered() const {
    std::vector<const ir::Event*> all;
    all.reserve(size());
    for (size_t i = head_; i < fifo_.size(); ++i) all.push_back(&fifo_[i]);
    for (const ir::Event& e : heap_) all.push_back(&e);
    std::sort(all.begin(), all.end(), [](const ir::Event* a, const ir::Event* b) { return Later{}(*b, *a); });
    return all;
}

void ReorderBuffer::restore(int64_t max_time, int64_t watermark, size_t high_water,
                            std::vector<ir::Event> events) {
    max_time_ = max_time;
    watermark_ = watermark;
    high_water_ = high_water;
    std::sort(events.begin(), events.end(),
              [](const ir::Event& a, const ir::Event& b) { return Later{}(b, a); });
    fifo_ = std::move(events);
    head_ = 0;
    heap_.clear();
}

void ReorderBuffer::pop_ready(std::vector<ir::Event>& out) {
    pop_while(watermark_, out);
}

void ReorderBuffer::drain(std::vector<ir::Event>& out) {
    pop_while(ir::kTimeInfinity, out);
}

} // namespace ethogram::runtime
