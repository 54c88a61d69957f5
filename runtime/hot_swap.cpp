// hot_swap.cpp: the watching pipeline: swaps executors between two events, carries state, feeds a shadow.
#include "runtime/hot_swap.h"

#include "runtime/decoder.h"
#include "runtime/json_writer.h"
#include "runtime/output.h"
#include "runtime/output_file.h"
#include "runtime/reorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <tuple>
#include <unistd.h>
#include <unordered_map>

namespace ethogram::runtime {

namespace {

volatile std::sig_atomic_t g_sighup = 0;
extern "C" void on_sighup(int) {
    g_sighup = 1;
}

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Lines as they arrive: read(2), never stdio's fread (which waits for a full buffer on a pipe), with a
// timeout so that deployment checks happen while the input is idle.
class StreamReader {
public:
    enum class Got { Line, Timeout, End, Error };
    static Expected<std::unique_ptr<StreamReader>> open(const std::string& path) {
        int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
        return std::make_unique<StreamReader>(fd, path == "-" ? "<stdin>" : path, path != "-");
    }
    StreamReader(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
    ~StreamReader() {
        if (owned_) ::close(fd_);
    }
    StreamReader(const StreamReader&) = delete;
    StreamReader& operator=(const StreamReader&) = delete;

    Got next(std::string& line, int timeout_ms) {
        for (;;) {
            if (size_t nl = buf_.find('\n', scan_); nl != std::string::npos) {
                line.assign(buf_, 0, nl);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                buf_.erase(0, nl + 1);
                scan_ = 0;
                ++line_no_;
                return Got::Line;
            }
            scan_ = buf_.size();
            if (eof_) {
                if (buf_.empty()) return Got::End;
                line.swap(buf_);
                buf_.clear();
                scan_ = 0;
                if (!line.empty() && line.back() == '\r') line.pop_back();
                ++line_no_;
                return Got::Line;
            }
            pollfd pfd{fd_, POLLIN, 0};
            int r = ::poll(&pfd, 1, timeout_ms);
            if (r == 0 || (r < 0 && errno == EINTR)) return Got::Timeout;
            if (r < 0) return fail();
            char chunk[65536];
            ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) return Got::Timeout;
            if (n < 0) return fail();
            if (n == 0) eof_ = true;
            buf_.append(chunk, static_cast<size_t>(n));
        }
    }
    uint64_t line_number() const { return line_no_; }
    const std::string& error() const { return error_; }

private:
    Got fail() {
        error_ = fmt::format("{}: read failed: {}", name_, std::strerror(errno));
        return Got::Error;
    }
    int fd_;
    std::string name_;
    bool owned_;
    std::string buf_, error_;
    size_t scan_ = 0;
    uint64_t line_no_ = 0;
    bool eof_ = false;
};

// What a detection is matched on in the shadow diff.
using DiffKey = std::tuple<std::string, std::string, int64_t>; // rule name, key, time

// Forwards detections to the writer and remembers them for the shadow diff.
class Recorder final : public ir::DetectionSink {
public:
    Recorder(ir::DetectionSink& inner, const ir::RuleSet& rs, const ir::StringPool& pool,
             std::map<DiffKey, uint64_t>* seen)
        : inner_(inner), rs_(rs), pool_(pool), seen_(seen) {}
    void emit(ir::Detection&& d) override {
        if (seen_) ++(*seen_)[DiffKey{rs_.rules[d.rule].name, std::string(pool_.view(d.key)), d.time}];
        inner_.emit(std::move(d));
    }
    void suppressed(ir::Detection&& d) override { inner_.suppressed(std::move(d)); }

private:
    ir::DetectionSink& inner_;
    const ir::RuleSet& rs_;
    const ir::StringPool& pool_;
    std::map<DiffKey, uint64_t>* seen_;
};

// One version's path through the pipeline: decoder, reorder buffer, executor, writer. The live stage and
// the shadow stage each have one, fed the same lines.
struct Stage {
    LiveVersion v;
    std::unique_ptr<Decoder> decoder;
    std::unique_ptr<DetectionWriter> writer;
    std::unique_ptr<Recorder> sink;
    ReorderBuffer reorder;
    std::unordered_map<uint64_t, std::pair<uint64_t, std::string>> raw; ///< buffered events' lines
    std::vector<ir::Event> ready;
    uint64_t seq = 0, processed = 0;
    uint64_t emitted = 0, suppressed = 0, filtered = 0; ///< of writers replaced by swaps

    Stage(LiveVersion lv, int64_t lateness) : v(std::move(lv)), reorder(lateness) {}

