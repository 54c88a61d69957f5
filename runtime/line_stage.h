// line_stage.h: the per-line stage (decode, arrival number, reorder, dead letters, executor) that the batch
// pipeline and the watching pipeline both drive.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/decoder.h"
#include "runtime/pipeline.h"
#include "runtime/reorder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ethogram::runtime {

class DeadLetterWriter;
class DetectionWriter;

/// One input line at a time: decoded against the rule set's schemas, numbered in arrival order, offered to
/// the reorder buffer; a refused line (decode error, or late: docs/semantics.md section 1) is dead-lettered
/// with its reason; released events go to the executor, the watermark moved to each event's time first.
/// The stage owns the decoder, the reorder buffer and the counters; the caller owns the input, the
/// executor, the detection sink and the dead-letter writer, and decides when lines come (and, in the
/// watching pipeline, when the rules change).
class LineStage {
public:
    /// `dead` null: refused lines are only counted (dead_lines()). `keep_lines`: the text of every buffered
    /// event's line is kept, so that rebind() can decode it again under new schemas (a copy per line; with
    /// no allowed lateness nothing stays buffered, so nothing is kept).
    LineStage(const ir::RuleSet& rs, ir::StringPool& pool, const PipelineOptions& opts, ir::Executor& exec,
              ir::DetectionSink& sink, DeadLetterWriter* dead, bool keep_lines = false);
    LineStage(const LineStage&) = delete;
    LineStage& operator=(const LineStage&) = delete;

    /// Blank lines (spaces, tabs, CR only) are skipped by every pipeline, and not counted.
    static bool is_blank(std::string_view line) {
        return line.find_first_not_of(" \t\r") == std::string_view::npos;
    }

    /// One non-blank input line (counted in lines_in) with its 1-based line number in the input.
    void offer(std::string_view line, uint64_t line_no);
    /// End of input: every buffered event is released, then the watermark goes to infinity.
    void finish();
    /// A swap of the rules between two lines: the stage decodes against `rs` and feeds `exec` and `sink`
    /// from now on. The events still buffered were decoded under the old schemas: their lines (kept, see
    /// the constructor) are decoded again, in arrival order; one the new schemas refuse is dead-lettered.
    void rebind(const ir::RuleSet& rs, ir::Executor& exec, ir::DetectionSink& sink);

    uint64_t lines_in() const { return lines_in_; }
    uint64_t processed() const { return processed_; }
    uint64_t dead_lines() const { return dead_lines_; } ///< lines refused by this stage
    ReorderBuffer& reorder() { return reorder_; }
    // Checkpoints save and restore these counters in place (PipelineParts).
    uint64_t* seq_counter() { return &seq_; }
    uint64_t* lines_in_counter() { return &lines_in_; }
    uint64_t* processed_counter() { return &processed_; }

    /// The run summary's figures: this stage's counts, the writer's, the dead letters' per reason, the
    /// executor's statistics; `wall_seconds` is the run's wall time (events per second follow from it).
    RunSummary summary(const DetectionWriter& writer, const DeadLetterWriter& dead,
                       double wall_seconds) const;

private:
    void release();                 // hands `ready_` to the executor
    void release_one(ir::Event& e); // hands one released event to the executor, keeps its field array
    void refuse(uint64_t line_no, DeadReason reason, std::string_view detail, std::string_view line);

    ir::StringPool& pool_;
    const PipelineOptions& opts_;
    ir::Executor* exec_;
    ir::DetectionSink* sink_;
    DeadLetterWriter* dead_;
    const bool keep_lines_;
    std::optional<Decoder> decoder_; // re-made by rebind()
    ReorderBuffer reorder_;
    std::vector<ir::Event> ready_;
    /// Field arrays of released events, reused by the next decodes (an allocation and a free per event
    /// were about 3% of a 3-rule run's instructions). Bounded, at 4,096 (about 0.7 MiB for 9 fields):
    /// with allowed lateness the watermark releases events in bursts, and a bound of 64 let every burst
    /// beyond 64 events free its arrays for the next lines to allocate again (113,449 allocations on the
    /// e-commerce example x50, 256,100 lines).
    std::vector<std::vector<ir::Value>> spare_fields_;
    static constexpr size_t kSpareFields = 4096;
    /// The most fields an event type of the rule set has: every field array is given that capacity once,
    /// so that a spare array of a narrower type never reallocates for a wider one (it did for about 80% of
    /// the e-commerce example's lines: an allocation and a free a line).
    size_t max_fields_ = 0;
    std::unordered_map<uint64_t, std::pair<uint64_t, std::string>> lines_; ///< seq -> (line number, text)
    uint64_t seq_ = 0, lines_in_ = 0, processed_ = 0, dead_lines_ = 0;
};

} // namespace ethogram::runtime
