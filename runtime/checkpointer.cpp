// checkpointer.cpp: the runtime part of a checkpoint's payload and the resume procedure (see checkpointer.h).
// Payload layout: u32 version; input offset, line number, next seq; the run counters; the output lengths;
// the run's wall time so far (microseconds, every process's) and how many times it was resumed; the reorder
// buffer (max time, watermark, high water, events in (time, seq) order, a valid min-heap; older snapshots
// hold any heap order); the string pool (every string in id order); the executor's state (opaque,
// Executor::save_state).
#include "runtime/checkpointer.h"

#include "compiler/ir/snapshot_bytes.h"
#include "runtime/dead_letter.h"
#include "runtime/line_reader.h"
#include "runtime/output.h"
#include "runtime/output_file.h"
#include "runtime/reorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace ethogram::runtime {

// Payload versions (checkpointer.h): 3 single-threaded, 4 sharded; 1 and 2 were earlier layouts.
namespace {

// The shard count a payload was taken with (its state is split by key hash modulo the count): 1 for the
// single-threaded layout, 0 for a payload version this engine does not read.
Expected<uint32_t> taken_threads(uint32_t version, const std::string& payload) {
    if (version == Checkpointer::kPayloadVersion) return 1u;
    if (version != Checkpointer::kShardedPayloadVersion) return 0u;
    ir::SnapReader t(payload);
    t.u32();
    for (int i = 0; i < 3 + 5 + static_cast<int>(kDeadReasonCount) + 3 + 2; ++i)
        t.u64(); // up to the wall time and resume count
    const uint32_t n = t.u32();
    if (t.failed()) return Error{t.error()};
    if (n == 0) return Error{"a shard count of 0"};
    return n;
}

} // namespace

std::optional<uint32_t> Checkpointer::resume_threads(const std::string& dir_path) {
    auto dir = CheckpointDir::open(dir_path);
    if (!dir) return std::nullopt;
    CheckpointDir::Loaded loaded;
    std::vector<std::string> rejected;
    auto found = dir->load_latest(loaded, rejected);
    if (!found || !*found) return std::nullopt;
    ir::SnapReader r(loaded.payload);
    const uint32_t version = r.u32();
    if (r.failed()) return std::nullopt;
    auto n = taken_threads(version, loaded.payload);
    if (!n || *n == 0) return std::nullopt;
    return *n;
}

Expected<std::unique_ptr<Checkpointer>> Checkpointer::open(const ir::RuleSet& rs, const PipelineOptions& opts,
                                                           uint32_t threads) {
    auto dir = CheckpointDir::open(opts.checkpoint.dir);
    if (!dir) return Error{dir.error()};
    std::unique_ptr<Checkpointer> ck(new Checkpointer(std::move(*dir), opts.checkpoint, ruleset_hash(rs)));
    if (const char* k = std::getenv("ETHOGRAM_TEST_KILL_AT_LINE"))
        ck->kill_at_line_ = std::strtoull(k, nullptr, 10);
    if (ck->o_.every_events == 0 && ck->o_.every_wall_us == 0) ck->o_.every_events = kDefaultCheckpointEvents;

    CheckpointDir::Loaded loaded;
    std::vector<std::string> rejected;
    auto found = ck->dir_.load_latest(loaded, rejected);
    if (!found) return Error{found.error()};
    for (const std::string& why : rejected) spdlog::error("checkpoint rejected: {}", why);
    if (!*found) {
        if (!rejected.empty())
            return Error{fmt::format("{}: no valid checkpoint to resume from ({} rejected: {}); move the "
                                     "directory away to start from the beginning",
                                     opts.checkpoint.dir, rejected.size(), rejected.front())};
        return ck;
    }
    if (!rejected.empty()) spdlog::warn("resuming from the previous good checkpoint {}", loaded.path);
    // Compatibility: the same payload format, rule set, engine version, run arguments and shard count, or
    // nothing.
    ir::SnapReader r(loaded.payload);
    const uint32_t version = r.u32();
    if (r.failed()) return Error{fmt::format("{}: {}", loaded.path, r.error())};
    auto shards = taken_threads(version, loaded.payload);
    if (!shards) return Error{fmt::format("{}: runtime state: {}", loaded.path, shards.error())};
    const uint32_t taken_threads = *shards;
    std::string why;
    if (taken_threads == 0)
        why = fmt::format("its runtime state is in format version {} (this engine reads versions {} and {})",
                          version, kPayloadVersion, kShardedPayloadVersion);
    else if (loaded.header.ruleset_hash != ck->ruleset_hash_)
        why = fmt::format(
            "the rule set changed since it was taken (rule-set hash {} in the checkpoint, {} now)",
            loaded.header.ruleset_hash.substr(0, 16), ck->ruleset_hash_.substr(0, 16));
    else if (loaded.header.engine_version != opts.checkpoint.engine_version)
        why = fmt::format("it was taken by engine version {} (this is {})", loaded.header.engine_version,
                          opts.checkpoint.engine_version);
    else if (loaded.header.run_hash != blake2b_hex(opts.checkpoint.run_identity))
        why = "it was taken with other run arguments (input, outputs, lateness, state caps or output format)";
    else if (taken_threads != threads)
        why =
            fmt::format("it was taken with --threads {} (this run has --threads {}; the state of a key lives "
                        "in the shard its hash picks, and is not re-sharded): resume with --threads {}",
                        taken_threads, threads, taken_threads);
    if (!why.empty()) {
        if (!opts.checkpoint.drop_incompatible)
            return Error{
                fmt::format("{}: cannot resume: {}; pass --drop-incompatible-state to discard it and "
                            "start from the beginning of the input",
                            loaded.path, why)};
        spdlog::warn("{}: {}; dropping it (--drop-incompatible-state): starting from the beginning of the "
                     "input with empty state",
                     loaded.path, why);
        if (auto st = ck->dir_.clear(); !st) return Error{st.error()};
        return ck;
    }
    // The output lengths are needed before the outputs are opened.
    for (int i = 0; i < 3 + 5 + static_cast<int>(kDeadReasonCount); ++i) r.u64();
    ck->lengths_.out = r.u64();
    ck->lengths_.dead = r.u64();
    ck->lengths_.suppressed = r.u64();
    if (r.failed()) return Error{fmt::format("{}: {}", loaded.path, r.error())};
    if ((ck->lengths_.suppressed == OutputLengths::kNone) != opts.suppressed_path.empty())
        return Error{fmt::format("{}: cannot resume: --suppressed was {} when it was taken", loaded.path,
                                 opts.suppressed_path.empty() ? "given" : "not given")};
    ck->generation_ = loaded.header.generation;
    ck->resume_ = std::move(loaded);
    return ck;
}

