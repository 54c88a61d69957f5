// engine_impl.h: Engine::Impl, the embedding API's engine behind the pointer (engine.cpp; its hot swap,
// swap.cpp). Internal to embed/.
#pragma once

#include "ethogram/engine.h"

#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "embed/typed_event.h"
#include "runtime/dead_letter.h"
#include "runtime/decoder.h"
#include "runtime/output.h"
#include "runtime/reorder.h"
#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ethogram {

namespace embed {

/// The executor EngineOptions::engine asks for (the JIT, or the interpreter when asked or when the JIT cannot
/// run: the reason in `warning`); `used` names the one made. `use_cache` false: no JIT object cache.
std::unique_ptr<ir::Executor> make_executor(const ir::RuleSet& rs, ir::StringPool& pool,
                                            const EngineOptions& o, const ir::ExecutorOptions& eo,
                                            std::string& used, std::string& warning, bool use_cache);
/// EngineOptions::only against the rules: the node's index (-1 for all), or -2 with `error` set.
int32_t only_node(const ir::RuleSet& rs, const EngineOptions& o, std::string& error);

} // namespace embed

struct Engine::Impl : ir::DetectionSink {
    std::unique_ptr<ir::RuleSet> rs;
    EngineOptions opts;
    ir::StringPool pool;
    std::unique_ptr<runtime::Decoder> decoder;
    std::unique_ptr<embed::TypedDecoder> typed; ///< Engine::push's decoder, made on first use
    std::unique_ptr<ir::Executor> exec;
    std::string engine_used, engine_warning;
    std::string bundle_hash;         ///< the verified bundle's manifest hash (from_bundle), else empty
    runtime::OutputOptions out_opts; ///< how detections are written (with the bundle's provenance)
    std::vector<runtime::RulePieces> pieces; ///< each rule's constant detection text, written once
    std::function<void(const Detection&)> callback;
    std::vector<Detection> queue;
    runtime::ReorderBuffer reorder; ///< the watermark (events below it are late) and the buffered events
    std::vector<ir::Event> ready;   ///< what the reorder buffer releases, run at once
    uint64_t seq = 0;
    bool ended = false;
    EngineStats st;
    /// Where each buffered event came from, by seq, while events can be held (allowed lateness): a hot swap
    /// decodes them again against the new schemas from what was pushed, as `etho run --watch` re-decodes
    /// its held lines (a member the old schema ignored may be a field of the new one).
    struct Source {
        std::string json;                ///< the pushed line (push_json)
        std::optional<TypedEvent> typed; ///< or the pushed typed event (push)
    };
    /// The sources by seq: a ring from the oldest still held to the newest, its slots (and their string
    /// buffers) reused, so that recording costs a copy into room already there, not an allocation per event.
    class SourceRing {
    public:
        /// The slot of `seq`, which is not older than every recorded one (gaps are dead slots).
        Source& add(uint64_t seq) {
            if (n_ == 0) base_ = seq;
            while (base_ + n_ < seq) {
                slot(n_).live = false;
                ++n_; // after slot(), which moves the n_ slots in use when it grows the ring
            }
            Slot& s = slot(n_);
            ++n_;
            s.live = true;
            s.src.json.clear();
            s.src.typed.reset();
            return s.src;
        }
        /// The source of `seq`, or null.
        Source* find(uint64_t seq) {
            if (seq < base_ || seq - base_ >= n_) return nullptr;
            Slot& s = slots_[(head_ + (seq - base_)) & (slots_.size() - 1)];
            return s.live ? &s.src : nullptr;
        }
        void erase(uint64_t seq) {
            if (seq < base_ || seq - base_ >= n_) return;
            slots_[(head_ + (seq - base_)) & (slots_.size() - 1)].live = false;
            while (n_ != 0 && !slots_[head_].live) {
                head_ = (head_ + 1) & (slots_.size() - 1);
                ++base_;
                --n_;
            }
        }
        bool empty() const { return n_ == 0; }
        void clear() { n_ = 0; }

    private:
        struct Slot {
            Source src;
            bool live = false;
        };
        // The i-th slot from the head, growing the ring (a power of two) when it is full.
        Slot& slot(size_t i) {
            if (i >= slots_.size()) {
                std::vector<Slot> grown(std::max<size_t>(16, slots_.size() * 2));
                for (size_t k = 0; k < n_; ++k)
                    grown[k] = std::move(slots_[(head_ + k) & (slots_.size() - 1)]);
                slots_ = std::move(grown);
                head_ = 0;
            }
            return slots_[(head_ + i) & (slots_.size() - 1)];
        }
        std::vector<Slot> slots_;
        size_t head_ = 0, n_ = 0;
        uint64_t base_ = 0; ///< the seq of the head slot
    };
    SourceRing sources;

    /// `only`: EngineOptions::only's node, checked against the rules (-1: all).
    Impl(std::unique_ptr<ir::RuleSet> r, const EngineOptions& o, std::string bundle, int32_t only)
        : rs(std::move(r)), opts(o),
          bundle_hash(std::move(bundle)), out_opts{o.explain, only, o.max_events_per_alias, bundle_hash},
          reorder(std::max<int64_t>(0, o.allowed_lateness_us)) {
        ir::seed_string_pool(*rs, pool);
        exec = embed::make_executor(*rs, pool, o, executor_options(o), engine_used, engine_warning, true);
        build_views();
    }

