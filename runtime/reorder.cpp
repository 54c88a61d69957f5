// reorder.cpp: the reorder buffer (a binary min-heap on (time, seq)).
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
        watermark_ = watermark_after(max_time_, lateness_);
    }
    return true;
}

void ReorderBuffer::enqueue(ir::Event&& e) {
    heap_.push_back(std::move(e));
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    high_water_ = std::max(high_water_, heap_.size());
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
    while (!heap_.empty() && heap_.front().time <= limit) {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        out.push_back(std::move(heap_.back()));
        heap_.pop_back();
    }
}

void ReorderBuffer::pop_ready(std::vector<ir::Event>& out) {
    pop_while(watermark_, out);
}

void ReorderBuffer::drain(std::vector<ir::Event>& out) {
    pop_while(ir::kTimeInfinity, out);
}

} // namespace ethogram::runtime
