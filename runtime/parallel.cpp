// parallel.cpp: the parallel keyed pipeline: a oneTBB parallel_pipeline for ingestion, one thread per
// shard, one writer thread, bounded queues between them (backpressure).
#include "runtime/parallel.h"

#include "runtime/decoder.h"
#include "runtime/line_reader.h"
#include "runtime/output_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace ethogram::runtime {

namespace {

/// Orders what the calling thread set up (router, mutexes, queues) before oneTBB's worker threads run a
/// stage: the worker threads outlive one run, and their hand-off happens inside libtbb.so, which
/// ThreadSanitizer does not see. Constant-initialised (no runtime write to race with); a release RMW
/// before each run, an acquire load at the start of every stage invocation (once per chunk).
std::atomic<uint64_t> g_pipeline_epoch{0};
void acquire_setup() {
    (void)g_pipeline_epoch.load(std::memory_order_acquire);
}

using InQueue = tbb::concurrent_bounded_queue<std::unique_ptr<ShardInput>>;
using OutQueue = tbb::concurrent_bounded_queue<std::unique_ptr<ShardOutput>>;

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

struct LineRef {
    size_t off = 0;
    size_t len = 0;
    uint64_t line_no = 0;
};

struct Decoded {
    bool ok = false;
    WireEvent w;
    DecodeError err;
};

/// A block of input lines and, after the parallel stage, their decoded events or dead-letter reasons.
/// oneTBB hands a chunk from stage to stage inside its library, which ThreadSanitizer does not see:
/// `publish` / `receive` (release / acquire on `handoff`, once per chunk and stage) make the happens-before
/// explicit, so that the tsan stage needs no suppression for our own code.
struct Chunk {
    std::atomic<uint32_t> handoff{0};
    void publish() { handoff.fetch_add(1, std::memory_order_release); }
    void receive() { (void)handoff.load(std::memory_order_acquire); }
    std::string data;
    std::vector<LineRef> lines;
    std::vector<Decoded> out;
    std::string_view line(size_t i) const {
        return std::string_view(data).substr(lines[i].off, lines[i].len);
    }
};

/// One decoding thread's decoder. Its pool is scratch: strings are copied into each WireEvent right away,
/// so the pool is replaced when it grows (event ids are unique: it would grow forever otherwise).
struct DecodeContext {
    static constexpr size_t kMaxScratchStrings = 1 << 16;
    DecodeContext(const ir::RuleSet& r, DecoderOptions o) : rs(r), opts(std::move(o)) { renew(); }
    void renew() {
        dec.reset();
        pool = std::make_unique<ir::StringPool>();
        dec = std::make_unique<Decoder>(rs, *pool, opts);
    }
    const ir::RuleSet& rs;
    DecoderOptions opts;
    std::unique_ptr<ir::StringPool> pool;
    std::unique_ptr<Decoder> dec;
};

void decode_chunk(Chunk& c, DecodeContext& ctx, uint32_t shards) {
    c.out.resize(c.lines.size());
    ir::Event ev;
    for (size_t i = 0; i < c.lines.size(); ++i) {
        Decoded& d = c.out[i];
        if (!ctx.dec->decode(c.line(i), c.lines[i].line_no, ev)) {
            d.err = ctx.dec->error();
            continue;
        }
        d.ok = true;
        pack_event(std::move(ev), *ctx.pool, d.w);
        const std::string_view key = std::string_view(d.w.text).substr(
            static_cast<size_t>(d.w.key >> 32), static_cast<size_t>(d.w.key & 0xffffffffu));
        d.w.shard = shard_of(key, shards);
        ev = ir::Event{};
    }
    if (ctx.pool->size() > DecodeContext::kMaxScratchStrings) ctx.renew();
}

/// The serial stage: dead letters in input order, sequence numbers, the watermark and the reorder heap
/// (the same rules as ReorderBuffer), and routing of released events to shard batches.
class Router {
public:
    Router(const PipelineOptions& o, const ParallelOptions& p, DeadLetterWriter& dead,
           std::vector<std::unique_ptr<InQueue>>& queues, std::atomic<int64_t>& inflight)
        : opts_(o), popts_(p), dead_(dead), queues_(queues), inflight_(inflight),
          lateness_(o.allowed_lateness_us < 0 ? 0 : o.allowed_lateness_us), pending_(queues.size()),
          sent_wm_(queues.size(), ir::kTimeMinusInfinity) {}

