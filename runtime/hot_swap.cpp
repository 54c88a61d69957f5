// hot_swap.cpp: the watching pipeline: swaps executors between two events, carries state, feeds a shadow.
#include "runtime/hot_swap.h"

#include "runtime/json_writer.h"
#include "runtime/line_stage.h"
#include "runtime/output.h"
#include "runtime/output_file.h"
#include "runtime/stream_reader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdint>
#include <tuple>

namespace ethogram::runtime {

namespace {

volatile std::sig_atomic_t g_sighup = 0;
extern "C" void on_sighup(int) {
    g_sighup = 1;
}
volatile std::sig_atomic_t g_stop = 0; // SIGINT or SIGTERM while following a file
extern "C" void on_stop(int sig) {
    g_stop = sig;
}

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

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

// One version's parts around its line stage: the rule set and executor, the writer, the recorder for the
// shadow diff. The live version and the shadow each have one, fed the same lines.
struct Version {
    LiveVersion v;
    std::unique_ptr<DetectionWriter> writer;
    std::unique_ptr<Recorder> sink;
    std::unique_ptr<LineStage> stage;

    explicit Version(LiveVersion lv) : v(std::move(lv)) {}

    // The writer (and its recorder) for `v`; `--only` by path is resolved in v's taxonomy.
    void open_writer(ir::StringPool& pool, const PipelineOptions& p, const std::string& only_path,
                     OutputFile* out, OutputFile* supp, std::map<DiffKey, uint64_t>* seen) {
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
    void open(ir::StringPool& pool, const PipelineOptions& p, const std::string& only_path, OutputFile* out,
              OutputFile* supp, std::map<DiffKey, uint64_t>* seen, DeadLetterWriter* dead) {
        open_writer(pool, p, only_path, out, supp, seen);
        // Buffered events' lines are kept: a swap decodes them again under the new schemas.
        stage = std::make_unique<LineStage>(*v.rs, pool, p, *v.exec, *sink, dead, /*keep_lines=*/true);
    }
    // Swaps in `next` between two lines: a new writer that continues the old one's counts, the stage
    // re-pointed (its buffered events decoded again); then the old parts go, those that refer to the old
    // rule set first.
    void swap_to(LiveVersion next, ir::StringPool& pool, const PipelineOptions& p,
                 const std::string& only_path, OutputFile* out, OutputFile* supp,
                 std::map<DiffKey, uint64_t>* seen) {
        LiveVersion old = std::move(v);
        std::unique_ptr<DetectionWriter> old_writer = std::move(writer);
        std::unique_ptr<Recorder> old_sink = std::move(sink);
        v = std::move(next);
        open_writer(pool, p, only_path, out, supp, seen);
        writer->restore_counts(old_writer->emitted(), old_writer->suppressed_count(), old_writer->filtered());
        stage->rebind(*v.rs, *v.exec, *sink);
        old_sink.reset();
        old_writer.reset();
        old.exec.reset();
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
    auto reader = StreamReader::open(p.events_path, w.follow);
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
    Version live(std::move(initial));
    live.open(pool, p, w.only_path, out->get(), suppressed_out.get(), shadow_opts ? &live_seen : nullptr,
              dead.get());
    std::unique_ptr<Version> shadow;
    if (shadow_opts) {
        auto f = OutputFile::open(shadow_opts->out_path);
        if (!f) return Error{f.error()};
        shadow_out = std::move(*f);
        shadow = std::make_unique<Version>(std::move(shadow_opts->version));
        shadow->open(pool, p, w.only_path, shadow_out.get(), nullptr, &shadow_seen, nullptr);
        sum.shadow = true;
    }
    struct sigaction old_action {
    }, old_int{}, old_term{};
    if (w.sighup) {
        struct sigaction sa {};
        sa.sa_handler = on_sighup;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGHUP, &sa, &old_action);
    }
    if (w.follow) {
        // A followed file has no end: SIGINT or SIGTERM ends the run as the end of the input would.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        g_stop = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }

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
        rec.after_events = live.stage->processed();
        rec.prepare_ms = ms_since(next->noticed);
        rec.carried = next->exec->take_state(*live.v.exec, rec.transfer);
        if (!rec.carried)
            spdlog::warn("swap: the state was not carried ({}): every rule of {} starts fresh",
                         rec.transfer.error, rec.to);
        (*out)->flush();
        live.swap_to(std::move(*next), pool, p, w.only_path, out->get(), suppressed_out.get(),
                     shadow ? &live_seen : nullptr);
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
        if (g_stop != 0 && w.follow) {
            spdlog::info("{}: following ends ({}): the rest of the file is read, then the run ends",
                         p.events_path, g_stop == SIGINT ? "SIGINT" : "SIGTERM");
            (*reader)->stop();
            g_stop = 0;
        }
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
        if (LineStage::is_blank(line)) continue;
        ++since_check;
        const uint64_t line_no = (*reader)->line_number();
        const uint64_t before = live.stage->processed();
        live.stage->offer(line, line_no);
        if (pending >= 0 && live.stage->processed() > before) {
            SwapRecord& rec = sum.swaps[static_cast<size_t>(pending)];
            rec.latency_ms = ms_since(live.v.noticed);
            if (swap_log) swap_log->write(swap_json(rec));
            spdlog::info("swap: first event on {} {:.1f} ms after the change was noticed", rec.to,
                         rec.latency_ms);
            pending = -1;
        }
        if (shadow) shadow->stage->offer(line, line_no);
    }
    if (w.sighup) sigaction(SIGHUP, &old_action, nullptr);
    if (w.follow) {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
    }
    live.stage->finish();
    if (pending >= 0 && swap_log) swap_log->write(swap_json(sum.swaps[static_cast<size_t>(pending)]));
    if (shadow) shadow->stage->finish();

    sum.run =
        live.stage->summary(*live.writer, *dead, std::chrono::duration<double>(Clock::now() - start).count());
    RunSummary& s = sum.run;
    sum.refused = source.refused();
    if (shadow) {
        sum.shadow_processed = shadow->stage->processed();
        sum.shadow_dead = shadow->stage->dead_lines();
        sum.shadow_detections = shadow->writer->emitted();
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
