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
/// single-threaded run (dead letters, sequence numbers, watermark, late check, reorder release order), so
/// that they agree in every shard without any communication; commits (interns into its own pool) and runs
/// only the events whose key hashes to this shard. Dead letters are written by shard 0 only, in input order.
class ShardLoop {
public:
    ShardLoop(uint32_t index, uint32_t shards, const ir::RuleSet& rs, const PipelineOptions& o, Shard& shard,
              DeadLetterWriter* dead, uint64_t kill_at_line);

    /// This shard's decoder, for its share of the parsing (parse_blocks); interns nothing.
    Decoder& decoder() { return decoder_; }

    /// Walks a chunk whose every block is parsed (wait_parsed), then moves the executor to the time of the
    /// latest event released globally. Takes the events of this shard's keys out of the chunk's results.
    void on_chunk(Chunk& c);

    /// End of input: releases everything, then advances to the last released time (the single-threaded run's
    /// last finite watermark, where its executor last evicts idle keys, so live-key counts agree) and to
    /// +infinity.
    void finish();

    uint64_t lines_in() const { return lines_in_; }
    uint64_t seq() const { return seq_; }
    uint64_t reorder_high_water() const { return reorder_high_water_; }

    /// Checkpoints: the walking state (between chunks), with the held events of this shard's keys.
    void save(ir::SnapWriter& w) const;
    void restore(ir::SnapReader& r);

private:
    /// A buffered event: only time and sequence number, and for this shard's keys the slot of the event.
    struct Held {
        int64_t time;
        uint64_t seq;
        uint32_t slot; ///< in events_, or kNotOwn
    };
    static constexpr uint32_t kNotOwn = UINT32_MAX;
    struct Later {
        bool operator()(const Held& a, const Held& b) const {
            return a.time != b.time ? a.time > b.time : a.seq > b.seq;
        }
    };

    void line(Chunk& c, size_t i);
    void release(int64_t limit);

    uint32_t index_, shards_;
    const ir::RuleSet& rs_;
    const PipelineOptions& opts_;
    Shard& shard_;
    DeadLetterWriter* dead_;
    uint64_t kill_at_;
    Decoder decoder_;
    ir::Event ev_;
    int64_t lateness_;
    uint64_t line_no_ = 0, lines_in_ = 0, seq_ = 0;
    int64_t max_time_ = ir::kTimeMinusInfinity;
    int64_t watermark_ = ir::kTimeMinusInfinity;
    int64_t released_ = ir::kTimeMinusInfinity; ///< time of the latest event released (globally)
    std::vector<Held> heap_;                    ///< min-heap on (time, seq), every shard's events
    std::vector<ir::Event> events_;             ///< the held events of this shard's keys, by slot
    std::vector<uint32_t> free_;                ///< free slots of events_
    uint64_t reorder_high_water_ = 0;
};

} // namespace ethogram::runtime
