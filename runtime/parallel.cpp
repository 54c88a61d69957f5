// parallel.cpp: the parallel keyed pipeline: the calling thread reads chunks of whole lines and broadcasts
// them (shared, read-only) to one thread per shard over bounded queues (backpressure); each shard scans every
// line, and decodes fully and runs only the lines whose key is its own.
#include "runtime/parallel.h"

#include "compiler/ir/snapshot_bytes.h"
#include "runtime/checkpointer.h"
#include "runtime/decoder.h"
#include "runtime/output_file.h"
#include "runtime/reorder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace ethogram::runtime {

namespace {

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// Chunk buffers, recycled: a fresh 1 MiB buffer per chunk costs page faults and allocator work on every
/// chunk (each is freed by another thread than the one that allocated it).
class BufferPool {
public:
    std::string get() {
        std::lock_guard<std::mutex> lock(m_);
        if (free_.empty()) return {};
        std::string s = std::move(free_.back());
        free_.pop_back();
        return s;
    }
    void put(std::string&& s) {
        s.clear();
        std::lock_guard<std::mutex> lock(m_);
        if (free_.size() < 64) free_.push_back(std::move(s));
    }

private:
    std::mutex m_;
    std::vector<std::string> free_;
};

/// A block of whole input lines, read once and scanned by every shard. Read-only once published; freed by
/// whichever shard drops the last reference. Counts itself out of the lines in flight when freed.
struct InputChunk {
    std::string data;
    uint64_t lines = 0;
    bool barrier = false; ///< not input: a checkpoint is due (every shard saves its state and waits)
    std::atomic<int64_t>* inflight = nullptr;
    BufferPool* buffers = nullptr;
    InputChunk() = default;
    InputChunk(const InputChunk&) = delete;
    InputChunk& operator=(const InputChunk&) = delete;
    ~InputChunk() {
        if (inflight) inflight->fetch_sub(static_cast<int64_t>(lines), std::memory_order_relaxed);
        if (buffers) buffers->put(std::move(data));
    }
};
using ChunkPtr = std::shared_ptr<const InputChunk>;

/// Reads a file or stdin in chunks of whole lines: at most `max_lines` lines, and no more bytes than
/// `max_bytes` unless one line alone is longer (lines of any length are supported).
class ChunkReader {
public:
    static Expected<std::unique_ptr<ChunkReader>> open(const std::string& path) {
        if (path == "-") return std::make_unique<ChunkReader>(stdin, "<stdin>", false);
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
        return std::make_unique<ChunkReader>(f, path, true);
    }
    ChunkReader(std::FILE* f, std::string name, bool owned) : f_(f), name_(std::move(name)), owned_(owned) {}
    ~ChunkReader() {
        if (owned_) std::fclose(f_);
    }
    ChunkReader(const ChunkReader&) = delete;
    ChunkReader& operator=(const ChunkReader&) = delete;