Status Checkpointer::restore(PipelineParts& p) {
    if (!resume_) return ok_status();
    const std::string& path = resume_->path;
    ir::SnapReader r(resume_->payload);
    r.u32();
    const uint64_t offset = r.u64(), line_no = r.u64();
    *p.seq = r.u64();
    *p.lines_in = r.u64();
    *p.processed = r.u64();
    const uint64_t emitted = r.u64(), suppressed = r.u64(), filtered = r.u64();
    p.writer->restore_counts(emitted, suppressed, filtered);
    for (size_t i = 0; i < kDeadReasonCount; ++i) p.dead->restore_count(static_cast<DeadReason>(i), r.u64());
    r.u64(); // output lengths: applied when the outputs were opened
    r.u64();
    r.u64();
    prior_wall_us_ = r.u64();
    resumes_ = r.u64() + 1;
    resumed_from_ = path;
    const int64_t max_time = r.i64(), wm = r.i64();
    const uint64_t high = r.u64();
    std::vector<ir::Event> events(r.count(45));
    for (ir::Event& e : events) r.event(e);
    p.reorder->restore(max_time, wm, high, std::move(events));
    // The pool: the strings the rule set seeded (and the executor interned when created) must be the
    // same; the rest are interned in id order, which gives them their old ids.
    const uint64_t n = r.count(8);
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string s = r.str();
        if (i < p.pool->size()) {
            if (p.pool->view(static_cast<uint32_t>(i)) != s) r.fail("string pool mismatch");
        } else if (p.pool->intern(s) != i) {
            r.fail("string pool: a duplicate string");
        }
    }
    if (r.ok() && n < p.pool->size()) r.fail("string pool shorter than the rule set's");
    const std::string exec_state = r.str();
    if (r.ok() && r.remaining() != 0) r.fail("trailing bytes");
    if (r.failed()) return Error{fmt::format("{}: runtime state: {}", path, r.error())};
    if (auto st = p.exec->restore_state(exec_state); !st)
        return Error{fmt::format("{}: {}", path, st.error())};
    if (auto st = p.reader->seek(offset, line_no); !st) return Error{st.error()};
    last_lines_ = *p.lines_in;
    spdlog::info(
        "resumed from {} (input line {}, {} events processed; resume {} of the run, {:.3f} s of wall "
        "time before)",
        path, line_no, *p.processed, resumes_, prior_wall_seconds());
    resume_.reset();
    return ok_status();
}

Status Checkpointer::tick(PipelineParts& p) {
    if (kill_at_line_ != 0 && *p.lines_in == kill_at_line_) ::kill(::getpid(), SIGKILL);
    return due(*p.lines_in) ? take(p) : ok_status();
}

bool Checkpointer::due(uint64_t lines_in) {
    if (o_.every_events != 0 && lines_in - last_lines_ >= o_.every_events) return true;
    if (o_.every_wall_us == 0 || lines_in == last_lines_) return false;
    auto now = std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::microseconds>(now - last_time_).count() >=
           o_.every_wall_us;
}

