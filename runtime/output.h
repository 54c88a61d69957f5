// output.h: detections as JSON Lines (the engine's primary output) and the suppressed-detection output.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/output_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ethogram::runtime {

struct OutputOptions {
    bool explain = false; ///< add the "explain" array (one entry per bound event)
    int32_t only = -1;    ///< taxonomy node: keep only detections labelled in its subtree; -1 = all
    /// At most this many events are listed per alias (the most recent ones), so that a detection over a
    /// very long session stays a bounded line; the rest are counted under "omitted". The detection id
    /// still covers every bound event.
    uint32_t max_events_per_alias = 1000;
    /// Set when the rules come from a verified bundle (`etho run --bundle`): each detection then also
    /// carries "rule_hash" (the producing rule's content hash) and "bundle" (this manifest hash, hex).
    std::string bundle_hash = {};
};

/// Appends one detection as a JSON object (no newline) to `out`. Keys, in order: rule, behaviour, key,
/// time, first, last, severity, confidence, trigger, (decision, for rules gated by models), fields,
/// events, ruleset, version, [rule_hash, bundle, when running a bundle,] id (and omitted, when an alias lists
/// more than max_events_per_alias events; explain; models, with explain, for rules that call models;
/// suppressed_by for suppressed detections). Field values: strings and enum names as strings, ints, floats in
/// shortest round-trip form, bools, timestamps as RFC 3339, durations as milliseconds (fractional when
/// needed), missing as null. Enum names are resolved through the emit expression's field (or aggregate)
/// schema; when that is not possible the index is written as a number.
void format_detection(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
                      const OutputOptions& opts, std::string& out);

/// A rule's constant parts of its detections' text, written once (what format_detection writes for them):
/// for a writer that formats many detections.
struct RulePieces {
    RulePieces(const ir::RuleSet& rs, const ir::Rule& rule, const OutputOptions& opts);
    std::string head;                    ///< `{"rule":...,"behaviour":...,"key":`
    std::string severity;                ///< `,"severity":...,"confidence":`
    std::string tail;                    ///< `,"ruleset":...,"version":...` (bundle provenance) `,"id":`
    std::vector<std::string> emit_names; ///< per emit: `"name":`
    std::vector<const std::vector<std::string>*> emit_enums; ///< per emit: its enum's value names, or null
};

/// format_detection with `rule`'s pieces (RulePieces(rs, rs.rules[d.rule], opts)) already written: the same
/// text.
void format_detection(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
                      const OutputOptions& opts, const RulePieces& pieces, std::string& out);

/// The DetectionSink the pipeline hands to the executor: filters (--only), formats and writes detections
/// and suppressed detections, and counts them. A null suppressed stream only counts (the pipeline logs it).
class DetectionWriter : public ir::DetectionSink {
public:
    DetectionWriter(const ir::RuleSet& rs, const ir::StringPool& pool, OutputOptions opts, OutputFile* out,
                    OutputFile* suppressed);

    void emit(ir::Detection&& d) override;
    void suppressed(ir::Detection&& d) override;

    uint64_t emitted() const { return emitted_; }
    uint64_t suppressed_count() const { return suppressed_; }
    uint64_t filtered() const { return filtered_; } ///< dropped by --only
    /// Checkpoint resume: the counts as they were when the checkpoint was taken.
    void restore_counts(uint64_t emitted, uint64_t suppressed, uint64_t filtered) {
        emitted_ = emitted;
        suppressed_ = suppressed;
        filtered_ = filtered;
    }

private:
    bool keep(const ir::Detection& d);

    const ir::RuleSet& rs_;
    const ir::StringPool& pool_;
    OutputOptions opts_;
    OutputFile* out_;
    OutputFile* suppressed_out_;
    std::vector<RulePieces> pieces_; // by rule
    std::string buf_;
    uint64_t emitted_ = 0, suppressed_ = 0, filtered_ = 0;
};

} // namespace ethogram::runtime