    void on_chunk(Chunk& c) {
        for (size_t i = 0; i < c.lines.size(); ++i) {
            Decoded& d = c.out[i];
            const uint64_t line_no = c.lines[i].line_no;
            if (!d.ok) {
                dead_.write(line_no, d.err.reason, d.err.detail, c.line(i));
                continue;
            }
            d.w.ev.seq = seq_++;
            const int64_t t = d.w.ev.time;
            if (t < watermark_) {
                dead_.write(line_no, DeadReason::Late,
                            fmt::format("event time {} is before the watermark {} (allowed lateness {})",
                                        format_rfc3339(t), format_rfc3339(watermark_),
                                        format_duration(opts_.allowed_lateness_us)),
                            c.line(i));
                continue;
            }
            if (t > max_time_) {
                max_time_ = t;
                watermark_ = max_time_ < ir::kTimeMinusInfinity + lateness_ ? ir::kTimeMinusInfinity
                                                                            : max_time_ - lateness_;
            }
            heap_.push_back(std::move(d.w));
            std::push_heap(heap_.begin(), heap_.end(), Later{});
            reorder_high_water_ = std::max<uint64_t>(reorder_high_water_, heap_.size());
            // Released after every event, as ReorderBuffer is, so that the buffer's high-water mark (in the
            // summary) is the same as in a single-threaded run.
            release(watermark_);
        }
        flush(false);
    }

    /// End of input: release everything, then tell every shard.
    void finish() {
        release(ir::kTimeInfinity);
        flush(true);
    }

    uint64_t reorder_high_water() const { return reorder_high_water_; }
    uint64_t inflight_high_water() const { return inflight_high_water_; }

private:
    struct Later {
        bool operator()(const WireEvent& a, const WireEvent& b) const {
            return a.ev.time != b.ev.time ? a.ev.time > b.ev.time : a.ev.seq > b.ev.seq;
        }
    };

    void release(int64_t limit) {
        while (!heap_.empty() && heap_.front().ev.time <= limit) {
            std::pop_heap(heap_.begin(), heap_.end(), Later{});
            WireEvent w = std::move(heap_.back());
            heap_.pop_back();
            released_ = w.ev.time;
            const uint32_t s = w.shard;
            pending_[s].push_back(std::move(w));
            if (pending_[s].size() >= popts_.chunk_lines) send(s, false);
        }
    }

    void flush(bool end) {
        for (uint32_t s = 0; s < pending_.size(); ++s)
            if (end || !pending_[s].empty() || sent_wm_[s] < released_) send(s, end);
    }

    void send(uint32_t s, bool end) {
        auto in = std::make_unique<ShardInput>();
        in->events.swap(pending_[s]);
        in->watermark = released_;
        in->end = end;
        sent_wm_[s] = released_;
        const auto n = static_cast<int64_t>(in->events.size());
        const int64_t now = inflight_.fetch_add(n, std::memory_order_relaxed) + n;
        inflight_high_water_ = std::max<uint64_t>(inflight_high_water_, static_cast<uint64_t>(now));
        queues_[s]->push(std::move(in)); // blocks while the shard is behind: backpressure
    }

    const PipelineOptions& opts_;
    const ParallelOptions& popts_;
    DeadLetterWriter& dead_;
    std::vector<std::unique_ptr<InQueue>>& queues_;
    std::atomic<int64_t>& inflight_;
    int64_t lateness_;
    int64_t max_time_ = ir::kTimeMinusInfinity;
    int64_t watermark_ = ir::kTimeMinusInfinity;
    int64_t released_ = ir::kTimeMinusInfinity; ///< time of the latest released event
    uint64_t seq_ = 0;
    std::vector<WireEvent> heap_;
    std::vector<std::vector<WireEvent>> pending_;
    std::vector<int64_t> sent_wm_;
    uint64_t reorder_high_water_ = 0;
    uint64_t inflight_high_water_ = 0;
};

/// The writer thread's ordered merge: lines are held until every shard's frontier has passed their time.
class OrderedMerge {
public:
    explicit OrderedMerge(size_t shards) : frontier_(shards, ir::kTimeMinusInfinity) {}

    void add(ShardOutput& o) {
        for (OrderedLine& l : o.ordered) {
            heap_.push_back(std::move(l));
            std::push_heap(heap_.begin(), heap_.end(), After{});
        }
        high_water_ = std::max<uint64_t>(high_water_, heap_.size());
        frontier_[o.shard] = o.end ? ir::kTimeInfinity : o.frontier;
    }

    /// Writes every line no shard can still precede.
    void release(OutputFile& out, OutputFile* suppressed) {
        const int64_t limit = *std::min_element(frontier_.begin(), frontier_.end());
        while (!heap_.empty() && (heap_.front().time < limit || limit == ir::kTimeInfinity)) {
            std::pop_heap(heap_.begin(), heap_.end(), After{});
            OrderedLine& l = heap_.back();
            if (!l.suppressed)
                out.write(l.text);
            else if (suppressed)
                suppressed->write(l.text);
            heap_.pop_back();
        }
    }

