// interpreter.cpp: the reference interpreter: per-key state, the timer queue and the order in which one
// event is processed (dwell, sessions, thresholds, patterns, `end on` closes, exclusive groups).
#include "compiler/interp/interpreter.h"

#include "compiler/interp/detection.h"
#include "compiler/interp/engine.h"
#include "compiler/interp/pattern.h"
#include "compiler/interp/sessions.h"
#include "compiler/interp/threshold.h"

#include <unordered_map>

namespace ethogram::interp {

namespace {

class Interpreter final : public ir::Executor {
public:
    Interpreter(const ir::RuleSet& rs, ir::StringPool& pool, const ir::ExecutorOptions& opts,
                const NativeHooks* native = nullptr)
        : en_(rs, pool, opts) {
        en_.native = native;
        en_.eval.set_native(native);
    }

    void on_event(const ir::Event& e, ir::DetectionSink& sink) override;
    void advance_watermark(int64_t wm, ir::DetectionSink& sink) override;
    ir::ExecutorStats stats() const override;
    void set_coverage(Coverage* cov) { en_.cov = cov; }

private:
    KeyState& key_state(uint32_t key);

    Engine en_;
    std::unordered_map<uint32_t, KeyState> keys_;
    std::vector<ir::Detection> batch_;
    std::vector<uint32_t> to_close_;
    uint64_t next_ord_ = 0; ///< processing order of events (see StoredEvent::ord)
};

KeyState& Interpreter::key_state(uint32_t key) {
    auto it = keys_.find(key);
    if (it != keys_.end()) return it->second;
    KeyState& ks = keys_[key];
    ks.key = key;
    ks.sessions.resize(en_.rs.sessions.size());
    ks.thresholds.resize(en_.rs.rules.size());
    ks.patterns.resize(en_.rs.rules.size());
    ks.models = en_.models.make_states();
    return ks;
}

void Interpreter::on_event(const ir::Event& e, ir::DetectionSink& sink) {
    // The caller advances the watermark to e.time first; doing it again is harmless and makes the
    // "timers with deadline < t fire before the event" rule hold for any caller.
    advance_watermark(e.time, sink);
    ++en_.stats.events;
    KeyState& ks = key_state(e.key);

    auto se = std::make_shared<StoredEvent>();
    se->ev = e;
    se->ord = next_ord_++;
    // The key's previous event now knows its dwell: the time to this event (any type).
    if (ks.last) ks.last->dwell = ir::Value::duration(e.time - ks.last->ev.time);
    ks.last = se;

    to_close_.clear();
    en_.eval.set_key_models(&ks.models);
    sessions_on_event(en_, ks, se, to_close_);
    // Models see the event after the sessions (a new session resets `per session` models) and before
    // the rules, so that a rule triggered by the event reads scores that include it.
    if (!en_.models.empty()) en_.models.on_event(ks, *se);
    thresholds_on_event(en_, ks, se, batch_);
    patterns_on_event(en_, ks, se, batch_);
    // An `end on` event closes its session after every rule has seen it.
    for (uint32_t s : to_close_) close_session(en_, ks, s, e.time, batch_);
    resolve_batch(en_, batch_, sink);
}

void Interpreter::advance_watermark(int64_t wm, ir::DetectionSink& sink) {
    // Timers fire in (deadline, key, slot) order; all the timers of one key at one deadline form one
    // batch for exclusive-group resolution.
    while (!en_.timers.empty() && en_.timers.top().deadline < wm) {
        const int64_t deadline = en_.timers.top().deadline;
        const uint32_t key = en_.timers.top().key;
        while (!en_.timers.empty() && en_.timers.top().deadline == deadline && en_.timers.top().key == key) {
            Timer t = en_.timers.top();
            en_.timers.pop();
            auto it = keys_.find(t.key);
            if (it == keys_.end()) continue;
            en_.eval.set_key_models(&it->second.models);
            const auto sessions = static_cast<uint32_t>(en_.rs.sessions.size());
            if (t.slot < sessions)
                session_timer(en_, it->second, t.slot, t, batch_);
            else
                pattern_timer(en_, it->second, t.slot - sessions, t, batch_);
        }
        resolve_batch(en_, batch_, sink);
    }
}

ir::ExecutorStats Interpreter::stats() const {
    ir::ExecutorStats s = en_.stats;
    s.live_keys = keys_.size();
    return s;
}

} // namespace

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts) {
    return std::make_unique<Interpreter>(rs, pool, opts);
}

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, const NativeHooks* native) {
    return std::make_unique<Interpreter>(rs, pool, opts, native);
}

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, Coverage* cov) {
    auto in = std::make_unique<Interpreter>(rs, pool, opts, nullptr);
    in->set_coverage(cov);
    return in;
}

} // namespace ethogram::interp
