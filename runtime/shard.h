// shard.h: one worker shard of the parallel runtime: its own string pool, executor and output buffer;
// and the wire format of the events and detections that cross threads.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
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

/// A reference to a string held in a WireEvent's `text`: offset << 32 | length.
using TextRef = uint64_t;
constexpr TextRef kNoText = UINT64_MAX;

/// A decoded event on its way to a shard. Strings are not interned yet: the shard interns them into its
/// own pool. `ev.key` and `ev.id` are unset; `key` and `id` refer to `text`, and so does `Value::i` of every
/// String-typed field.
struct WireEvent {
    ir::Event ev;
    std::string text;
    TextRef key = kNoText;
    TextRef id = kNoText;
    uint32_t shard = 0; ///< which shard owns the key (hash of the key's text)
};

/// Rewrites `ev`'s pool ids (interned in `scratch`) as references into `w.text`; `w.ev` takes `ev`.
void pack_event(ir::Event&& ev, const ir::StringPool& scratch, WireEvent& w);
/// The stable shard of a key: FNV-1a of its text modulo `shards`.
uint32_t shard_of(std::string_view key, uint32_t shards);

/// Events for one shard, in release order, then a watermark the shard advances its executor to.
struct ShardInput {
    std::vector<WireEvent> events;
    int64_t watermark = ir::kTimeMinusInfinity; ///< time of the latest event released globally so far
    bool end = false;                           ///< end of input: advance to +infinity afterwards
};

/// A detection formatted by a shard, for the ordered output mode.
struct OrderedLine {
    int64_t time = 0;
    std::string key;
    uint64_t seq = 0; ///< production order within the shard
    uint32_t shard = 0;
    bool suppressed = false;
    std::string text; ///< the JSON line, with its newline
};

/// What a shard hands the writer after one input batch.
struct ShardOutput {
    uint32_t shard = 0;
    std::string detections; ///< unordered mode: JSON lines to append as they are
    std::string suppressed;
    std::vector<OrderedLine> ordered;          ///< ordered mode
    int64_t frontier = ir::kTimeMinusInfinity; ///< every later detection of this shard has time >= this
    bool end = false;
};

/// One shard: translates events into its pool, runs them through its executor and formats the
/// detections with its pool (so that ids never cross pools). Used by one thread at a time.
class Shard : public ir::DetectionSink {
public:
    Shard(uint32_t index, const ir::RuleSet& rs, const ExecutorFactory& make, OutputOptions out_opts,
          bool keep_suppressed, bool ordered);

    /// Processes one batch; returns what to write (nullptr when there is nothing to tell the writer).
    std::unique_ptr<ShardOutput> process(ShardInput& in);

    void emit(ir::Detection&& d) override;
    void suppressed(ir::Detection&& d) override;

    uint64_t processed() const { return processed_; }
    uint64_t emitted() const { return emitted_; }
    uint64_t suppressed_count() const { return suppressed_; }
    uint64_t filtered() const { return filtered_; }
    ir::ExecutorStats stats() const { return exec_->stats(); }

private:
    bool keep(const ir::Detection& d);
    void add(const ir::Detection& d, bool suppressed, std::string& unordered_out);

    uint32_t index_;
    const ir::RuleSet& rs_;
    ir::StringPool pool_;
    std::unique_ptr<ir::Executor> exec_;
    OutputOptions out_opts_;
    bool keep_suppressed_;
    bool ordered_;
    std::unique_ptr<ShardOutput> out_;
    int64_t frontier_ = ir::kTimeMinusInfinity;
    uint64_t seq_ = 0;
    uint64_t processed_ = 0, emitted_ = 0, suppressed_ = 0, filtered_ = 0;
};

} // namespace ethogram::runtime
