// shard_loop.cpp: one shard's walk over the shared, once-validated lines of each chunk (see shard_loop.h).
#include "runtime/shard_loop.h"

#include "runtime/dead_letter.h"
#include "runtime/reorder.h"

#include <algorithm>
#include <csignal>
#include <functional>
#include <unistd.h>
#include <utility>

namespace ethogram::runtime {

ShardLoop::ShardLoop(uint32_t index, uint32_t shards, const ir::RuleSet& rs, const PipelineOptions& o,
                     Shard& shard, DeadLetterWriter* dead, uint64_t kill_at_line)
    : index_(index), shards_(shards), rs_(rs), opts_(o), shard_(shard), dead_(dead), kill_at_(kill_at_line),
      decoder_(rs, shard.pool(), DecoderOptions{o.type_field, o.epoch_unit}),
      lateness_(o.allowed_lateness_us < 0 ? 0 : o.allowed_lateness_us) {}

CompleteResult ShardLoop::on_chunk(Chunk& c) {
    CompleteResult res;
    for (uint32_t b = 0; b < c.nblocks; ++b) {
        const ParseBlock& blk = complete_block(c, b, decoder_, blocks_, scratch_, shards_, res);
        const size_t base = size_t{b} * Chunk::kBlockLines, n = blk.info.size();
        for (size_t j = 0; j < n; ++j) line(c, blk, base + j, j);
    }
    line_no_ = c.first_line + c.lines();
    // The executor moves to the time of the latest event released globally: exactly where the
    // single-threaded run's executor is at this point of the input (so timers fire and idle keys are
    // evicted at the same watermarks). Released events are those at or before the watermark: line() counts
    // those at once; the held ones (pending) are checked here, one pass per chunk, cheaper than every shard
    // keeping a heap of every event.
    size_t keep = 0;
    for (int64_t t : pending_) {
        if (t <= watermark_)
            released_ = std::max(released_, t);
        else
            pending_[keep++] = t;
    }
    pending_.resize(keep);
    shard_.advance(released_);
    return res;
}

void ShardLoop::finish() {
    release(ir::kTimeInfinity);
    times_.clear();
    run_ = TimeRun{};
    buffered_ = 0;
    pending_.clear();
    released_ = max_time_; // the last event released is the latest one
    shard_.advance(released_);
    shard_.advance(ir::kTimeInfinity);
}

void ShardLoop::save(ir::SnapWriter& w) const {
    for (uint64_t v : {line_no_, lines_in_, seq_, reorder_high_water_}) w.u64(v);
    for (int64_t v : {max_time_, watermark_, released_}) w.i64(v);
    // The held events sorted on (time, seq): a valid heap order, as the format has it.
    std::vector<Held> held(fifo_.begin() + static_cast<std::ptrdiff_t>(head_), fifo_.end());
    held.insert(held.end(), heap_.begin(), heap_.end());
    std::sort(held.begin(), held.end(), [](const Held& a, const Held& b) { return Later{}(b, a); });
    w.u64(held.size());
    for (const Held& h : held) {
        w.i64(h.time);
        w.u64(h.seq);
        w.event(events_[h.slot]);
    }
    w.u64(times_.size());
    for (const TimeRun& r : times_) {
        w.i64(r.time);
        w.u64(r.count);
    }
    w.i64(run_.time);
    w.u64(run_.count);
    w.u64(pending_.size());
    for (int64_t t : pending_) w.i64(t);
}

void ShardLoop::restore(ir::SnapReader& r) {
    line_no_ = r.u64();
    lines_in_ = r.u64();
    seq_ = r.u64();
    reorder_high_water_ = r.u64();
    max_time_ = r.i64();
    watermark_ = r.i64();
    released_ = r.i64();
    heap_.resize(r.count(17)); // restored as a heap (older snapshots hold any heap order)
    fifo_.clear();
    head_ = 0;
    events_.clear();
    free_.clear();
    for (Held& h : heap_) {
        h.time = r.i64();
        h.seq = r.u64();
        h.slot = static_cast<uint32_t>(events_.size());
        r.event(events_.emplace_back());
    }
    times_.resize(r.count(16));
    buffered_ = 0;
    for (TimeRun& t : times_) {
        t.time = r.i64();
        t.count = r.u64();
        buffered_ += t.count;
    }
    run_.time = r.i64();
    run_.count = r.u64();
    buffered_ += run_.count;
    pending_.resize(r.count(8));
    for (int64_t& t : pending_) t = r.i64();
    if (r.ok() && (!std::is_heap(heap_.begin(), heap_.end(), Later{}) ||
                   !std::is_heap(times_.begin(), times_.end(), Earlier{})))
        r.fail("a reorder heap is not in heap order");
}

void ShardLoop::count_buffered(int64_t t) {
    // The global reorder buffer holds every non-late event until the watermark reaches its time; only its
    // size matters here (the summary's high-water mark), so times alone suffice, and a run of events with
    // one time (common: many events a millisecond) takes one heap entry.
    if (run_.count != 0 && run_.time == t) {
        ++run_.count;
    } else {
        if (run_.count != 0) {
            times_.push_back(run_);
            std::push_heap(times_.begin(), times_.end(), Earlier{});
        }
        run_ = TimeRun{t, 1};
    }
    ++buffered_;
    reorder_high_water_ = std::max(reorder_high_water_, buffered_);
    while (!times_.empty() && times_.front().time <= watermark_) {
        buffered_ -= times_.front().count;
        std::pop_heap(times_.begin(), times_.end(), Earlier{});
        times_.pop_back();
    }
    if (run_.count != 0 && run_.time <= watermark_) {
        buffered_ -= run_.count;
        run_.count = 0;
    }
}

// Inlined into on_chunk's loop: most lines are other shards' events, for which this is bookkeeping only.
inline void ShardLoop::line(const Chunk& c, const ParseBlock& blk, size_t i, size_t j) {
    const LineInfo& info = blk.info[j];
    if (info.kind == LineInfo::Kind::Blank) return;
    ++lines_in_;
    if (kill_at_ != 0 && lines_in_ == kill_at_) ::kill(::getpid(), SIGKILL); // test hook
    if (info.kind == LineInfo::Kind::Dead) {
        if (dead_) dead(c, blk, i, j);
        return;
    }
    const uint64_t seq = seq_++;
    const int64_t t = info.time;
    if (t < watermark_) {
        if (dead_)
            dead_->write(c.first_line + i + 1, DeadReason::Late,
                         late_detail(t, watermark_, opts_.allowed_lateness_us), c.line(i));
        return;
    }
    if (t > max_time_) {
        max_time_ = t;
        watermark_ = watermark_after(max_time_, lateness_);
        // Whichever shard's event moved the watermark, this shard's held events up to it are due now (they
        // arrived before this one, so they come first whatever its time).
        if (due(watermark_)) release(watermark_);
    }
    // Released now (at or before the watermark) or when a later watermark passes it (pending).
    if (t <= watermark_)
        released_ = std::max(released_, t);
    else if (pending_.empty() || pending_.back() != t)
        pending_.push_back(t);
    if (index_ == 0) count_buffered(t);
    if (info.owner == index_) own(c, blk, i, j, seq);
}

void ShardLoop::dead(const Chunk& c, const ParseBlock& blk, size_t i, size_t j) {
    const ParseBlock::Rec& r = blk.recs[j];
    dead_->write(c.first_line + i + 1, r.reason,
                 std::string_view(blk.arena).substr(r.first, r.last - r.first), c.line(i));
}

void ShardLoop::own(const Chunk& c, const ParseBlock& blk, size_t i, size_t j, uint64_t seq) {
    const ParseBlock::Rec& r = blk.recs[j];
    const int64_t t = blk.info[j].time;
    // In order and not held back (always so without allowed lateness), and none of this shard's events is
    // waiting: released at once (any other event released with it comes before it: t is the watermark, and
    // they arrived earlier), from ev_. Otherwise held, in a slot of events_.
    const bool now = earliest() == nullptr && t <= watermark_;
    uint32_t slot = 0;
    if (!now) {
        if (free_.empty()) {
            slot = static_cast<uint32_t>(events_.size());
            events_.emplace_back();
        } else {
            slot = free_.back();
            free_.pop_back();
        }
    }
    // The event is this shard's alone: copied out of the parse block (whichever shard parsed it) into
    // buffers of this thread's, its strings interned into this shard's pool.
    ir::Event& ev = now ? ev_ : events_[slot];
    const size_t nfields = rs_.events[r.type].fields.size();
    ev.type = r.type;
    ev.key = ir::kNoString;
    ev.id = ir::kNoString;
    ev.time = t;
    ev.line = c.first_line + i + 1;
    ev.fields.assign(blk.values.begin() + r.values, blk.values.begin() + r.values + nfields);
    Decoder::commit_exported(rs_, shard_.pool(), blk.arena, blk.strings.data() + r.first,
                             blk.strings.data() + r.last, ev, c.text());
    ev.seq = seq;
    if (now) {
        shard_.on_event(ev);
        return;
    }
    hold(Held{t, seq, slot});
    if (due(watermark_)) release(watermark_);
}

void ShardLoop::hold(const Held& h) {
    if (head_ == fifo_.size()) { // empty: reuse the storage from the start
        fifo_.clear();
        head_ = 0;
    }
    if (head_ == fifo_.size() || !Later{}(fifo_.back(), h)) {
        if (head_ >= 4096 && head_ * 2 >= fifo_.size()) { // drop the released prefix
            fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        fifo_.push_back(h);
        return;
    }
    heap_.push_back(h);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
}

void ShardLoop::release(int64_t limit) {
    for (;;) {
        const Held* e = earliest();
        if (e == nullptr || e->time > limit) return;
        uint32_t slot = e->slot;
        if (head_ < fifo_.size() && e == &fifo_[head_]) {
            ++head_;
        } else {
            std::pop_heap(heap_.begin(), heap_.end(), Later{});
            slot = heap_.back().slot;
            heap_.pop_back();
        }
        shard_.on_event(events_[slot]);
        free_.push_back(slot);
    }
}

} // namespace ethogram::runtime
