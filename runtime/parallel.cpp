// parallel.cpp: the parallel keyed pipeline: the calling thread reads chunks of whole lines and broadcasts
// them to one thread per shard over bounded queues (backpressure); the shards validate each line once between
// them (chunk_scan.h; a block whose claimer stalls is parsed again by a shard that needs it, rather than
// waited for), then each walks every line and runs only the events whose key is its own
// (shard_loop.h).
#include "runtime/parallel.h"

#include "compiler/ir/snapshot_bytes.h"
#include "runtime/checkpointer.h"
#include "runtime/chunk_scan.h"
#include "runtime/output_file.h"
#include "runtime/shard_loop.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <dlfcn.h>
#include <mutex>
#include <sys/resource.h>
#include <thread>

namespace ethogram::runtime {

namespace {

/// The checkpoint rendezvous: every shard arrives (its state saved) and waits until the snapshot is written.
class Gate {
public:
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(m_);
        const uint64_t round = round_;
        ++arrived_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return round_ != round; });
    }
    void wait_all(uint32_t n) {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return arrived_ == n; });
    }
    void release() {
        std::lock_guard<std::mutex> lock(m_);
        arrived_ = 0;
        ++round_;
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    uint32_t arrived_ = 0;
    uint64_t round_ = 0;
};

/// A blocking queue of bounded capacity per shard (oneTBB; hand-offs are once per chunk). A full queue
/// makes the reader wait until the shard has taken a few chunks (kRoom), not one: woken for every chunk
/// taken, the reader preempted a shard about twice per chunk.
class ChunkQueue {
public:
    explicit ChunkQueue(size_t capacity) : capacity_(static_cast<std::ptrdiff_t>(capacity)) {
        q_.set_capacity(capacity_);
    }
    /// Blocks while the queue is full: the shard is behind (backpressure on the reader).
    void push(ChunkPtr c) {
        if (capacity_ > kRoom && q_.size() >= capacity_) {
            std::unique_lock<std::mutex> lock(m_);
            waiting_.store(true, std::memory_order_seq_cst);
            // The timeout only bounds a wake-up lost between the shard's check of `waiting_` and this
            // wait (the push below blocks in any case until there is room).
            while (q_.size() > capacity_ - kRoom)
                if (cv_.wait_for(lock, std::chrono::milliseconds(2)) == std::cv_status::timeout) break;
            waiting_.store(false, std::memory_order_relaxed);
        }
        q_.push(std::move(c));
    }
    /// Blocks while the queue is empty; nullptr is the end of the input.
    ChunkPtr pop() {
        ChunkPtr c;
        q_.pop(c);
        taken();
        return c;
    }
    /// The next chunk if one is queued already (parsing ahead), without waiting.
    bool try_pop(ChunkPtr& c) {
        if (!q_.try_pop(c)) return false;
        taken();
        return true;
    }

private:
    static constexpr std::ptrdiff_t kRoom = 4;
    void taken() {
        if (waiting_.load(std::memory_order_seq_cst) && q_.size() <= capacity_ - kRoom) {
            std::lock_guard<std::mutex> lock(m_);
            cv_.notify_one();
        }
    }

    // oneTBB's bounded queue: blocking push/pop that sleep (after a short spin) instead of busy-waiting,
    // which matters when there are exactly as many threads as cores.
    tbb::concurrent_bounded_queue<ChunkPtr> q_;
    std::ptrdiff_t capacity_;
    std::mutex m_;
    std::condition_variable cv_;
    std::atomic<bool> waiting_{false};
};

/// The ordered merge: lines are held until every shard's frontier has passed their time, then written by
/// (time, key, shard, seq). Each block arrives sorted by (time, key, seq) (Shard::take sorts it on its own
/// thread), so under the output lock this only merges a few sorted runs (the blocks with lines still held)
/// into one buffer and writes it once; written-out blocks go back to their shard for reuse.
class OrderedMerge {
public:
    explicit OrderedMerge(size_t shards) : frontier_(shards, ir::kTimeMinusInfinity), done_(shards) {}