    /// The next chunk (its data and line count set), or nullptr at the end of input or on a read error.
    std::unique_ptr<InputChunk> next(size_t max_bytes, uint64_t max_lines) {
        auto c = std::make_unique<InputChunk>();
        c->buffers = &buffers_;
        std::string& buf = c->data;
        buf = buffers_.get();
        buf.assign(carry_);
        size_t scan = 0;
        uint64_t lines = 0;
        size_t cut = 0;
        for (;;) {
            while (lines < max_lines && scan < buf.size()) {
                const void* nl = std::memchr(buf.data() + scan, '\n', buf.size() - scan);
                if (nl == nullptr) {
                    scan = buf.size();
                    break;
                }
                scan = static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
                cut = scan;
                ++lines;
            }
            if (lines == max_lines) break;
            if (eof_) {
                if (cut < buf.size()) ++lines; // the last line, without its newline
                cut = buf.size();
                break;
            }
            if (buf.size() >= max_bytes && lines > 0) break;
            const size_t old = buf.size();
            buf.resize(old + std::max(max_bytes > old ? max_bytes - old : 0, size_t{1} << 16));
            const size_t n = std::fread(buf.data() + old, 1, buf.size() - old, f_);
            buf.resize(old + n);
            if (n == 0) {
                eof_ = true;
                if (std::ferror(f_)) error_ = fmt::format("{}: read failed: {}", name_, std::strerror(errno));
            }
        }
        carry_.assign(buf, cut, std::string::npos);
        buf.resize(cut);
        offset_ += cut;
        if (buf.empty() || !error_.empty()) return nullptr;
        c->lines = lines;
        return c;
    }
    const std::string& error() const { return error_; }
    /// File offset of the first byte not handed out in a chunk yet.
    uint64_t offset() const { return offset_; }
    /// Continues reading at byte `offset` (checkpoint resume); fails on a stream that cannot seek or an
    /// offset past the end of the file.
    Status seek(uint64_t offset) {
        if (::fseeko(f_, 0, SEEK_END) != 0)
            return Error{fmt::format("{}: cannot seek (a checkpoint needs a regular file): {}", name_,
                                     std::strerror(errno))};
        const auto size = ::ftello(f_);
        if (size < 0 || static_cast<uint64_t>(size) < offset)
            return Error{fmt::format("{}: the file has {} bytes but the checkpoint was taken at byte {} (was "
                                     "the input truncated or replaced?)",
                                     name_, size, offset)};
        if (::fseeko(f_, static_cast<off_t>(offset), SEEK_SET) != 0)
            return Error{fmt::format("{}: cannot seek: {}", name_, std::strerror(errno))};
        offset_ = offset;
        carry_.clear();
        return ok_status();
    }

private:
    std::FILE* f_;
    std::string name_;
    bool owned_;
    BufferPool buffers_;
    std::string carry_; // the start of the next chunk's first line
    bool eof_ = false;
    uint64_t offset_ = 0;
    std::string error_;
};

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

/// A blocking queue of bounded capacity per shard (oneTBB; hand-offs are once per chunk).
class ChunkQueue {
public:
    explicit ChunkQueue(size_t capacity) { q_.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
    /// Blocks while the queue is full: the shard is behind (backpressure on the reader).
    void push(ChunkPtr c) { q_.push(std::move(c)); }
    /// Blocks while the queue is empty; nullptr is the end of the input.
    ChunkPtr pop() {
        ChunkPtr c;
        q_.pop(c);
        return c;
    }

private:
    // oneTBB's bounded queue: blocking push/pop that sleep (after a short spin) instead of busy-waiting,
    // which matters when there are exactly as many threads as cores.
    tbb::concurrent_bounded_queue<ChunkPtr> q_;
};

/// The ordered merge: lines are held until every shard's frontier has passed their time.
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

    // Checkpoints: the frontiers and the lines held (in heap order).
    void save(ir::SnapWriter& w) const {
        w.u64(frontier_.size());
        for (int64_t f : frontier_) w.i64(f);
        w.u64(high_water_);
        w.u64(heap_.size());
        for (const OrderedLine& l : heap_) {
            w.i64(l.time);
            w.str(l.key);
            w.u64(l.seq);
            w.u32(l.shard);
            w.boolean(l.suppressed);
            w.str(l.text);
        }
    }
    void restore(ir::SnapReader& r) {
        if (r.u64() != frontier_.size()) r.fail("ordered merge: another shard count");
        for (int64_t& f : frontier_) f = r.i64();
        high_water_ = r.u64();
        heap_.resize(r.count(24));
        for (OrderedLine& l : heap_) {
            l.time = r.i64();
            l.key = r.str();
            l.seq = r.u64();
            l.shard = r.u32();
            l.suppressed = r.boolean();
            l.text = r.str();
        }
    }

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

/// Where shards hand their output blocks: written in place under one lock (a block per chunk and shard, so
/// the lock is taken rarely), or merged first in ordered mode. No writer thread: on a machine with as many
/// cores as shards there is no core for it.
class Sink {
public:
    Sink(size_t shards, const ParallelOptions& p, OutputFile& out, OutputFile* suppressed)
        : popts_(p), out_(out), suppressed_(suppressed), merge_(shards) {}

