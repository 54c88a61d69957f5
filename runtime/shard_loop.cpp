// shard_loop.cpp: one shard's walk over the shared, once-validated lines of each chunk (see shard_loop.h).
#include "runtime/shard_loop.h"

#include "runtime/dead_letter.h"
#include "runtime/reorder.h"

#include <algorithm>
#include <csignal>
#include <unistd.h>
#include <utility>

namespace ethogram::runtime {

ShardLoop::ShardLoop(uint32_t index, uint32_t shards, const ir::RuleSet& rs, const PipelineOptions& o,
                     Shard& shard, DeadLetterWriter* dead, uint64_t kill_at_line)
    : index_(index), shards_(shards), rs_(rs), opts_(o), shard_(shard), dead_(dead), kill_at_(kill_at_line),
      decoder_(rs, shard.pool(), DecoderOptions{o.type_field, o.epoch_unit}),
      lateness_(o.allowed_lateness_us < 0 ? 0 : o.allowed_lateness_us) {}

void ShardLoop::on_chunk(Chunk& c) {
    const size_t n = c.lines();
    for (size_t i = 0; i < n; ++i) line(c, i);
    shard_.advance(released_);
}

void ShardLoop::finish() {
    release(ir::kTimeInfinity);
    shard_.advance(released_);
    shard_.advance(ir::kTimeInfinity);
}

void ShardLoop::save(ir::SnapWriter& w) const {
    for (uint64_t v : {line_no_, lines_in_, seq_, reorder_high_water_}) w.u64(v);
    for (int64_t v : {max_time_, watermark_, released_}) w.i64(v);
    w.u64(heap_.size());
    for (const Held& h : heap_) {
        w.i64(h.time);
        w.u64(h.seq);
        w.boolean(h.slot != kNotOwn);
        if (h.slot != kNotOwn) w.event(events_[h.slot]);
    }
}

void ShardLoop::restore(ir::SnapReader& r) {
    line_no_ = r.u64();
    lines_in_ = r.u64();
    seq_ = r.u64();
    reorder_high_water_ = r.u64();
    max_time_ = r.i64();
    watermark_ = r.i64();
    released_ = r.i64();
    heap_.resize(r.count(17));
    events_.clear();
    free_.clear();
    for (Held& h : heap_) {
        h.time = r.i64();
        h.seq = r.u64();
        h.slot = kNotOwn;
        if (r.boolean()) {
            h.slot = static_cast<uint32_t>(events_.size());
            r.event(events_.emplace_back());
        }
    }
}

void ShardLoop::line(Chunk& c, size_t i) {
    ++line_no_;
    LineResult& r = c.results[i];
    if (r.kind == LineResult::Kind::Blank) return;
    ++lines_in_;
    if (kill_at_ != 0 && lines_in_ == kill_at_) ::kill(::getpid(), SIGKILL); // test hook
    if (r.kind == LineResult::Kind::Dead) {
        if (dead_) dead_->write(line_no_, r.reason, r.detail, c.line(i));
        return;
    }
    const uint64_t seq = seq_++;
    const int64_t t = r.time;
    if (t < watermark_) {
        if (dead_)
            dead_->write(line_no_, DeadReason::Late, late_detail(t, watermark_, opts_.allowed_lateness_us),
                         c.line(i));
        return;
    }
    if (t > max_time_) {
        max_time_ = t;
        watermark_ = watermark_after(max_time_, lateness_);
    }
    const bool own = r.owner == index_;
    if (own) {
        // The event is this shard's alone: take it out of the results (they get ev_'s old buffers back to
        // decode into when the chunk is recycled) and intern its strings into this shard's pool.
        std::swap(ev_, r.ev);
        const ParseBlock& blk = c.blocks[r.block];
        Decoder::commit_exported(rs_, shard_.pool(), blk.arena, blk.strings.data() + r.first,
                                 blk.strings.data() + r.last, ev_);
        ev_.seq = seq;
    }
    if (heap_.empty() && t <= watermark_) {
        // In order and not held back (always so without allowed lateness): buffered and released at once.
        reorder_high_water_ = std::max<uint64_t>(reorder_high_water_, 1);
        released_ = t;
        if (own) shard_.on_event(ev_);
        return;
    }
    uint32_t slot = kNotOwn;
    if (own) {
        if (free_.empty()) {
            slot = static_cast<uint32_t>(events_.size());
            events_.emplace_back();
        } else {
            slot = free_.back();
            free_.pop_back();
        }
        std::swap(events_[slot], ev_); // ev_ takes the slot's old buffers
    }
    heap_.push_back(Held{t, seq, slot});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    reorder_high_water_ = std::max<uint64_t>(reorder_high_water_, heap_.size());
    release(watermark_);
}

void ShardLoop::release(int64_t limit) {
    while (!heap_.empty() && heap_.front().time <= limit) {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        const Held h = heap_.back();
        heap_.pop_back();
        released_ = h.time;
        if (h.slot != kNotOwn) {
            shard_.on_event(events_[h.slot]);
            free_.push_back(h.slot);
        }
    }
}

} // namespace ethogram::runtime
