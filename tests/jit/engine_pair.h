// engine_pair.h: an executor that runs the interpreter and the JIT side by side on the same calls and
// records every difference in their detections (used by the semantics pins and the differential test).
#pragma once

#include "compiler/ir/executor.h"
#include "compiler/jit/jit.h"

#include <memory>
#include <string>

namespace ethogram::jit_test {

/// One detection as text, every field included (rule, key, times, confidence bits, bindings, emitted
/// values with their type tags, id, suppression, trigger): equal texts = byte-identical output.
std::string detection_text(const ir::Detection& d);

/// Forwards the JIT's detections to the caller's sink; `mismatch()` describes the first call where the
/// interpreter's detections (or stats) differed. Fails (null + `error`) when the JIT cannot compile `rs`.
class EnginePair : public ir::Executor {
public:
    static std::unique_ptr<EnginePair> make(const ir::RuleSet& rs, ir::StringPool& pool,
                                            const ir::ExecutorOptions& opts, std::string& error,
                                            const jit::JitOptions& jopts = {});
    const std::string& mismatch() const { return mismatch_; }
    uint64_t compared() const { return compared_; }

    void on_event(const ir::Event& e, ir::DetectionSink& sink) override;
    void advance_watermark(int64_t wm, ir::DetectionSink& sink) override;
    ir::ExecutorStats stats() const override { return jit_->stats(); }

private:
    template <class F>
    void both(F call, ir::DetectionSink& sink, const std::string& what);

    std::unique_ptr<ir::Executor> interp_, jit_;
    std::string mismatch_;
    uint64_t compared_ = 0; ///< detections compared
};

} // namespace ethogram::jit_test
