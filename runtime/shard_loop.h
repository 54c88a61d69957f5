// shard_loop.h: one shard's walk over every line of every chunk, with the single-threaded run's decisions
// (internal to runtime/: the parallel pipeline's per-shard driver).
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/snapshot_bytes.h"
#include "runtime/chunk_scan.h"
#include "runtime/decoder.h"
#include "runtime/pipeline.h"
#include "runtime/shard.h"

#include <cstdint>
#include <vector>

namespace ethogram::runtime {

class DeadLetterWriter;

/// One shard's thread: walks every line of every chunk, in input order, using the chunk's shared results
/// (each line validated once, by whichever shard parsed its block), and takes the same decisions as the
/// single-threaded run (dead letters, sequence numbers, watermark, late check), so that they agree in every
/// shard without any communication; commits (interns into its own pool) and runs only the events whose key
/// hashes to this shard, through a reorder heap of its own events (their release order is the global
/// (time, seq) order restricted to them). Shard 0 alone writes the dead letters, in input order, and keeps
/// the times of every buffered event (for the reorder buffer's high-water mark in the summary).
class ShardLoop {
public:
    ShardLoop(uint32_t index, uint32_t shards, const ir::RuleSet& rs, const PipelineOptions& o, Shard& shard,
              DeadLetterWriter* dead, uint64_t kill_at_line);

    /// This shard's share of the parsing of `c` (parse_blocks with its decoder, into its own blocks);
    /// interns nothing. Returns the number of blocks parsed.
    uint32_t parse(Chunk& c) { return parse_blocks(c, decoder_, blocks_, scratch_, shards_); }
    /// Walks a chunk block by block, each once published (complete_block: waiting briefly for a block still
    /// being parsed, parsing itself one a stalled claimer holds), then moves the executor to the time of
    /// the latest event released globally. Copies the events of this shard's keys out of the chunk's blocks
    /// (into buffers of its own; the published blocks are read-only to it). Returns what the waits did.
    CompleteResult on_chunk(Chunk& c);

    /// End of input: releases everything, then advances to the largest event time (the single-threaded run's
    /// last finite watermark, where its executor last evicts idle keys, so live-key counts agree) and to
    /// +infinity.
    void finish();

    uint64_t lines_in() const { return lines_in_; }
    uint64_t seq() const { return seq_; }
    uint64_t reorder_high_water() const { return reorder_high_water_; }

    /// Checkpoints: the walking state (between chunks), with the held events of this shard's keys (and on
    /// shard 0 the times of every held event).
    void save(ir::SnapWriter& w) const;
    void restore(ir::SnapReader& r);

private:
    /// A buffered event of this shard's keys: time, sequence number, and the slot of the event.
    struct Held {
        int64_t time;
        uint64_t seq;
        uint32_t slot; ///< in events_
    };
    struct Later {
        bool operator()(const Held& a, const Held& b) const {
            return a.time != b.time ? a.time > b.time : a.seq > b.seq;
        }
    };

    /// Line `i` of `c`, line `j` of its block `blk`.
    void line(const Chunk& c, const ParseBlock& blk, size_t i, size_t j);
    /// An event of this shard's keys, not late: copied out of its block, then run or held.
    void own(const Chunk& c, const ParseBlock& blk, size_t i, size_t j, uint64_t seq);
    void dead(const Chunk& c, const ParseBlock& blk, size_t i, size_t j);
    void hold(const Held& h);
    /// The earliest held event (on (time, seq)), or null when none is held. Inline: called for most lines
    /// (every event of this shard's keys, and every line that moves the watermark), usually with no heap.
    const Held* earliest() const {
        const Held* f = head_ < fifo_.size() ? &fifo_[head_] : nullptr;
        if (heap_.empty()) return f;
        return f == nullptr || Later{}(*f, heap_.front()) ? &heap_.front() : f;
    }
    /// Whether a held event is due at `limit` (release's first test, without the call when none is).
    bool due(int64_t limit) const {
        const Held* e = earliest();
        return e != nullptr && e->time <= limit;
    }
    void release(int64_t limit);
    void count_buffered(int64_t t); // shard 0: the reorder buffer's size, as ReorderBuffer counts it

    uint32_t index_, shards_;
    const ir::RuleSet& rs_;
    const PipelineOptions& opts_;
    Shard& shard_;
    DeadLetterWriter* dead_;
    uint64_t kill_at_;
    Decoder decoder_;
    BlockPool blocks_;  ///< where this shard parses (must outlive every chunk: see parallel.cpp)
    ir::Event scratch_; ///< the line this shard's parse decodes
    ir::Event ev_;      ///< an event of this shard's keys run at once (its buffers never leave the thread)
    int64_t lateness_;
    uint64_t line_no_ = 0, lines_in_ = 0, seq_ = 0;
    int64_t max_time_ = ir::kTimeMinusInfinity;
    int64_t watermark_ = ir::kTimeMinusInfinity;
    /// This shard's held events, in two parts: those that arrived in order (each at or after the latest one
    /// held then: most events, even with allowed lateness), in a FIFO sorted on (time, seq) (`fifo_` from
    /// `head_` on), and the others in a min-heap on (time, seq). Released from whichever front is earlier:
    /// the same order as one heap of all, without a heap's log n sifting for the in-order ones.
    std::vector<Held> fifo_;
    size_t head_ = 0;
    std::vector<Held> heap_;
    std::vector<ir::Event> events_; ///< the held events of this shard's keys, by slot
    std::vector<uint32_t> free_;    ///< free slots of events_
    /// Shard 0: the times of every shard's held events, as runs of equal times: a min-heap, and the latest
    /// run (not in the heap yet); `buffered_` events in all.
    struct TimeRun {
        int64_t time = 0;
        uint64_t count = 0;
    };
    struct Earlier {
        bool operator()(const TimeRun& a, const TimeRun& b) const { return a.time > b.time; }
    };
    std::vector<TimeRun> times_;
    TimeRun run_;
    uint64_t buffered_ = 0;
    /// Times of every shard's events held back (after the watermark when they arrived) and not known
    /// released yet (an arrival with the time of the one before is not repeated: only the times matter).
    std::vector<int64_t> pending_;
    int64_t released_ = ir::kTimeMinusInfinity; ///< time of the latest event released (globally)
    uint64_t reorder_high_water_ = 0;
};

} // namespace ethogram::runtime