    // Before a swap: what refers to the old rule set goes, counts kept.
    void retire() {
        emitted += writer->emitted();
        suppressed += writer->suppressed_count();
        filtered += writer->filtered();
        sink.reset();
        writer.reset();
        decoder.reset();
    }
    void open(ir::StringPool& pool, const PipelineOptions& p, const std::string& only_path, OutputFile* out,
              OutputFile* supp, std::map<DiffKey, uint64_t>* seen) {
        decoder = std::make_unique<Decoder>(*v.rs, pool, DecoderOptions{p.type_field, p.epoch_unit});
        int32_t only = p.only;
        if (!only_path.empty()) {
            only = v.rs->find_taxonomy(only_path);
            if (only < 0) {
                spdlog::warn("--only: {} has no taxonomy node '{}': none of its detections pass", v.label,
                             only_path);
                only = INT32_MAX; // a node no rule is labelled under
            }
        }
        writer = std::make_unique<DetectionWriter>(
            *v.rs, pool, OutputOptions{p.explain, only, p.max_events_per_alias, v.bundle_hash}, out, supp);
        sink = std::make_unique<Recorder>(*writer, *v.rs, pool, seen);
    }
    uint64_t total_emitted() const { return emitted + writer->emitted(); }

    // Decodes and offers one line; false + a dead letter written when refused.
    void offer(std::string_view line, uint64_t line_no, DeadLetterWriter* dead, uint64_t* dead_count,
               const PipelineOptions& p) {
        ir::Event ev;
        if (!decoder->decode(line, line_no, ev)) {
            if (dead) dead->write(line_no, decoder->error().reason, decoder->error().detail, line);
            ++*dead_count;
            return;
        }
        ev.seq = seq++;
        const int64_t t = ev.time;
        const uint64_t s = ev.seq;
        if (!reorder.push(std::move(ev))) {
            if (dead)
                dead->write(line_no, DeadReason::Late,
                            fmt::format("event time {} is before the watermark {} (allowed lateness {})",
                                        format_rfc3339(t), format_rfc3339(reorder.watermark()),
                                        format_duration(p.allowed_lateness_us)),
                            line);
            ++*dead_count;
            return;
        }
        if (p.allowed_lateness_us > 0) raw.emplace(s, std::make_pair(line_no, std::string(line)));
        reorder.pop_ready(ready);
        run();
    }
    void run() {
        for (const ir::Event& e : ready) {
            v.exec->advance_watermark(e.time, *sink);
            v.exec->on_event(e, *sink);
            ++processed;
            if (!raw.empty()) raw.erase(e.seq);
        }
        ready.clear();
    }
    void finish() {
        reorder.drain(ready);
        run();
        v.exec->advance_watermark(ir::kTimeInfinity, *sink);
    }
    // After a swap: the events still buffered were decoded against the old schemas; decode their lines again
    // (a line the new schemas refuse is dead-lettered: counted, never lost).
    void redecode(DeadLetterWriter* dead, uint64_t* dead_count, const PipelineOptions& p) {
        std::vector<ir::Event> held;
        reorder.drain(held);
        for (const ir::Event& e : held) {
            auto it = raw.find(e.seq);
            if (it == raw.end()) continue; // cannot happen: every buffered event's line is kept
            auto [line_no, text] = std::move(it->second);
            raw.erase(it);
            ir::Event ev;
            if (!decoder->decode(text, line_no, ev)) {
                if (dead) dead->write(line_no, decoder->error().reason, decoder->error().detail, text);
                ++*dead_count;
                continue;
            }
            ev.seq = e.seq; // keeps the arrival order
            reorder.push(std::move(ev));
            raw.emplace(e.seq, std::make_pair(line_no, std::move(text)));
        }
        (void)p;
    }
};

void append_names(std::string& out, const std::vector<std::string>& names) {
    out.push_back('[');
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, names[i]);
    }
    out.push_back(']');
}

std::string swap_json(const SwapRecord& r) {
    std::string o = "{\"time\":";
    append_json_string(o, format_rfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()));
    o += ",\"from\":";
    append_json_string(o, r.from);
    o += ",\"to\":";
    append_json_string(o, r.to);
    o += ",\"from_bundle\":";
    append_json_string(o, r.from_bundle);
    o += ",\"to_bundle\":";
    append_json_string(o, r.to_bundle);
    o += ",\"after_events\":";
    append_json_uint(o, r.after_events);
    o += ",\"latency_ms\":";
    append_json_double(o, r.latency_ms);
    o += ",\"prepare_ms\":";
    append_json_double(o, r.prepare_ms);
    o += ",\"state_carried\":";
    o += r.carried ? "true" : "false";
    o += ",\"carried_rules\":";
    append_names(o, r.transfer.carried_rules);
    o += ",\"fresh_rules\":";
    append_names(o, r.transfer.fresh_rules);
    o += ",\"keys\":";
    append_json_uint(o, r.transfer.keys);
    o += ",\"partial_matches\":";
    append_json_uint(o, r.transfer.partial_matches);
    o += ",\"timers\":";
    append_json_uint(o, r.transfer.timers);
    o += "}\n";
    return o;
}

} // namespace

