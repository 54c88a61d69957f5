// shard.h: one worker shard of the parallel runtime: its own string pool, executor and output buffer;
// and the detections it hands over for writing.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/expected.h"
#include "runtime/output.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

/// Creates the executor of one shard over that shard's own pool (seeded with ir::seed_string_pool).
/// Called once per shard, on the calling thread, before any event flows; the executor is then used by one
/// thread only. Any ir::Executor fits (the interpreter, a JIT).
using ExecutorFactory = std::function<std::unique_ptr<ir::Executor>(const ir::RuleSet&, ir::StringPool&)>;

/// The stable shard of a key: FNV-1a of its text modulo `shards`.
uint32_t shard_of(std::string_view key, uint32_t shards);

/// A detection formatted by a shard, for the ordered output mode: where its line and its key's text are in
/// the block's buffers (one buffer per block rather than two strings per line: formatting a line into a
/// string of its own reallocated it several times).
struct OrderedRef {
    int64_t time = 0;
    uint64_t seq = 0; ///< production order within the shard
    uint64_t text_off = 0;
    uint32_t text_len = 0;
    uint32_t key_off = 0;
    uint32_t key_len = 0;
    bool suppressed = false;
};

/// What a shard hands over for writing after one input chunk.
struct ShardOutput {
    uint32_t shard = 0;
    std::string detections; ///< unordered mode: JSON lines to append as they are
    std::string suppressed;
    /// Ordered mode: the lines (each with its newline) and keys of `ordered`, in production order; take()
    /// sorts `ordered` by (time, key, seq) on the shard's thread, so the merge only merges sorted runs.
    std::string ordered_text;
    std::string ordered_keys;
    std::vector<OrderedRef> ordered;
    size_t ordered_next = 0;                   ///< the merge's cursor: ordered[0, next) are written
    int64_t frontier = ir::kTimeMinusInfinity; ///< every later detection of this shard has time >= this
    bool end = false;

    std::string_view key(const OrderedRef& r) const { return {ordered_keys.data() + r.key_off, r.key_len}; }
    std::string_view text(const OrderedRef& r) const {
        return {ordered_text.data() + r.text_off, r.text_len};
    }
    /// Appends one line (with its newline) to the ordered buffers, unsorted.
    void add_ordered(int64_t time, std::string_view key, uint64_t seq, bool suppressed,
                     std::string_view text);
    /// Sorts `ordered` by (time, key, seq): the merge's order within one shard.
    void sort_ordered();
};

/// One shard: runs the events of its keys (interned in its own pool) through its executor and formats the
/// detections with its pool (so that ids never cross pools). Used by one thread at a time.
class Shard : public ir::DetectionSink {
public:
    Shard(uint32_t index, const ir::RuleSet& rs, const ExecutorFactory& make, OutputOptions out_opts,
          bool keep_suppressed, bool ordered);

    /// The shard's pool (seeded): events given to on_event must be interned in it.
    ir::StringPool& pool() { return pool_; }
    /// Runs one event of this shard's keys, as the single-threaded driver does: the executor's watermark
    /// moves to the event's time first.
    void on_event(const ir::Event& e);
    /// Moves the executor's watermark to `wm` (timers up to it fire) when it is past the frontier; returns
    /// whether it moved. Every later event of this shard must have time >= `wm`.
    bool advance(int64_t wm);
    /// What to write since the last call; nullptr when there is nothing to tell (no detection, not the
    /// end, and in ordered mode the frontier did not move since the last block).
    std::unique_ptr<ShardOutput> take(bool end);
    /// Gives back what take() returned, once written: its buffers keep their capacity for the next blocks
    /// (a block's text is often hundreds of KiB, grown anew each chunk otherwise).
    void recycle(std::unique_ptr<ShardOutput> o);

    /// Checkpoints: appends the shard's whole state (counters, frontier, production counter, its pool in id
    /// order, the executor's state) to `out`; restore() puts it back into a fresh shard. Between two
    /// chunks only (nothing pending in take()).
    Status save(std::string& out) const;
    Status restore(std::string_view state);

    void emit(ir::Detection&& d) override;
    void suppressed(ir::Detection&& d) override;

    uint64_t processed() const { return processed_; }
    uint64_t emitted() const { return emitted_; }
    uint64_t suppressed_count() const { return suppressed_; }
    uint64_t filtered() const { return filtered_; }
    ir::ExecutorStats stats() const { return exec_ ? exec_->stats() : final_stats_; }
    /// End of the run: keeps the executor's statistics and frees its state and the pool, on the shard's
    /// own thread (freeing a large state is a noticeable serial cost at the end otherwise); with
    /// `free_state` false (the process is about to exit, see PipelineOptions::exit_after) leaves them to
    /// the OS instead.
    void close(bool free_state = true);

private:
    bool keep(const ir::Detection& d);
    void add(const ir::Detection& d, bool suppressed, std::string& unordered_out);
    /// The block being filled (the spare one, or a new one).
    ShardOutput& out();

    uint32_t index_;
    const ir::RuleSet& rs_;
    ir::StringPool pool_;
    std::unique_ptr<ir::Executor> exec_;
    ir::ExecutorStats final_stats_;
    OutputOptions out_opts_;
    std::vector<RulePieces> pieces_; ///< by rule: its constant text, written once (as DetectionWriter)
    bool keep_suppressed_;
    bool ordered_;
    std::unique_ptr<ShardOutput> out_;
    std::unique_ptr<ShardOutput> spare_; ///< a written block, emptied, to fill next
    int64_t frontier_ = ir::kTimeMinusInfinity;
    bool advanced_ = false; ///< the frontier moved since the last take()
    uint64_t seq_ = 0;
    uint64_t processed_ = 0, emitted_ = 0, suppressed_ = 0, filtered_ = 0;
};

} // namespace ethogram::runtime