    void deliver(std::unique_ptr<ShardOutput> o) {
        if (!o) return;
        std::lock_guard<std::mutex> lock(m_);
        if (popts_.before_write) popts_.before_write(o->detections);
        if (popts_.ordered) {
            merge_.add(*o);
            merge_.release(out_, suppressed_);
            return;
        }
        if (!o->detections.empty()) out_.write(o->detections);
        if (suppressed_ && !o->suppressed.empty()) suppressed_->write(o->suppressed);
    }
    uint64_t ordered_high_water() {
        std::lock_guard<std::mutex> lock(m_);
        return merge_.high_water();
    }
    /// The merge, for checkpoints (shards paused).
    OrderedMerge& merge() { return merge_; }

private:
    const ParallelOptions& popts_;
    OutputFile& out_;
    OutputFile* suppressed_;
    std::mutex m_;
    OrderedMerge merge_;
};

/// One shard's thread: scans every line of every chunk and takes the same decisions as the single-threaded
/// run (dead letters, sequence numbers, watermark, late check, reorder release order), so that they agree in
/// every shard without any communication; runs only the events whose key hashes to this shard. Dead letters
/// are written by shard 0 only, in input order.
class ShardLoop {
public:
    ShardLoop(uint32_t index, uint32_t shards, const ir::RuleSet& rs, const PipelineOptions& o, Shard& shard,
              DeadLetterWriter* dead, uint64_t kill_at_line)
        : index_(index), shards_(shards), opts_(o), shard_(shard), dead_(dead), kill_at_(kill_at_line),
          decoder_(rs, shard.pool(), DecoderOptions{o.type_field, o.epoch_unit}),
          lateness_(o.allowed_lateness_us < 0 ? 0 : o.allowed_lateness_us) {}

    /// Scans a chunk, then moves the executor to the time of the latest event released globally.
    void on_chunk(const InputChunk& c) {
        const char* p = c.data.data();
        const char* const end = p + c.data.size();
        while (p < end) {
            const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
            const char* stop = nl != nullptr ? nl : end;
            size_t len = static_cast<size_t>(stop - p);
            if (len > 0 && p[len - 1] == '\r') --len;
            line(std::string_view(p, len));
            p = nl != nullptr ? nl + 1 : end;
        }
        shard_.advance(released_);
    }

    /// End of input: releases everything, then advances to the last released time (the single-threaded run's
    /// last finite watermark, where its executor last evicts idle keys, so live-key counts agree) and to
    /// +infinity.
    void finish() {
        release(ir::kTimeInfinity);
        shard_.advance(released_);
        shard_.advance(ir::kTimeInfinity);
    }

    uint64_t lines_in() const { return lines_in_; }
    uint64_t seq() const { return seq_; }
    uint64_t reorder_high_water() const { return reorder_high_water_; }