bool bind_strings(ir::RuleSet& rs, ir::StringPool& pool) {
    std::vector<uint32_t> ids(rs.strings.size());
    bool same = true;
    for (size_t i = 0; i < rs.strings.size(); ++i) {
        ids[i] = pool.intern(rs.strings[i]);
        same = same && ids[i] == i;
    }
    auto fix = [&](ir::Value& v) {
        if (v.type == ir::Type::String && v.i >= 0 && static_cast<size_t>(v.i) < ids.size())
            v.i = ids[static_cast<size_t>(v.i)];
    };
    for (ir::Expr& e : rs.exprs) {
        fix(e.constant);
        for (ir::Value& v : e.list) fix(v);
    }
    return same;
}

Expected<WatchSummary> run_watch_pipeline(LiveVersion initial, ir::StringPool& pool, SwapSource& source,
                                          const PipelineOptions& p, const WatchOptions& w,
                                          std::optional<ShadowOptions> shadow_opts) {
    auto start = Clock::now();
    auto reader = StreamReader::open(p.events_path);
    if (!reader) return Error{reader.error()};
    auto out = OutputFile::open(p.out_path);
    if (!out) return Error{out.error()};
    std::unique_ptr<OutputFile> suppressed_out, shadow_out, swap_log;
    if (!p.suppressed_path.empty()) {
        auto f = OutputFile::open(p.suppressed_path);
        if (!f) return Error{f.error()};
        suppressed_out = std::move(*f);
    }
    if (!w.swap_log_path.empty()) {
        auto f = OutputFile::open(w.swap_log_path);
        if (!f) return Error{f.error()};
        swap_log = std::move(*f);
    }
    auto dead_or = open_dead_letter_output(p);
    if (!dead_or) return Error{dead_or.error()};
    std::unique_ptr<DeadLetterWriter> dead = std::move(*dead_or);

    WatchSummary sum;
    std::map<DiffKey, uint64_t> live_seen, shadow_seen;
    Stage live(std::move(initial), p.allowed_lateness_us);
    live.open(pool, p, w.only_path, out->get(), suppressed_out.get(), shadow_opts ? &live_seen : nullptr);
    std::unique_ptr<Stage> shadow;
    if (shadow_opts) {
        auto f = OutputFile::open(shadow_opts->out_path);
        if (!f) return Error{f.error()};
        shadow_out = std::move(*f);
        shadow = std::make_unique<Stage>(std::move(shadow_opts->version), p.allowed_lateness_us);
        shadow->open(pool, p, w.only_path, shadow_out.get(), nullptr, &shadow_seen);
        sum.shadow = true;
    }
    struct sigaction old_action {};
    if (w.sighup) {
        struct sigaction sa {};
        sa.sa_handler = on_sighup;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGHUP, &sa, &old_action);
    }

    uint64_t live_dead = 0;
    auto last_check = Clock::now();
    uint64_t since_check = 0;
    int64_t pending = -1; ///< the latest swap, until its first event (then its log line is written)
    const auto poll_every = std::chrono::microseconds(std::max<int64_t>(w.poll_us, 0));

    auto check = [&] {
        last_check = Clock::now();
        since_check = 0;
        g_sighup = 0;
        std::optional<LiveVersion> next = source.poll(pool);
        if (!next) return;
        SwapRecord rec;
        rec.from = live.v.label;
        rec.to = next->label;
        rec.from_bundle = live.v.bundle_hash;
        rec.to_bundle = next->bundle_hash;
        rec.after_events = live.processed;
        rec.prepare_ms = ms_since(next->noticed);
        rec.carried = next->exec->take_state(*live.v.exec, rec.transfer);
        if (!rec.carried)
            spdlog::warn("swap: the state was not carried ({}): every rule of {} starts fresh",
                         rec.transfer.error, rec.to);
        (*out)->flush();
        // What refers to the old rule set goes first: writer and decoder, then the executor, then the rules.
        live.retire();
        live.v.exec.reset();
        live.v = std::move(*next);
        live.open(pool, p, w.only_path, out->get(), suppressed_out.get(), shadow ? &live_seen : nullptr);
        live.redecode(dead.get(), &live_dead, p);
        spdlog::info(
            "swap: {} -> {} after {} events ({:.1f} ms to verify and compile; {} rule(s) carried, {} "
            "fresh; {} key(s), {} partial match(es), {} timer(s) carried)",
            rec.from, rec.to, rec.after_events, rec.prepare_ms, rec.transfer.carried_rules.size(),
            rec.transfer.fresh_rules.size(), rec.transfer.keys, rec.transfer.partial_matches,
            rec.transfer.timers);
        if (pending >= 0 && swap_log) swap_log->write(swap_json(sum.swaps[static_cast<size_t>(pending)]));
        sum.swaps.push_back(std::move(rec));
        pending = static_cast<int64_t>(sum.swaps.size()) - 1;
    };

    std::string line;
    for (;;) {
        // While idle, wait for input until the next check is due (at least 10 ms: `--poll 0` checks at every
        // line, and must not spin on an idle input).
        auto wait = poll_every - (Clock::now() - last_check);
        int timeout_ms = static_cast<int>(std::clamp<int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), 10, 60000));
        StreamReader::Got got = (*reader)->next(line, 0);
        if (got == StreamReader::Got::Timeout && g_sighup == 0) {
            // The input is idle: what was detected so far goes out now, then wait for more (or a check).
            (*out)->flush();
            if (shadow_out) shadow_out->flush();
            got = (*reader)->next(line, timeout_ms);
        }
        if (got == StreamReader::Got::Error) return Error{(*reader)->error()};
        if (got == StreamReader::Got::End) break;
        const bool due = g_sighup != 0 || Clock::now() - last_check >= poll_every ||
                         (w.poll_events > 0 && since_check >= w.poll_events);
        if (due) check();
        if (got == StreamReader::Got::Timeout) continue;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        ++sum.run.lines_in;
        ++since_check;
        const uint64_t line_no = (*reader)->line_number();
        const uint64_t before = live.processed;
        live.offer(line, line_no, dead.get(), &live_dead, p);
        if (pending >= 0 && live.processed > before) {
            SwapRecord& rec = sum.swaps[static_cast<size_t>(pending)];
            rec.latency_ms = ms_since(live.v.noticed);
            if (swap_log) swap_log->write(swap_json(rec));
            spdlog::info("swap: first event on {} {:.1f} ms after the change was noticed", rec.to,
                         rec.latency_ms);
            pending = -1;
        }
        if (shadow) shadow->offer(line, line_no, nullptr, &sum.shadow_dead, p);
    }
    if (w.sighup) sigaction(SIGHUP, &old_action, nullptr);
    live.finish();
    if (pending >= 0 && swap_log) swap_log->write(swap_json(sum.swaps[static_cast<size_t>(pending)]));
    if (shadow) shadow->finish();

    RunSummary& s = sum.run;
    s.processed = live.processed;
    s.detections = live.total_emitted();
    s.suppressed = live.suppressed + live.writer->suppressed_count();
    s.filtered = live.filtered + live.writer->filtered();
    for (size_t r = 0; r < kDeadReasonCount; ++r) s.dead[r] = dead->count(static_cast<DeadReason>(r));
    s.reorder_high_water = live.reorder.high_water();
    s.executor = live.v.exec->stats();
    s.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    s.events_per_second = s.wall_seconds > 0 ? static_cast<double>(s.processed) / s.wall_seconds : 0;
    sum.refused = source.refused();
    if (shadow) {
        sum.shadow_processed = shadow->processed;
        sum.shadow_detections = shadow->total_emitted();
        for (const auto& [k, n] : live_seen) {
            auto it = shadow_seen.find(k);
            const uint64_t m = it == shadow_seen.end() ? 0 : it->second;
            ShadowDiffRow& row = sum.diff[std::get<0>(k)];
            row.both += std::min(n, m);
            row.only_live += n - std::min(n, m);
        }
        for (const auto& [k, m] : shadow_seen) {
            auto it = live_seen.find(k);
            const uint64_t n = it == live_seen.end() ? 0 : it->second;
            if (m > n) sum.diff[std::get<0>(k)].only_shadow += m - n;
        }
        if (auto r = shadow_out->close(); !r) return Error{r.error()};
    }
    if (auto r = (*out)->close(); !r) return Error{r.error()};
    if (suppressed_out)
        if (auto r = suppressed_out->close(); !r) return Error{r.error()};
    if (swap_log)
        if (auto r = swap_log->close(); !r) return Error{r.error()};
    if (auto r = dead->close(); !r) return Error{r.error()};
    if (auto r = report_run(s, p, suppressed_out != nullptr); !r) return Error{r.error()};
    if (p.print_summary) {
        fmt::print(stderr, "summary: {} swap(s), {} version(s) refused\n", sum.swaps.size(), sum.refused);
        if (shadow) fmt::print(stderr, "{}", format_shadow_diff(sum));
    }
    return sum;
}

std::string format_shadow_diff(const WatchSummary& s) {
    std::string o = fmt::format("shadow: {} events processed, {} dead-lettered, {} detections\n",
                                s.shadow_processed, s.shadow_dead, s.shadow_detections);
    for (const auto& [rule, row] : s.diff)
        o += fmt::format("shadow: rule {}: {} in both, {} only live, {} only shadow\n", rule, row.both,
                         row.only_live, row.only_shadow);
    return o;
}

} // namespace ethogram::runtime