    uint64_t high_water() const { return high_water_; }

private:
    // A max-heap on "after": the earliest (time, key, shard, seq) on top.
    struct After {
        bool operator()(const OrderedLine& a, const OrderedLine& b) const {
            if (a.time != b.time) return a.time > b.time;
            if (a.key != b.key) return a.key > b.key;
            if (a.shard != b.shard) return a.shard > b.shard;
            return a.seq > b.seq;
        }
    };
    std::vector<int64_t> frontier_;
    std::vector<OrderedLine> heap_;
    uint64_t high_water_ = 0;
};

void add_stats(ir::ExecutorStats& a, const ir::ExecutorStats& b) {
    a.events += b.events;
    a.live_keys += b.live_keys;
    a.partial_matches += b.partial_matches;
    a.overflow_drops += b.overflow_drops;
    a.detections += b.detections;
    a.suppressed += b.suppressed;
    a.evictions += b.evictions;
    a.state_bytes += b.state_bytes;
    a.peak_state_bytes += b.peak_state_bytes; // an upper bound: shards peak at different times
    a.budget_drops += b.budget_drops;
}

} // namespace

std::string format_parallel_stats(const ParallelStats& s) {
    return fmt::format("stats: {} shards, events per shard {}; at most {} events in flight (bound {}), {} "
                       "outputs waiting for the writer, {} detections held for ordering\n",
                       s.shards, fmt::join(s.events_per_shard, "/"), s.inflight_high_water, s.inflight_bound,
                       s.output_queue_high_water, s.ordered_high_water);
}