    /// Takes the block; returns a block of the same shard that is written out (to recycle), or null.
    std::unique_ptr<ShardOutput> add(std::unique_ptr<ShardOutput> o) {
        const uint32_t shard = o->shard;
        frontier_[shard] = o->end ? ir::kTimeInfinity : o->frontier;
        if (o->ordered.empty()) return o;
        held_ += o->ordered.size();
        high_water_ = std::max<uint64_t>(high_water_, held_);
        runs_.push_back(std::move(o));
        return take_done(shard);
    }

    /// Writes every line no shard can still precede, through `write(text, suppressed)`.
    template <class Write>
    void release(Write&& write) {
        const int64_t limit = *std::min_element(frontier_.begin(), frontier_.end());
        text_.clear();
        supp_text_.clear();
        for (;;) {
            ShardOutput* best = nullptr;
            for (const auto& r : runs_)
                if (r->ordered_next < r->ordered.size() && (!best || before(*r, *best))) best = r.get();
            if (!best) break;
            const OrderedRef& l = best->ordered[best->ordered_next];
            if (!(l.time < limit || limit == ir::kTimeInfinity)) break;
            (l.suppressed ? supp_text_ : text_).append(best->text(l));
            ++best->ordered_next;
            --held_;
        }
        if (!text_.empty()) write(text_, false);
        if (!supp_text_.empty()) write(supp_text_, true);
        // Blocks written out in full wait in done_ until their shard delivers again.
        for (size_t i = 0; i < runs_.size();) {
            if (runs_[i]->ordered_next < runs_[i]->ordered.size()) {
                ++i;
                continue;
            }
            const uint32_t shard = runs_[i]->shard;
            if (!done_[shard]) done_[shard] = std::move(runs_[i]);
            runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }

    uint64_t high_water() const { return high_water_; }

    // Checkpoints: the frontiers and the lines held, earliest first (which is a heap order of the format's
    // max-heap on "after", so snapshots stay those of version 5).
    void save(ir::SnapWriter& w) const {
        w.u64(frontier_.size());
        for (int64_t f : frontier_) w.i64(f);
        w.u64(high_water_);
        std::vector<size_t> next;
        for (const auto& r : runs_) next.push_back(r->ordered_next);
        w.u64(held_);
        for (;;) {
            size_t best = runs_.size();
            for (size_t i = 0; i < runs_.size(); ++i)
                if (next[i] < runs_[i]->ordered.size() &&
                    (best == runs_.size() || before(*runs_[i], next[i], *runs_[best], next[best])))
                    best = i;
            if (best == runs_.size()) break;
            const ShardOutput& o = *runs_[best];
            const OrderedRef& l = o.ordered[next[best]++];
            w.i64(l.time);
            w.str(o.key(l));
            w.u64(l.seq);
            w.u32(o.shard);
            w.boolean(l.suppressed);
            w.str(o.text(l));
        }
    }
    void restore(ir::SnapReader& r) {
        if (r.u64() != frontier_.size()) r.fail("ordered merge: another shard count");
        for (int64_t& f : frontier_) f = r.i64();
        high_water_ = r.u64();
        const uint64_t n = r.count(24);
        std::vector<std::unique_ptr<ShardOutput>> blocks(frontier_.size());
        for (uint64_t i = 0; i < n && r.ok(); ++i) {
            const int64_t time = r.i64();
            const std::string key = r.str();
            const uint64_t seq = r.u64();
            const uint32_t shard = r.u32();
            const bool supp = r.boolean();
            const std::string text = r.str();
            if (shard >= blocks.size()) {
                r.fail("ordered merge: a line of no shard");
                break;
            }
            if (!blocks[shard]) {
                blocks[shard] = std::make_unique<ShardOutput>();
                blocks[shard]->shard = shard;
            }
            blocks[shard]->add_ordered(time, key, seq, supp, text);
        }
        runs_.clear();
        held_ = 0;
        for (auto& b : blocks)
            if (b) {
                b->sort_ordered();
                held_ += b->ordered.size();
                runs_.push_back(std::move(b));
            }
    }

private:
    // Whether a's line `i` comes before b's line `j`: by (time, key, shard, seq).
    static bool before(const ShardOutput& a, size_t i, const ShardOutput& b, size_t j) {
        const OrderedRef &x = a.ordered[i], &y = b.ordered[j];
        if (x.time != y.time) return x.time < y.time;
        const int c = a.key(x).compare(b.key(y));
        if (c != 0) return c < 0;
        if (a.shard != b.shard) return a.shard < b.shard;
        return x.seq < y.seq;
    }
    static bool before(const ShardOutput& a, const ShardOutput& b) {
        return before(a, a.ordered_next, b, b.ordered_next);
    }
    std::unique_ptr<ShardOutput> take_done(uint32_t shard) { return std::move(done_[shard]); }

    std::vector<int64_t> frontier_;
    std::vector<std::unique_ptr<ShardOutput>> runs_; ///< blocks with lines not written yet
    std::vector<std::unique_ptr<ShardOutput>> done_; ///< per shard: one written-out block to give back
    std::string text_, supp_text_;                   ///< what one release writes
    uint64_t held_ = 0;
    uint64_t high_water_ = 0;
};

/// Where shards hand their output blocks: written in place under one lock (a block per chunk and shard, so
/// the lock is taken rarely), or merged first in ordered mode. No writer thread: on a machine with as many
/// cores as shards there is no core for it.
///
/// The outputs may come opened without truncation (OutputFile::open_untruncated): cutting a previous run's
/// output, tens of MiB, to nothing took 8-14 ms of kernel time before the first event, serial. A thread
/// started here cuts them while the shards start; until it is done the blocks' text is held in memory
/// (what the shards deliver while the cut lasts: about 1.5 MiB per 10 ms here), then written first, so the
/// files end up byte for byte as before.
class Sink {
public:
    /// `cut`: the outputs were opened without truncation (and not to resume), so this cuts them.
    Sink(size_t shards, const ParallelOptions& p, OutputFile& out, OutputFile* suppressed, bool cut)
        : popts_(p), out_(out), suppressed_(suppressed), merge_(shards) {
        if (!cut) return;
        const bool cut_out = out.needs_truncate(), cut_supp = suppressed && suppressed->needs_truncate();
        if (!cut_out && !cut_supp) return;
        cutting_ = true;
        cutter_ = std::thread([this, cut_out, cut_supp] {
            if (cut_out) out_.truncate();
            if (cut_supp) suppressed_->truncate();
            cut_.store(true, std::memory_order_release);
        });
    }
    ~Sink() { finish(); }
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    /// Writes (or merges) the block and gives it (or, ordered, a block of that shard the merge is done
    /// with) back to its shard (Shard::recycle).
    void deliver(Shard& shard, std::unique_ptr<ShardOutput> o) {
        if (!o) return;
        {
            std::lock_guard<std::mutex> lock(m_);
            if (cutting_ && cut_.load(std::memory_order_acquire)) write_held();
            if (popts_.before_write) popts_.before_write(o->detections);
            if (popts_.ordered) {
                o = merge_.add(std::move(o));
                merge_.release([this](std::string_view text, bool supp) { write(text, supp); });
            } else {
                write(o->detections, false);
                write(o->suppressed, true);
            }
        }
        shard.recycle(std::move(o));
    }
    /// Waits for the outputs to be cut and writes what was held: before the outputs are synced or closed.
    void finish() {
        std::lock_guard<std::mutex> lock(m_);
        if (cutting_) write_held();
    }
    uint64_t ordered_high_water() {
        std::lock_guard<std::mutex> lock(m_);
        return merge_.high_water();
    }
    /// The merge, for checkpoints (shards paused).
    OrderedMerge& merge() { return merge_; }

private:
    void write(std::string_view text, bool supp) {
        if (text.empty() || (supp && !suppressed_)) return;
        if (cutting_)
            (supp ? held_supp_ : held_out_).append(text);
        else
            (supp ? *suppressed_ : out_).write(text);
    }
    void write_held() {
        cutter_.join(); // done (or about to be: it has nothing left to do after setting cut_)
        cutting_ = false;
        out_.write(held_out_);
        if (suppressed_) suppressed_->write(held_supp_);
        std::string().swap(held_out_);
        std::string().swap(held_supp_);
    }