    static ir::ExecutorOptions executor_options(const EngineOptions& o) {
        ir::ExecutorOptions eo;
        eo.max_partial_matches = o.max_partial_matches;
        eo.max_scope_events = o.max_scope_events;
        eo.max_state_bytes = o.max_state_bytes;
        eo.evict_idle_keys = o.evict_idle_keys;
        return eo;
    }

    /// What is made from the rules besides the executor: the decoders and each rule's detection text.
    void build_views() {
        decoder = std::make_unique<runtime::Decoder>(*rs, pool,
                                                     runtime::DecoderOptions{opts.type_field, epoch_unit()});
        typed.reset();
        pieces.clear();
        pieces.reserve(rs->rules.size());
        for (const ir::Rule& rule : rs->rules) pieces.emplace_back(*rs, rule, out_opts);
    }
    runtime::EpochUnit epoch_unit() const {
        return opts.epoch_seconds ? runtime::EpochUnit::Seconds : runtime::EpochUnit::Millis;
    }
    bool keep_sources() const { return opts.allowed_lateness_us > 0; }

    /// Engine::swap_rules (swap.cpp): `n`'s rules (bound to this pool) with this state; false with `error`.
    bool swap(Impl& n, SwapReport& report, std::string& error);
    /// restore() of a snapshot whose pool does not begin with this engine's (taken after a swap_rules):
    /// the pool becomes the snapshot's strings and the rules are bound to it (swap.cpp); this fresh engine's
    /// executor and decoders are made again. False with `error` (a duplicate string).
    bool adopt_pool(const std::vector<std::string>& strings, std::string& error);
    /// Decodes a held event again from its source under the current rules (swap.cpp); false with `err`.
    bool redecode(const ir::Event& held, Source& src, ir::Event& out, runtime::DecodeError& err);

    // Counts and hands on one detection (or suppressed one), unless EngineOptions::only leaves it out.
    void deliver(const ir::Detection& d, bool suppressed) {
        const ir::Rule& rule = rs->rules[d.rule];
        if (out_opts.only >= 0 && !rs->in_subtree(rule.label, static_cast<uint32_t>(out_opts.only))) {
            ++st.filtered;
            return;
        }
        ++(suppressed ? st.suppressed : st.detections);
        Detection out;
        out.rule = rule.name;
        if (rule.label < rs->taxonomy.size()) out.behaviour = rs->taxonomy[rule.label].path;
        out.key = d.key < pool.size() ? std::string(pool.view(d.key)) : std::string();
        out.time_us = d.time;
        out.suppressed = suppressed;
        runtime::format_detection(d, *rs, pool, out_opts, pieces[d.rule], out.json);
        if (callback)
            callback(out);
        else
            queue.push_back(std::move(out));
    }
    void emit(ir::Detection&& d) override { deliver(d, false); }
    void suppressed(ir::Detection&& d) override { deliver(d, true); }

    // Runs the events the reorder buffer released (in (time, seq) order), per the Executor contract.
    void run_ready() {
        for (ir::Event& e : ready) {
            if (!sources.empty()) sources.erase(e.seq);
            exec->advance_watermark(e.time, *this);
            exec->on_event(e, *this);
            ++st.processed;
        }
        ready.clear();
    }

    // Releases and runs every buffered event the watermark has passed; when the watermark moved past
    // `before`, advances the executor to it too (timers due by then fire).
    void release(int64_t before) {
        reorder.pop_ready(ready);
        run_ready();
        if (reorder.watermark() > before) exec->advance_watermark(reorder.watermark(), *this);
    }

    void raise_watermark(int64_t w) {
        const int64_t before = reorder.watermark();
        if (w <= before) return;
        reorder.raise_watermark(w);
        release(before);
    }

    /// A dead letter's reason as the API reports it: `code: detail`.
    static std::string reason(const runtime::DecodeError& e) {
        return fmt::format("{}: {}", runtime::dead_reason_code(e.reason), e.detail);
    }
    bool refuse(std::string* error, std::string why) {
        ++st.dead_letters;
        if (error) *error = std::move(why);
        return false;
    }

    bool push(std::string_view line, std::string* error) {
        ++st.events_in;
        if (ended) return refuse(error, "ended: flush() was called");
        ir::Event e;
        if (!decoder->decode(line, st.events_in, e)) return refuse(error, reason(decoder->error()));
        if (keep_sources())
            sources.add(seq).json.assign(line.data(), line.size()); // seq: the one admit gives
        return admit(std::move(e), error);
    }

    bool push_typed(const TypedEvent& in, std::string* error) {
        ++st.events_in;
        if (ended) return refuse(error, "ended: flush() was called");
        if (!typed) typed = std::make_unique<embed::TypedDecoder>(*rs, pool, epoch_unit());
        ir::Event e;
        runtime::DecodeError err;
        if (!typed->decode(in, st.events_in, e, err)) return refuse(error, reason(err));
        if (keep_sources()) sources.add(seq).typed = in;
        return admit(std::move(e), error);
    }

    // A decoded event (JSON or typed): numbered, refused when late, else into the reorder buffer.
    bool admit(ir::Event&& e, std::string* error) {
        e.seq = seq++; // as in etho run: every decoded event has a seq, late ones too
        const int64_t t = e.time, before = reorder.watermark();
        if (!reorder.push(std::move(e))) {
            sources.erase(seq - 1);
            return refuse(error, fmt::format("late: event time {} is before the watermark {}",
                                             runtime::format_rfc3339(t), runtime::format_rfc3339(before)));
        }
        release(before);
        return true;
    }
};

} // namespace ethogram
