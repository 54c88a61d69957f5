// pipeline.cpp: the streaming loop and the run summary.
#include "runtime/pipeline.h"

#include "runtime/checkpointer.h"
#include "runtime/json_writer.h"
#include "runtime/line_reader.h"
#include "runtime/line_stage.h"
#include "runtime/output.h"
#include "runtime/output_file.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

namespace ethogram::runtime {

uint64_t RunSummary::dead_total() const {
    uint64_t n = 0;
    for (auto c : dead) n += c;
    return n;
}

Expected<RunSummary> run_pipeline(const ir::RuleSet& rs, ir::StringPool& pool, ir::Executor& exec,
                                  const PipelineOptions& opts) {
    auto start = std::chrono::steady_clock::now();
    auto reader = LineReader::open(opts.events_path);
    if (!reader) return Error{reader.error()};
    // Checkpoints: a snapshot to resume from decides how the outputs are opened (cut back to the lengths
    // it recorded, instead of truncated).
    std::unique_ptr<Checkpointer> ck;
    if (!opts.checkpoint.dir.empty()) {
        auto c = Checkpointer::open(rs, opts);
        if (!c) return Error{c.error()};
        ck = std::move(*c);
    }
    auto outs = open_run_outputs(opts, ck.get());
    if (!outs) return Error{outs.error()};
    std::unique_ptr<OutputFile> out = std::move(outs->out), suppressed_out = std::move(outs->suppressed);
    std::unique_ptr<DeadLetterWriter> dead = std::move(outs->dead);

    DetectionWriter writer(
        rs, pool, OutputOptions{opts.explain, opts.only, opts.max_events_per_alias, opts.bundle_hash},
        out.get(), suppressed_out.get());
    LineStage stage(rs, pool, opts, exec, writer, dead.get());

    std::string_view line;
    PipelineParts parts{reader->get(),
                        &stage.reorder(),
                        &writer,
                        dead.get(),
                        out.get(),
                        suppressed_out.get(),
                        &exec,
                        &pool,
                        stage.seq_counter(),
                        stage.lines_in_counter(),
                        stage.processed_counter(),
                        start};
    if (ck)
        if (auto st = ck->restore(parts); !st) return Error{st.error()};
    const Moment first_read = Moment::now();
    for (;;) {
        // Between two lines every effect of the previous one is done: a consistent point to snapshot.
        if (ck)
            if (auto st = ck->tick(parts); !st) return Error{st.error()};
        if (!(*reader)->next(line)) break;
        if (LineStage::is_blank(line)) continue;
        stage.offer(line, (*reader)->line_number());
    }
    if (!(*reader)->error().empty()) return Error{(*reader)->error()};
    stage.finish();
    const Moment last_event = Moment::now();
    // After resumes the wall time is the whole run's: this process's plus what the snapshot carried.
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    RunSummary sum = stage.summary(writer, *dead, wall + (ck ? ck->prior_wall_seconds() : 0));
    if (ck) {
        sum.resumes = ck->resumes();
        sum.resumed_from = ck->resumed_from();
    }
    set_steady_state(sum, start, first_read, last_event);

    if (auto r = out->close(); !r) return Error{r.error()};
    if (suppressed_out)
        if (auto r = suppressed_out->close(); !r) return Error{r.error()};
    if (auto r = dead->close(); !r) return Error{r.error()};

    if (auto r = report_run(sum, opts, suppressed_out != nullptr); !r) return Error{r.error()};
    return sum;
}

namespace {
// Sanitizer builds free everything: their leak checks would report the state left to the OS. GCC defines
// __SANITIZE_*; clang only answers __has_feature.
#if defined(__has_feature)
constexpr bool kClangSanitized =
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer);
#else
constexpr bool kClangSanitized = false;
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = kClangSanitized;
#endif
} // namespace

bool skip_final_free(const PipelineOptions& opts) {
    return opts.exit_after && !kSanitized;
}

Moment Moment::now() {
    return Moment{std::chrono::steady_clock::now(),
                  std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()};
}

void set_steady_state(RunSummary& s, std::chrono::steady_clock::time_point start, const Moment& first_read,
                      const Moment& last_event) {
    s.setup_seconds = std::chrono::duration<double>(first_read.steady - start).count();
    s.steady_seconds = std::chrono::duration<double>(last_event.steady - first_read.steady).count();
    s.first_read_unix = first_read.unix_seconds;
    s.last_event_unix = last_event.unix_seconds;
}

Expected<std::unique_ptr<DeadLetterWriter>> open_dead_letter_output(const PipelineOptions& o) {
    if (!o.dead_letter_path.empty() || o.out_path != "-") {
        std::string path = o.dead_letter_path.empty() ? o.out_path + ".dead.jsonl" : o.dead_letter_path;
        auto f = OutputFile::open(path);
        if (!f) return Error{f.error()};
        return std::make_unique<DeadLetterWriter>(std::move(*f));
    }
    return std::make_unique<DeadLetterWriter>(OutputFile::stderr_stream(), "dead-letter: ");
}