    const ParallelOptions& popts_;
    OutputFile& out_;
    OutputFile* suppressed_;
    std::mutex m_;
    OrderedMerge merge_;
    std::thread cutter_;
    bool cutting_ = false;         ///< the outputs are being cut: text goes to held_* (under m_)
    std::atomic<bool> cut_{false}; ///< set by the cutter when done
    std::string held_out_, held_supp_;
};

/// CPU seconds (user + system) the calling thread has used so far.
double thread_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

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

std::string_view process_allocator() {
    // The proxy exports this marker (oneTBB's own test of whether the replacement is in effect).
    return ::dlsym(RTLD_DEFAULT, "__TBB_malloc_proxy") != nullptr ? "tbbmalloc" : "glibc malloc";
}

std::string format_parallel_stats(const ParallelStats& s) {
    std::string cpu, ends;
    for (double c : s.cpu_seconds_per_shard) cpu += fmt::format("{}{:.3f}", cpu.empty() ? "" : "/", c);
    for (double e : s.shard_end_seconds) ends += fmt::format("{}{:.3f}", ends.empty() ? "" : "/", e);
    return fmt::format(
        "stats: {} shards, events per shard {}; {} chunks read, at most {} lines in flight "
        "(bound {}), {} detections held for ordering\nstats: cpu seconds per shard {}, "
        "reader {:.3f}; allocator {}\nstats: blocks of lines validated per shard {}, {} waits for a "
        "block being validated, {} blocks validated again (their claimer stalled)\nstats: seconds from the "
        "first read to the end of input {:.3f}, to each shard's last event {}\n",
        s.shards, fmt::join(s.events_per_shard, "/"), s.chunks, s.inflight_high_water, s.inflight_bound,
        s.ordered_high_water, cpu, s.reader_cpu_seconds, process_allocator(),
        fmt::join(s.blocks_per_shard, "/"), s.parse_waits, s.blocks_parsed_again, s.reader_end_seconds, ends);
}

Expected<RunSummary> run_parallel_pipeline(const ir::RuleSet& rs, const ExecutorFactory& make,
                                           const PipelineOptions& opts, const ParallelOptions& popts_in,
                                           ParallelStats* stats) {
    auto start = std::chrono::steady_clock::now();
    ParallelOptions popts = popts_in;
    popts.threads = std::max(1u, popts.threads);
    popts.chunk_lines = std::max(1u, popts.chunk_lines);
    popts.chunk_bytes = std::max(1u, popts.chunk_bytes);
    popts.queue_chunks = std::max(1u, popts.queue_chunks);
    const uint32_t n = popts.threads;
    spdlog::debug("parallel run: {} shards, allocator {}", n, process_allocator());

    std::atomic<int64_t> inflight{0}; // lines read and not yet walked by every shard
    auto reader = ChunkReader::open(opts.events_path, &inflight);
    if (!reader) return Error{reader.error()};
    // Checkpoints: a snapshot to resume from decides how the outputs are opened (cut back to the lengths it
    // recorded, instead of truncated). Snapshots are taken between two chunks, so chunks are no longer than
    // the cadence.
    std::unique_ptr<Checkpointer> ck;
    if (!opts.checkpoint.dir.empty()) {
        auto c = Checkpointer::open(rs, opts, n);
        if (!c) return Error{c.error()};
        ck = std::move(*c);
        if (opts.checkpoint.every_events != 0)
            popts.chunk_lines = static_cast<uint32_t>(
                std::min<uint64_t>(popts.chunk_lines, std::max<uint64_t>(1, opts.checkpoint.every_events)));
    }
    const bool resume = ck && ck->resuming();
    // Without checkpoints the detections' outputs are cut by the Sink's thread, not by open (see Sink).
    const bool cut_later = ck == nullptr;
    auto outs = open_run_outputs(opts, ck.get(), /*untruncated=*/cut_later);
    if (!outs) return Error{outs.error()};
    std::unique_ptr<OutputFile> out = std::move(outs->out), suppressed_out = std::move(outs->suppressed);
    std::unique_ptr<DeadLetterWriter> dead = std::move(outs->dead);

    const OutputOptions oo{opts.explain, opts.only, opts.max_events_per_alias, opts.bundle_hash};
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::unique_ptr<ShardLoop>> loops;
    std::vector<std::unique_ptr<ChunkQueue>> queues;
    for (uint32_t s = 0; s < n; ++s) {
        shards.push_back(std::make_unique<Shard>(s, rs, make, oo, suppressed_out != nullptr, popts.ordered));
        loops.push_back(std::make_unique<ShardLoop>(s, n, rs, opts, *shards.back(),
                                                    s == 0 ? dead.get() : nullptr,
                                                    s == 0 && ck ? ck->kill_at_line() : 0));
        queues.push_back(std::make_unique<ChunkQueue>(popts.queue_chunks));
    }
    Sink sink(n, popts, *out, suppressed_out.get(), cut_later);
    ChunkReader& rd = **reader;
    uint64_t lines_read = 0; // by the reader, blank lines included (the
                             // checkpoint cadence counts these)
    if (resume) {
        const std::string& path = ck->resume_path();
        ir::SnapReader r(ck->resume_payload());
        r.u32();
        const uint64_t offset = r.u64();
        lines_read = r.u64();
        for (int i = 0; i < 6; ++i) r.u64(); // seq and counters: informative, the shards' own are below
        for (size_t i = 0; i < kDeadReasonCount; ++i)
            dead->restore_count(static_cast<DeadReason>(i), r.u64());
        for (int i = 0; i < 3; ++i) r.u64(); // output lengths: applied when the outputs were opened
        const uint64_t prior_wall_us = r.u64(), resumes = r.u64();
        r.u32(); // shard count: checked by Checkpointer::open
        if (r.boolean() != popts.ordered && r.ok())
            return Error{fmt::format("{}: cannot resume: it was taken {} --ordered; "
                                     "resume with the same flags",
                                     path, popts.ordered ? "without" : "with")};
        sink.merge().restore(r);
        for (uint32_t s = 0; s < n && r.ok(); ++s) {
            const std::string state = r.str();
            ir::SnapReader st(state);
            const std::string loop_state = st.str(), shard_state = st.str();
            ir::SnapReader lr(loop_state);
            loops[s]->restore(lr);
            if (st.failed() || st.remaining() != 0 || lr.failed() || lr.remaining() != 0)
                r.fail("a shard's scanning state is malformed");
            if (r.ok())
                if (auto ok = shards[s]->restore(shard_state); !ok)
                    return Error{fmt::format("{}: {}", path, ok.error())};
        }
        if (r.ok() && r.remaining() != 0) r.fail("trailing bytes");
        if (r.failed()) return Error{fmt::format("{}: runtime state: {}", path, r.error())};
        if (auto st = rd.seek(offset); !st) return Error{st.error()};
        ck->resumed(lines_read, prior_wall_us, resumes); // ends the life of `path`
        spdlog::info("resumed from {} (input line {}, {} shards; resume {} of the run, {:.3f} s of wall time "
                     "before)",
                     ck->resumed_from(), lines_read, n, ck->resumes(), ck->prior_wall_seconds());
    }

    Gate gate;
    std::vector<std::string> states(n);
    std::vector<std::string> save_errors(n);
    std::vector<double> shard_cpu(n, 0.0);
    std::vector<Moment> shard_end(n);
    std::vector<uint64_t> shard_blocks(n, 0), shard_waits(n, 0), shard_helped(n, 0);
    std::vector<std::thread> workers;
    for (uint32_t s = 0; s < n; ++s)
        workers.emplace_back([&, s] {
            ShardLoop& loop = *loops[s];
            ChunkPtr c = queues[s]->pop();
            while (c) {
                if (c->barrier) {
                    // A quiescent point: every effect of the chunks before is done; hand over the output,
                    // save the state (in parallel with the other shards), wait for the snapshot.
                    sink.deliver(*shards[s], shards[s]->take(false));
                    states[s].clear();
                    ir::SnapWriter w(states[s]);
                    std::string loop_state, shard_state;
                    ir::SnapWriter lw(loop_state);
                    loop.save(lw);
                    w.str(loop_state);
                    if (auto st = shards[s]->save(shard_state); !st) save_errors[s] = st.error();
                    w.str(shard_state);
                    c.reset();
                    gate.arrive_and_wait();
                    c = queues[s]->pop();
                    continue;
                }
                // Validate this chunk's unclaimed blocks, then, if the next chunk is queued already, claim
                // blocks of it too (parsing ahead): a shard that is ahead in its walk does more of the
                // shared parsing, and the others rarely find a block of their chunk still in progress.
                shard_blocks[s] += loop.parse(*c);
                ChunkPtr next;
                const bool have_next = queues[s]->try_pop(next);
                if (have_next && next && !next->barrier) shard_blocks[s] += loop.parse(*next);
                const CompleteResult done = loop.on_chunk(*c);
                shard_waits[s] += done.waited ? 1 : 0;
                shard_blocks[s] += done.helped;
                shard_helped[s] += done.helped;
                c.reset();
                sink.deliver(*shards[s], shards[s]->take(false));
                c = have_next ? std::move(next) : queues[s]->pop();
            }
            loop.finish();
            sink.deliver(*shards[s], shards[s]->take(true));
            shard_end[s] = Moment::now();
            shards[s]->close(!skip_final_free(opts));
            shard_cpu[s] = thread_cpu_seconds();
        });

    // Called with every shard waiting at the gate: syncs the outputs, then writes the snapshot.
    auto checkpoint = [&]() -> Status {
        for (const std::string& e : save_errors)
            if (!e.empty()) return Error{fmt::format("checkpoint: {}", e)};
        auto out_len = out->sync();
        if (!out_len) return Error{out_len.error()};
        if (dead->stream() == nullptr) return Error{"dead letters: not a file (cannot checkpoint)"};
        auto dead_len = dead->stream()->sync();
        if (!dead_len) return Error{dead_len.error()};
        uint64_t supp_len = OutputLengths::kNone;
        if (suppressed_out) {
            auto l = suppressed_out->sync();
            if (!l) return Error{l.error()};
            supp_len = *l;
        }
        std::string payload;
        ir::SnapWriter w(payload);
        w.u32(Checkpointer::kShardedPayloadVersion);
        w.u64(rd.offset());
        w.u64(lines_read);
        w.u64(loops[0]->seq());
        w.u64(loops[0]->lines_in());
        uint64_t processed = 0, emitted = 0, suppressed = 0, filtered = 0, live = 0;
        for (const auto& sh : shards) {
            processed += sh->processed();
            emitted += sh->emitted();
            suppressed += sh->suppressed_count();
            filtered += sh->filtered();
            live += sh->stats().live_keys;
        }
        for (uint64_t v : {processed, emitted, suppressed, filtered}) w.u64(v);
        for (size_t i = 0; i < kDeadReasonCount; ++i) w.u64(dead->count(static_cast<DeadReason>(i)));
        w.u64(*out_len);
        w.u64(*dead_len);
        w.u64(supp_len);
        w.u64(ck->wall_us(start));
        w.u64(ck->resumes());
        w.u32(n);
        w.boolean(popts.ordered);
        sink.merge().save(w);
        for (const std::string& st : states) w.str(st);
        return ck->write(payload, lines_read, live);
    };

    // The calling thread reads and broadcasts; it mostly waits (on the input or on full queues).
    const double reader_cpu0 = thread_cpu_seconds();
    const Moment first_read = Moment::now();
    uint64_t inflight_high_water = 0, chunks = 0;
    std::string failure;
    while (ChunkPtr c = rd.next(popts.chunk_bytes, popts.chunk_lines, lines_read)) {
        ++chunks;
        lines_read += c->lines();
        inflight_high_water = std::max<uint64_t>(
            inflight_high_water, static_cast<uint64_t>(inflight.load(std::memory_order_relaxed)));
        for (auto& q : queues) q->push(c);
        c.reset();
        if (ck && ck->due(lines_read)) {
            auto barrier = std::make_shared<Chunk>();
            barrier->barrier = true;
            for (auto& q : queues) q->push(barrier);
            gate.wait_all(n);
            Status st = checkpoint();
            gate.release();
            if (!st) {
                failure = st.error();
                break;
            }
        }
    }
    // Even after a read or checkpoint error the shards are shut down cleanly before returning.
    for (auto& q : queues) q->push(nullptr);
    const Moment reader_end = Moment::now();
    const double reader_cpu = thread_cpu_seconds() - reader_cpu0;
    for (auto& t : workers) t.join();
    if (!failure.empty()) return Error{failure};
    if (!rd.error().empty()) return Error{rd.error()};

    RunSummary sum;
    sum.lines_in = loops[0]->lines_in();
    for (const auto& s : shards) {
        sum.processed += s->processed();
        sum.detections += s->emitted();
        sum.suppressed += s->suppressed_count();
        sum.filtered += s->filtered();
        add_stats(sum.executor, s->stats());
    }
    for (size_t r = 0; r < kDeadReasonCount; ++r) sum.dead[r] = dead->count(static_cast<DeadReason>(r));
    sum.reorder_high_water = loops[0]->reorder_high_water();
    sum.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() +
                       (ck ? ck->prior_wall_seconds() : 0);
    if (ck && ck->resumes() != 0) {
        sum.resumes = ck->resumes();
        sum.resumed_from = ck->resumed_from();
    }
    sum.events_per_second = sum.wall_seconds > 0 ? static_cast<double>(sum.processed) / sum.wall_seconds : 0;
    const Moment last_event =
        *std::max_element(shard_end.begin(), shard_end.end(),
                          [](const Moment& a, const Moment& b) { return a.steady < b.steady; });
    set_steady_state(sum, start, first_read, last_event);
    if (stats) {
        stats->shards = n;
        stats->events_per_shard.clear();
        for (const auto& s : shards) stats->events_per_shard.push_back(s->processed());
        stats->inflight_high_water = inflight_high_water;
        stats->inflight_bound = static_cast<uint64_t>(popts.queue_chunks + 3) * popts.chunk_lines;
        stats->chunks = chunks;
        stats->ordered_high_water = sink.ordered_high_water();
        stats->cpu_seconds_per_shard = shard_cpu;
        stats->blocks_per_shard = shard_blocks;
        stats->parse_waits = 0;
        for (uint64_t w : shard_waits) stats->parse_waits += w;
        stats->blocks_parsed_again = 0;
        for (uint64_t h : shard_helped) stats->blocks_parsed_again += h;
        stats->reader_cpu_seconds = reader_cpu;
        const auto since_first = [&](const Moment& m) {
            return std::chrono::duration<double>(m.steady - first_read.steady).count();
        };
        stats->reader_end_seconds = since_first(reader_end);
        stats->shard_end_seconds.clear();
        for (const Moment& m : shard_end) stats->shard_end_seconds.push_back(since_first(m));
    }

    sink.finish();
    if (auto r = out->close(); !r) return Error{r.error()};
    if (suppressed_out)
        if (auto r = suppressed_out->close(); !r) return Error{r.error()};
    if (auto r = dead->close(); !r) return Error{r.error()};
    if (auto r = report_run(sum, opts, suppressed_out != nullptr); !r) return Error{r.error()};
    return sum;
}

} // namespace ethogram::runtime