    // Checkpoints: the scanning state (between chunks), with the held events of this shard's keys.
    void save(ir::SnapWriter& w) const {
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
    void restore(ir::SnapReader& r) {
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

    void line(std::string_view l) {
        ++line_no_;
        if (is_blank(l)) return;
        ++lines_in_;
        if (kill_at_ != 0 && lines_in_ == kill_at_) ::kill(::getpid(), SIGKILL); // test hook
        if (!decoder_.decode_deferred(l, line_no_, ev_)) {
            if (dead_) dead_->write(line_no_, decoder_.error().reason, decoder_.error().detail, l);
            return;
        }
        ev_.seq = seq_++;
        const int64_t t = ev_.time;
        if (t < watermark_) {
            if (dead_)
                dead_->write(line_no_, DeadReason::Late,
                             late_detail(t, watermark_, opts_.allowed_lateness_us), l);
            return;
        }
        if (t > max_time_) {
            max_time_ = t;
            watermark_ = watermark_after(max_time_, lateness_);
        }
        const bool own = shards_ == 1 || shard_of(decoder_.key_text(), shards_) == index_;
        if (own) decoder_.commit(ev_);
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
            std::swap(events_[slot],
                      ev_); // ev_ takes the slot's old buffers to decode into
        }
        heap_.push_back(Held{t, seq_ - 1, slot}); // (ev_ may hold another event now)
        std::push_heap(heap_.begin(), heap_.end(), Later{});
        reorder_high_water_ = std::max<uint64_t>(reorder_high_water_, heap_.size());
        release(watermark_);
    }

    void release(int64_t limit) {
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

    uint32_t index_, shards_;
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

std::string format_parallel_stats(const ParallelStats& s) {
    std::string cpu;
    for (double c : s.cpu_seconds_per_shard) cpu += fmt::format("{}{:.3f}", cpu.empty() ? "" : "/", c);
    return fmt::format("stats: {} shards, events per shard {}; {} chunks read, at most {} lines in flight "
                       "(bound {}), {} detections held for ordering\nstats: cpu seconds per shard {}, "
                       "reader {:.3f}\n",
                       s.shards, fmt::join(s.events_per_shard, "/"), s.chunks, s.inflight_high_water,
                       s.inflight_bound, s.ordered_high_water, cpu, s.reader_cpu_seconds);
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

    auto reader = ChunkReader::open(opts.events_path);
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
    auto outs = open_run_outputs(opts, ck.get());
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
    Sink sink(n, popts, *out, suppressed_out.get());
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
    std::vector<std::thread> workers;
    for (uint32_t s = 0; s < n; ++s)
        workers.emplace_back([&, s] {
            while (ChunkPtr c = queues[s]->pop()) {
                if (c->barrier) {
                    // A quiescent point: every effect of the chunks before is done; hand over the output,
                    // save the state (in parallel with the other shards), wait for the snapshot.
                    sink.deliver(shards[s]->take(false));
                    states[s].clear();
                    ir::SnapWriter w(states[s]);
                    std::string loop_state, shard_state;
                    ir::SnapWriter lw(loop_state);
                    loops[s]->save(lw);
                    w.str(loop_state);
                    if (auto st = shards[s]->save(shard_state); !st) save_errors[s] = st.error();
                    w.str(shard_state);
                    gate.arrive_and_wait();
                    continue;
                }
                loops[s]->on_chunk(*c);
                c.reset();
                sink.deliver(shards[s]->take(false));
            }
            loops[s]->finish();
            sink.deliver(shards[s]->take(true));
            shards[s]->close();
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
    std::atomic<int64_t> inflight{0};
    uint64_t inflight_high_water = 0, chunks = 0;
    std::string failure;
    while (std::unique_ptr<InputChunk> c = rd.next(popts.chunk_bytes, popts.chunk_lines)) {
        ++chunks;
        lines_read += c->lines;
        c->inflight = &inflight;
        const int64_t now = inflight.fetch_add(static_cast<int64_t>(c->lines), std::memory_order_relaxed) +
                            static_cast<int64_t>(c->lines);
        inflight_high_water = std::max<uint64_t>(inflight_high_water, static_cast<uint64_t>(now));
        ChunkPtr shared(std::move(c));
        for (auto& q : queues) q->push(shared);
        if (ck && ck->due(lines_read)) {
            auto barrier = std::make_shared<InputChunk>();
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
    if (stats) {
        stats->shards = n;
        stats->events_per_shard.clear();
        for (const auto& s : shards) stats->events_per_shard.push_back(s->processed());
        stats->inflight_high_water = inflight_high_water;
        stats->inflight_bound = static_cast<uint64_t>(popts.queue_chunks + 2) * popts.chunk_lines;
        stats->chunks = chunks;
        stats->ordered_high_water = sink.ordered_high_water();
        stats->cpu_seconds_per_shard = shard_cpu;
        stats->reader_cpu_seconds = reader_cpu;
    }

    if (auto r = out->close(); !r) return Error{r.error()};
    if (suppressed_out)
        if (auto r = suppressed_out->close(); !r) return Error{r.error()};
    if (auto r = dead->close(); !r) return Error{r.error()};
    if (auto r = report_run(sum, opts, suppressed_out != nullptr); !r) return Error{r.error()};
    return sum;
}

} // namespace ethogram::runtime
