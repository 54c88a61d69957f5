// line_stage.cpp: one input line through decode, reorder and the executor (see line_stage.h).
#include "runtime/line_stage.h"

#include "runtime/dead_letter.h"
#include "runtime/output.h"
#include "runtime/reorder.h"

#include <algorithm>

namespace ethogram::runtime {

LineStage::LineStage(const ir::RuleSet& rs, ir::StringPool& pool, const PipelineOptions& opts,
                     ir::Executor& exec, ir::DetectionSink& sink, DeadLetterWriter* dead, bool keep_lines)
    : pool_(pool), opts_(opts), exec_(&exec), sink_(&sink), dead_(dead),
      keep_lines_(keep_lines && opts.allowed_lateness_us > 0), reorder_(opts.allowed_lateness_us) {
    decoder_.emplace(rs, pool_, DecoderOptions{opts_.type_field, opts_.epoch_unit});
    for (const ir::EventType& et : rs.events) max_fields_ = std::max(max_fields_, et.fields.size());
}

void LineStage::refuse(uint64_t line_no, DeadReason reason, std::string_view detail, std::string_view line) {
    if (dead_) dead_->write(line_no, reason, detail, line);
    ++dead_lines_;
}

void LineStage::offer(std::string_view line, uint64_t line_no) {
    ++lines_in_;
    ir::Event ev;
    if (!spare_fields_.empty()) { // a released event's field array: decoding then allocates nothing
        ev.fields = std::move(spare_fields_.back());
        spare_fields_.pop_back();
    } else {
        ev.fields.reserve(max_fields_);
    }
    if (!decoder_->decode(line, line_no, ev)) {
        refuse(line_no, decoder_->error().reason, decoder_->error().detail, line);
        return;
    }
    ev.seq = seq_++;
    const int64_t t = ev.time;
    const uint64_t s = ev.seq;
    switch (reorder_.admit_event(t)) {
    case ReorderBuffer::Admit::Late:
        refuse(line_no, DeadReason::Late, late_detail(t, reorder_.watermark(), opts_.allowed_lateness_us),
               line);
        return;
    case ReorderBuffer::Admit::Straight:
        // Released at once (every event without lateness): to the executor from here, not through
        // ready_, and its line is not kept (it would be dropped again on release).
        release_one(ev);
        return;
    case ReorderBuffer::Admit::Buffer: break;
    }
    reorder_.push_admitted(std::move(ev), ready_);
    if (keep_lines_) lines_.emplace(s, std::make_pair(line_no, std::string(line)));
    release();
}

void LineStage::release_one(ir::Event& e) {
    exec_->advance_watermark(e.time, *sink_);
    exec_->on_event(e, *sink_);
    ++processed_;
    if (!lines_.empty()) lines_.erase(e.seq);
    // The executor keeps copies of what it stores, never the event: its field array is free again.
    if (spare_fields_.size() < kSpareFields) spare_fields_.push_back(std::move(e.fields));
}

void LineStage::release() {
    for (ir::Event& e : ready_) release_one(e);
    ready_.clear();
}

void LineStage::finish() {
    reorder_.drain(ready_);
    release();
    exec_->advance_watermark(ir::kTimeInfinity, *sink_);
}

void LineStage::rebind(const ir::RuleSet& rs, ir::Executor& exec, ir::DetectionSink& sink) {
    exec_ = &exec;
    sink_ = &sink;
    decoder_.emplace(rs, pool_, DecoderOptions{opts_.type_field, opts_.epoch_unit});
    // The new version's types may be wider: spare arrays of the old capacity are dropped.
    for (const ir::EventType& et : rs.events) max_fields_ = std::max(max_fields_, et.fields.size());
    spare_fields_.clear();
    std::vector<ir::Event> held;
    reorder_.drain(held);
    for (const ir::Event& e : held) {
        auto it = lines_.find(e.seq);
        if (it == lines_.end()) continue; // cannot happen: every buffered event's line is kept
        auto [line_no, text] = std::move(it->second);
        lines_.erase(it);
        ir::Event ev;
        if (!decoder_->decode(text, line_no, ev)) {
            refuse(line_no, decoder_->error().reason, decoder_->error().detail, text);
            continue;
        }
        ev.seq = e.seq; // keeps the arrival order
        reorder_.push(std::move(ev));
        lines_.emplace(e.seq, std::make_pair(line_no, std::move(text)));
    }
}

RunSummary LineStage::summary(const DetectionWriter& writer, const DeadLetterWriter& dead,
                              double wall_seconds) const {
    RunSummary s;
    s.lines_in = lines_in_;
    s.processed = processed_;
    s.detections = writer.emitted();
    s.suppressed = writer.suppressed_count();
    s.filtered = writer.filtered();
    for (size_t r = 0; r < kDeadReasonCount; ++r) s.dead[r] = dead.count(static_cast<DeadReason>(r));
    s.reorder_high_water = reorder_.high_water();
    s.executor = exec_->stats();
    s.wall_seconds = wall_seconds;
    s.events_per_second = wall_seconds > 0 ? static_cast<double>(processed_) / wall_seconds : 0;
    return s;
}

} // namespace ethogram::runtime
