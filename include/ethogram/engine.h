// engine.h: Ethogram's stable public C++ API for embedding the engine in another program's pipeline.
// No ANTLR, LLVM, oneTBB or internal header is included; the implementation is behind a pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram {

/// How an Engine runs. Same meaning as the `etho run` configuration (docs/architecture.md).
struct EngineOptions {
    int64_t allowed_lateness_us = 0; ///< time.allowed_lateness: events this much out of order are reordered
    bool epoch_seconds = false;      ///< numeric timestamps are seconds (default: milliseconds)
    std::string type_field = "type"; ///< the JSON member naming the event type
    uint32_t max_partial_matches = 1000; ///< per key and rule
    uint32_t max_scope_events = 100000;  ///< per key and scope
    uint64_t max_state_bytes = 0;        ///< state budget (0 = none)
    bool evict_idle_keys = true;         ///< never changes output
    bool explain = false;                ///< add the explanation to each detection's JSON
};

/// One detection: the fields a caller routes on, and the full JSON line `etho run` would write.
struct Detection {
    std::string rule;
    std::string key;
    int64_t time_us = 0;     ///< detection time, µs since the Unix epoch (UTC)
    bool suppressed = false; ///< lost its exclusive group (see docs/semantics.md)
    std::string json;        ///< one JSON object, no newline
};

struct EngineStats {
    uint64_t events_in = 0;    ///< push_json calls
    uint64_t processed = 0;    ///< events handed to the executor
    uint64_t dead_letters = 0; ///< events refused (malformed, invalid, late): events_in == processed +
                               ///< dead_letters + buffered
    uint64_t buffered = 0;     ///< accepted events waiting in the reorder buffer
    uint64_t detections = 0;
    uint64_t suppressed = 0;
    uint64_t live_keys = 0;
    uint64_t partial_matches = 0;
    uint64_t state_bytes = 0; ///< approximate
    uint64_t evictions = 0;
    uint64_t overflow_drops = 0;
    uint64_t budget_drops = 0;
};

/// A compiled rule set and its running state. Thread-safety: an Engine is not thread-safe: call it from
/// one thread at a time (distinct Engines are independent and may run on different threads). Callbacks
/// run on the calling thread, inside push_json / advance_watermark / flush.
class Engine {
public:
    /// Compiles rule source text (`name` appears in diagnostics). Null with `error` set (the rendered
    /// diagnostics) when it does not compile.
    static std::unique_ptr<Engine> from_source(std::string_view name, std::string_view text,
                                               const EngineOptions& opts, std::string* error);
    /// Compiles rule files and folders (a folder contributes its *.etho files), as `etho run` does.
    static std::unique_ptr<Engine> from_files(const std::vector<std::string>& paths,
                                              const EngineOptions& opts, std::string* error);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Detections (and suppressed detections) go to `cb` as soon as they are produced; without a callback
    /// they are queued for poll().
    void on_detection(std::function<void(const Detection&)> cb);
    /// Takes the queued detections, oldest first.
    std::vector<Detection> poll();

    /// Pushes one event as a JSON object. False when it is refused (malformed, invalid for its schema, or
    /// late), with the reason in `error` (`bad_field: page_view.ts: ...`); nothing else changes then.
    /// Pushes are numbered from 1, refused ones included: that number is the `line` of the event in
    /// detections (the input line number when every line of a file is pushed, as etho run counts).
    bool push_json(std::string_view line, std::string* error = nullptr);
    /// Declares that no event before `time_us` will come: releases buffered events up to it and fires
    /// every timer (absence, session end, pattern window) whose deadline is before it. Events older than
    /// the watermark are refused as late afterwards.
    void advance_watermark(int64_t time_us);
    /// End of input: releases every buffered event and fires every pending timer. Later pushes are
    /// refused.
    void flush();

    EngineStats stats() const;
    /// The rule set's name and version (its `ruleset` header).
    std::string ruleset_name() const;
    std::string ruleset_version() const;

    /// Snapshot and restore (docs/architecture.md, "Checkpoints and recovery"): every bit of the engine's
    /// state (reorder buffer, watermark, interned strings, per-key partial matches, sessions, aggregates,
    /// model state, timers, statistics) as bytes carrying magic, format version, the rule set's hash and a
    /// BLAKE2b checksum. Detections not yet taken by poll() are not part of it: poll first.
    std::string snapshot() const;
    /// snapshot() written to `path` atomically (temporary file, fsync, rename). False with `error` set.
    bool snapshot_to_file(const std::string& path, std::string* error = nullptr) const;
    /// Replaces the state of an Engine of the same rule set and options, created fresh (nothing pushed),
    /// with a snapshot. False, the engine left fresh, with `error` saying why (corrupt or truncated bytes,
    /// another rule set, an engine that has already been used).
    bool restore(std::string_view bytes, std::string* error = nullptr);
    bool restore_from_file(const std::string& path, std::string* error = nullptr);

private:
    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace ethogram