Expected<bool> report_run(const RunSummary& sum, const PipelineOptions& opts, bool suppressed_written) {
    if (sum.suppressed > 0 && !suppressed_written)
        spdlog::info(
            "{} suppressed detection(s) counted but not written (pass --suppressed PATH to keep them)",
            sum.suppressed);
    if (sum.executor.overflow_drops > 0)
        spdlog::warn("{} partial match(es) or scope event(s) dropped by the state caps",
                     sum.executor.overflow_drops);
    if (sum.executor.budget_drops > 0)
        spdlog::warn("{} key state(s) dropped to stay under the state budget (state.max_state_bytes)",
                     sum.executor.budget_drops);
    if (opts.print_summary) fmt::print(stderr, "{}", format_summary(sum));
    if (!opts.summary_json_path.empty()) {
        auto f = OutputFile::open(opts.summary_json_path);
        if (!f) return Error{f.error()};
        (*f)->write(summary_json(sum));
        (*f)->write("\n");
        if (auto r = (*f)->close(); !r) return Error{r.error()};
    }
    return true;
}

std::string format_stats(const RunSummary& s) {
    const ir::ExecutorStats& e = s.executor;
    std::string out = fmt::format("stats: {} live keys, {} partial matches, {} bytes of key state (approx.)",
                                  e.live_keys, e.partial_matches, e.state_bytes);
    if (e.live_keys > 0) out += fmt::format(", {} bytes per key", e.state_bytes / e.live_keys);
    out +=
        fmt::format("\nstats: peak {} bytes of key state, {} idle keys evicted, {} overflow drops, {} "
                    "budget drops, reorder buffer at most {} events\n",
                    e.peak_state_bytes, e.evictions, e.overflow_drops, e.budget_drops, s.reorder_high_water);
    // The steady state beside (not instead of) the summary's wall time, which covers set-up and the close.
    // A resumed run's counts are the whole run's and its steady state this process's: not comparable.
    if (s.steady_seconds > 0 && s.resumes == 0)
        out +=
            fmt::format("stats: steady state {:.0f} events/s: {} events in {:.3f} s from the first read to "
                        "the last event processed ({:.3f} s of set-up before it); unix times {:.6f} to "
                        "{:.6f}\n",
                        static_cast<double>(s.processed) / s.steady_seconds, s.processed, s.steady_seconds,
                        s.setup_seconds, s.first_read_unix, s.last_event_unix);
    return out;
}

std::string format_summary(const RunSummary& s) {
    std::string out = fmt::format("summary: {} events in, {} processed, {} dead-lettered", s.lines_in,
                                  s.processed, s.dead_total());
    if (s.dead_total() > 0) {
        out += " (";
        bool first = true;
        for (size_t r = 0; r < kDeadReasonCount; ++r) {
            if (s.dead[r] == 0) continue;
            out += fmt::format("{}{} {}", first ? "" : ", ", dead_reason_code(static_cast<DeadReason>(r)),
                               s.dead[r]);
            first = false;
        }
        out += ")";
    }
    out += fmt::format("\nsummary: {} detections, {} suppressed", s.detections, s.suppressed);
    if (s.filtered > 0) out += fmt::format(", {} filtered by --only", s.filtered);
    if (s.executor.overflow_drops > 0)
        out += fmt::format(", {} dropped by the state caps", s.executor.overflow_drops);
    if (s.executor.budget_drops > 0)
        out += fmt::format(", {} key state(s) dropped by the state budget", s.executor.budget_drops);
    out += fmt::format("\nsummary: {:.3f} s, {:.0f} events/s\n", s.wall_seconds, s.events_per_second);
    if (s.resumes > 0)
        out +=
            fmt::format("summary: resumed {} time(s) from checkpoints, last from {}; the time covers every "
                        "process of the run\n",
                        s.resumes, s.resumed_from);
    return out;
}

std::string summary_json(const RunSummary& s) {
    std::string out = "{\"events_in\":";
    append_json_uint(out, s.lines_in);
    out += ",\"events_processed\":";
    append_json_uint(out, s.processed);
    out += ",\"detections\":";
    append_json_uint(out, s.detections);
    out += ",\"suppressed\":";
    append_json_uint(out, s.suppressed);
    out += ",\"filtered\":";
    append_json_uint(out, s.filtered);
    out += ",\"dead_letters\":{";
    for (size_t r = 0; r < kDeadReasonCount; ++r) {
        if (r) out.push_back(',');
        append_json_string(out, dead_reason_code(static_cast<DeadReason>(r)));
        out.push_back(':');
        append_json_uint(out, s.dead[r]);
    }
    out += "},\"dead_letters_total\":";
    append_json_uint(out, s.dead_total());
    out += ",\"late\":";
    append_json_uint(out, s.late());
    out += ",\"reorder_max_buffered\":";
    append_json_uint(out, s.reorder_high_water);
    out += ",\"executor\":{\"live_keys\":";
    append_json_uint(out, s.executor.live_keys);
    out += ",\"partial_matches\":";
    append_json_uint(out, s.executor.partial_matches);
    out += ",\"overflow_drops\":";
    append_json_uint(out, s.executor.overflow_drops);
    out += ",\"evictions\":";
    append_json_uint(out, s.executor.evictions);
    out += ",\"state_bytes\":";
    append_json_uint(out, s.executor.state_bytes);
    out += ",\"peak_state_bytes\":";
    append_json_uint(out, s.executor.peak_state_bytes);
    out += ",\"budget_drops\":";
    append_json_uint(out, s.executor.budget_drops);
    out += "},\"wall_seconds\":";
    append_json_double(out, s.wall_seconds);
    out += ",\"events_per_second\":";
    append_json_double(out, s.events_per_second);
    out += ",\"resumes\":";
    append_json_uint(out, s.resumes);
    if (s.resumes > 0) {
        out += ",\"resumed_from\":";
        append_json_string(out, s.resumed_from);
    }
    out.push_back('}');
    return out;
}

} // namespace ethogram::runtime