void Checkpointer::resumed(uint64_t lines_in, uint64_t prior_wall_us, uint64_t resumes) {
    last_lines_ = lines_in;
    prior_wall_us_ = prior_wall_us;
    resumes_ = resumes + 1;
    resumed_from_ = resume_->path;
    resume_.reset();
}

uint64_t Checkpointer::wall_us(std::chrono::steady_clock::time_point started) const {
    return prior_wall_us_ + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                      std::chrono::steady_clock::now() - started)
                                                      .count());
}

Status Checkpointer::write(const std::string& payload, uint64_t lines_in, uint64_t live_keys) {
    const auto t0 = std::chrono::steady_clock::now();
    CheckpointHeader h;
    h.generation = ++generation_;
    h.ruleset_hash = ruleset_hash_;
    h.engine_version = o_.engine_version;
    h.run_hash = blake2b_hex(o_.run_identity);
    if (auto st = dir_.write(h, payload); !st) return st;
    ++taken_;
    last_lines_ = lines_in;
    last_time_ = std::chrono::steady_clock::now();
    spdlog::debug("checkpoint {}: {} bytes ({} live keys) in {:.2f} ms", h.generation, payload.size(),
                  live_keys, std::chrono::duration<double, std::milli>(last_time_ - t0).count());
    return ok_status();
}

Status Checkpointer::take(PipelineParts& p) {
    // Outputs first: what the snapshot records must be on disk before the snapshot is.
    auto out_len = p.out->sync();
    if (!out_len) return Error{out_len.error()};
    if (p.dead->stream() == nullptr) return Error{"dead letters: not a file (cannot checkpoint)"};
    auto dead_len = p.dead->stream()->sync();
    if (!dead_len) return Error{dead_len.error()};
    uint64_t supp_len = OutputLengths::kNone;
    if (p.suppressed != nullptr) {
        auto s = p.suppressed->sync();
        if (!s) return Error{s.error()};
        supp_len = *s;
    }
    std::string payload;
    ir::SnapWriter w(payload);
    w.u32(kPayloadVersion);
    w.u64(p.reader->offset());
    w.u64(p.reader->line_number());
    w.u64(*p.seq);
    w.u64(*p.lines_in);
    w.u64(*p.processed);
    w.u64(p.writer->emitted());
    w.u64(p.writer->suppressed_count());
    w.u64(p.writer->filtered());
    for (size_t i = 0; i < kDeadReasonCount; ++i) w.u64(p.dead->count(static_cast<DeadReason>(i)));
    w.u64(*out_len);
    w.u64(*dead_len);
    w.u64(supp_len);
    w.u64(wall_us(p.started));
    w.u64(resumes_);
    w.i64(p.reorder->max_time());
    w.i64(p.reorder->watermark());
    w.u64(p.reorder->high_water());
    const std::vector<const ir::Event*> buffered = p.reorder->buffered();
    w.u64(buffered.size());
    for (const ir::Event* e : buffered) w.event(*e);
    w.u64(p.pool->size());
    for (uint32_t i = 0; i < p.pool->size(); ++i) w.str(p.pool->view(i));
    std::string exec_state;
    if (auto st = p.exec->save_state(exec_state); !st)
        return Error{fmt::format("checkpoint: {}", st.error())};
    w.str(exec_state);
    return write(payload, *p.lines_in, p.exec->stats().live_keys);
}

Expected<RunOutputs> open_run_outputs(const PipelineOptions& opts, const Checkpointer* ck, bool untruncated) {
    const bool resume = ck != nullptr && ck->resuming();
    auto open_out = [&](const std::string& path, uint64_t len) {
        if (resume) return OutputFile::open_resume(path, len);
        return untruncated && ck == nullptr ? OutputFile::open_untruncated(path) : OutputFile::open(path);
    };
    RunOutputs o;
    auto out = open_out(opts.out_path, resume ? ck->resume_lengths().out : 0);
    if (!out) return Error{out.error()};
    o.out = std::move(*out);
    if (!opts.suppressed_path.empty()) {
        auto f = open_out(opts.suppressed_path, resume ? ck->resume_lengths().suppressed : 0);
        if (!f) return Error{f.error()};
        o.suppressed = std::move(*f);
    }
    if (resume) {
        auto f =
            open_out(opts.dead_letter_path.empty() ? opts.out_path + ".dead.jsonl" : opts.dead_letter_path,
                     ck->resume_lengths().dead);
        if (!f) return Error{f.error()};
        o.dead = std::make_unique<DeadLetterWriter>(std::move(*f));
    } else {
        auto dead_or = open_dead_letter_output(opts);
        if (!dead_or) return Error{dead_or.error()};
        o.dead = std::move(*dead_or);
    }
    return o;
}

} // namespace ethogram::runtime