Expected<RunSummary> run_parallel_pipeline(const ir::RuleSet& rs, const ExecutorFactory& make,
                                           const PipelineOptions& opts, const ParallelOptions& popts_in,
                                           ParallelStats* stats) {
    auto start = std::chrono::steady_clock::now();
    if (!opts.checkpoint.dir.empty())
        return Error{
            "checkpoints need the single-threaded pipeline (--threads 1); the sharded pipeline cannot "
            "take them yet"};
    ParallelOptions popts = popts_in;
    popts.threads = std::max(1u, popts.threads);
    popts.chunk_lines = std::max(1u, popts.chunk_lines);
    popts.queue_batches = std::max(1u, popts.queue_batches);
    const uint32_t n = popts.threads;

    auto reader = LineReader::open(opts.events_path);
    if (!reader) return Error{reader.error()};
    auto out = OutputFile::open(opts.out_path);
    if (!out) return Error{out.error()};
    std::unique_ptr<OutputFile> suppressed_out;
    if (!opts.suppressed_path.empty()) {
        auto f = OutputFile::open(opts.suppressed_path);
        if (!f) return Error{f.error()};
        suppressed_out = std::move(*f);
    }
    auto dead = open_dead_letter_output(opts);
    if (!dead) return Error{dead.error()};

    const OutputOptions oo{opts.explain, opts.only, opts.max_events_per_alias};
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::unique_ptr<InQueue>> in_queues;
    for (uint32_t s = 0; s < n; ++s) {
        shards.push_back(std::make_unique<Shard>(s, rs, make, oo, suppressed_out != nullptr, popts.ordered));
        in_queues.push_back(std::make_unique<InQueue>());
        in_queues.back()->set_capacity(popts.queue_batches);
    }
    OutQueue out_queue;
    out_queue.set_capacity(static_cast<std::ptrdiff_t>(popts.queue_batches) * n);
    std::atomic<int64_t> inflight{0};
    std::atomic<uint64_t> out_high_water{0};
    std::atomic<int64_t> out_pending{0}; // shard outputs pushed (or being pushed) and not yet written

    std::vector<std::thread> workers;
    for (uint32_t s = 0; s < n; ++s)
        workers.emplace_back([&, s] {
            for (;;) {
                std::unique_ptr<ShardInput> in;
                in_queues[s]->pop(in);
                const auto events = static_cast<int64_t>(in->events.size());
                const bool end = in->end;
                std::unique_ptr<ShardOutput> o = shards[s]->process(*in);
                in.reset();
                inflight.fetch_sub(events, std::memory_order_relaxed);
                if (o) {
                    const auto size = static_cast<uint64_t>(out_pending.fetch_add(1) + 1);
                    uint64_t seen = out_high_water.load(std::memory_order_relaxed);
                    while (size > seen && !out_high_water.compare_exchange_weak(seen, size)) {
                    }
                    out_queue.push(std::move(o)); // blocks while the writer is behind: backpressure
                }
                if (end) return;
            }
        });

    OrderedMerge merge(n);
    std::thread writer([&] {
        uint32_t ended = 0;
        while (ended < n) {
            std::unique_ptr<ShardOutput> o;
            out_queue.pop(o);
            out_pending.fetch_sub(1);
            if (popts.before_write) popts.before_write(o->detections);
            if (popts.ordered) {
                merge.add(*o);
                merge.release(**out, suppressed_out.get());
            } else {
                if (!o->detections.empty()) (*out)->write(o->detections);
                if (suppressed_out && !o->suppressed.empty()) suppressed_out->write(o->suppressed);
            }
            if (o->end) ++ended;
        }
    });

    Router router(opts, popts, **dead, in_queues, inflight);
    uint64_t lines_in = 0;
    LineReader& rd = **reader;
    tbb::enumerable_thread_specific<std::unique_ptr<DecodeContext>> contexts([&] {
        return std::make_unique<DecodeContext>(rs, DecoderOptions{opts.type_field, opts.epoch_unit});
    });
    // Serial filters run on any thread, one invocation at a time; the (never contended) mutexes show that
    // order to ThreadSanitizer, as Chunk::publish / receive do for the hand-offs between stages.
    std::mutex read_mutex, route_mutex;
    auto read_chunk = [&](tbb::flow_control& fc) -> Chunk* {
        acquire_setup();
        std::lock_guard<std::mutex> lock(read_mutex);
        auto c = std::make_unique<Chunk>();
        std::string_view line;
        while (c->lines.size() < popts.chunk_lines && c->data.size() < (size_t{1} << 20) && rd.next(line)) {
            if (is_blank(line)) continue;
            ++lines_in;
            c->lines.push_back({c->data.size(), line.size(), rd.line_number()});
            c->data.append(line);
        }
        if (c->lines.empty()) {
            fc.stop();
            return nullptr;
        }
        c->publish();
        return c.release();
    };
    auto decode = [&](Chunk* c) {
        acquire_setup();
        c->receive();
        decode_chunk(*c, *contexts.local(), n);
        c->publish();
        return c;
    };
    auto route = [&](Chunk* c) {
        acquire_setup();
        std::unique_ptr<Chunk> owned(c);
        owned->receive();
        std::lock_guard<std::mutex> lock(route_mutex);
        router.on_chunk(*owned);
    };
    // Decoding needs no more threads than cores (more only makes oneTBB warn); shards have their own threads.
    tbb::task_arena arena(std::min(static_cast<int>(n), tbb::info::default_concurrency()));
    g_pipeline_epoch.fetch_add(1, std::memory_order_release);
    arena.execute([&] {
        tbb::parallel_pipeline(static_cast<size_t>(n) * 2 + 1,
                               tbb::make_filter<void, Chunk*>(tbb::filter_mode::serial_in_order, read_chunk) &
                                   tbb::make_filter<Chunk*, Chunk*>(tbb::filter_mode::parallel, decode) &
                                   tbb::make_filter<Chunk*, void>(tbb::filter_mode::serial_in_order, route));
    });
    // Even after a read error the shards and the writer are shut down cleanly before returning.
    std::lock_guard<std::mutex> read_lock(read_mutex), route_lock(route_mutex);
    router.finish();
    for (auto& t : workers) t.join();
    writer.join();
    if (!rd.error().empty()) return Error{rd.error()};

    RunSummary sum;
    sum.lines_in = lines_in;
    for (const auto& s : shards) {
        sum.processed += s->processed();
        sum.detections += s->emitted();
        sum.suppressed += s->suppressed_count();
        sum.filtered += s->filtered();
        add_stats(sum.executor, s->stats());
    }
    for (size_t r = 0; r < kDeadReasonCount; ++r) sum.dead[r] = (*dead)->count(static_cast<DeadReason>(r));
    sum.reorder_high_water = router.reorder_high_water();
    sum.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sum.events_per_second = sum.wall_seconds > 0 ? static_cast<double>(sum.processed) / sum.wall_seconds : 0;
    if (stats) {
        stats->shards = n;
        stats->events_per_shard.clear();
        for (const auto& s : shards) stats->events_per_shard.push_back(s->processed());
        stats->inflight_high_water = router.inflight_high_water();
        stats->inflight_bound = static_cast<uint64_t>(n) * (popts.queue_batches + 2) * popts.chunk_lines;
        stats->output_queue_high_water = out_high_water.load();
        stats->ordered_high_water = merge.high_water();
    }

    if (auto r = (*out)->close(); !r) return Error{r.error()};
    if (suppressed_out)
        if (auto r = suppressed_out->close(); !r) return Error{r.error()};
    if (auto r = (*dead)->close(); !r) return Error{r.error()};
    if (auto r = report_run(sum, opts, suppressed_out != nullptr); !r) return Error{r.error()};
    return sum;
}

} // namespace ethogram::runtime
