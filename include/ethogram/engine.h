// engine.h: Ethogram's stable public C++ API for embedding the engine in another program's pipeline.
// No ANTLR, LLVM, oneTBB or internal header is included; the implementation is behind a pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
    /// The executor: "jit" (native code compiled with LLVM's ORC JIT, the default, as `etho run --engine
    /// jit`) or "interp" (the reference interpreter). Both write the same detections, byte for byte. When the
    /// JIT cannot run (a libethogram built without LLVM, a construct it does not compile), the interpreter
    /// runs and Engine::engine_warning() says why. Any other value: from_source / from_files fail.
    std::string engine = "jit";
    /// The JIT's object cache (a warm start skips compiling): false = none. The directory: empty = the
    /// default ($ETHOGRAM_JIT_CACHE, else $XDG_CACHE_HOME/ethogram/jit, else $HOME/.cache/ethogram/jit).
    bool jit_cache = true;
    std::string jit_cache_dir;
    /// A taxonomy node (`intent.purchase`, as `etho run --only`): only detections whose behaviour is that
    /// node or lies below it are delivered; the others are counted (EngineStats::filtered). Empty: all. A
    /// node the rule set does not declare makes from_source / from_files / from_bundle fail.
    std::string only;
    /// At most this many events are listed per alias in a detection's JSON (the most recent; the rest are
    /// counted under "omitted"), as `etho run --max-events-per-alias`. The detection id covers them all.
    uint32_t max_events_per_alias = 1000;
};

/// A signed rule bundle to run (Engine::from_bundle), as `etho run --bundle` takes it (docs/governance.md).
struct BundleSource {
    /// The bundle file (`etho build`; its signatures are read from BUNDLE.sig). With `registry`: the name
    /// of a rule set, whose deployed version is run.
    std::string bundle;
    /// The trust file (`etho keygen --trust`): the keys and roles whose signatures are accepted. Required.
    std::string trusted;
    /// A registry folder (`etho publish` / `release` / `deploy`), or empty for a bundle file.
    std::string registry;
};

/// One detection: the fields a caller routes on, and the full JSON line `etho run` would write.
struct Detection {
    std::string rule;
    std::string key;
    int64_t time_us = 0;     ///< detection time, µs since the Unix epoch (UTC)
    bool suppressed = false; ///< lost its exclusive group (see docs/semantics.md)
    std::string json;        ///< one JSON object, no newline
    std::string behaviour; ///< the rule's taxonomy label, its full dotted path ("intent.purchase"), or empty
};

struct EngineStats {
    uint64_t events_in = 0;    ///< push_json and push calls
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
    uint64_t filtered = 0; ///< detections (and suppressed ones) left out by EngineOptions::only
};

/// One field value of a typed event (Engine::push). A small tagged value that owns its string; no internal
/// type. The value is checked against the field's schema type when the event is pushed, with the same rules
/// (and the same dead-letter reasons) as the JSON decoder: see TypedEvent.
class FieldValue {
public:
    enum class Kind : uint8_t { Null, Int, Float, String, Bool, Duration, Timestamp };

    FieldValue() = default; ///< null
    static FieldValue null() { return FieldValue(); }
    static FieldValue integer(int64_t v) { return FieldValue(Kind::Int, v, 0.0, {}); }
    static FieldValue floating(double v) { return FieldValue(Kind::Float, 0, v, {}); }
    static FieldValue string(std::string_view v) { return FieldValue(Kind::String, 0, 0.0, std::string(v)); }
    static FieldValue boolean(bool v) { return FieldValue(Kind::Bool, v ? 1 : 0, 0.0, {}); }
    /// A duration in microseconds.
    static FieldValue duration_us(int64_t us) { return FieldValue(Kind::Duration, us, 0.0, {}); }
    /// A point in time, microseconds since the Unix epoch (UTC).
    static FieldValue timestamp_us(int64_t us) { return FieldValue(Kind::Timestamp, us, 0.0, {}); }

    Kind kind() const { return kind_; }
    int64_t as_int() const { return i_; } ///< Int, Bool (0/1), Duration and Timestamp (µs)
    double as_float() const { return f_; }
    const std::string& as_string() const { return s_; }

private:
    FieldValue(Kind k, int64_t i, double f, std::string s) : kind_(k), i_(i), f_(f), s_(std::move(s)) {}
    Kind kind_ = Kind::Null;
    int64_t i_ = 0;
    double f_ = 0.0;
    std::string s_;
};

/// An event given as typed fields instead of JSON text, for Engine::push. Fields are named as in the
/// event's schema; key(), time_us() and id() set the schema's `key`, `time` and `id` fields whatever their
/// names. Validation is the JSON decoder's (docs/embedding.md): an unknown event type is `unknown_type`; a
/// required field that is absent or null is `missing_field`; a value that does not fit its field is
/// `bad_field` (`bad_time` for a timestamp that is out of range or does not parse). A value fits as its
/// JSON counterpart would: int takes Int; float takes Int or Float; string takes String; bool takes Bool;
/// enum takes a String naming one of its values; timestamp takes Timestamp, an RFC 3339 String or an epoch
/// number (Int/Float, in EngineOptions::epoch_seconds' unit); duration takes Duration (not negative), a
/// String ("250ms") or a number of milliseconds; the key takes a String or an Int. Names that are not fields
/// of the schema are ignored, as unknown JSON members are; a name set twice keeps its last value.
class TypedEvent {
public:
    explicit TypedEvent(std::string_view type) : type_(type) {}
    /// Empties the event for reuse (keeps its buffers).
    void reset(std::string_view type) {
        type_.assign(type.data(), type.size());
        fields_.clear();
    }
    TypedEvent& key(std::string_view k) { return put(Role::Key, {}, FieldValue::string(k)); }
    TypedEvent& key(int64_t k) { return put(Role::Key, {}, FieldValue::integer(k)); }
    /// The event time, µs since the Unix epoch (UTC).
    TypedEvent& time_us(int64_t us) { return put(Role::Time, {}, FieldValue::timestamp_us(us)); }
    TypedEvent& id(std::string_view id) { return put(Role::Id, {}, FieldValue::string(id)); }
    TypedEvent& set(std::string_view field, FieldValue v) { return put(Role::None, field, std::move(v)); }
    TypedEvent& set_int(std::string_view field, int64_t v) { return set(field, FieldValue::integer(v)); }
    TypedEvent& set_float(std::string_view field, double v) { return set(field, FieldValue::floating(v)); }
    TypedEvent& set_string(std::string_view field, std::string_view v) {
        return set(field, FieldValue::string(v));
    }
    TypedEvent& set_bool(std::string_view field, bool v) { return set(field, FieldValue::boolean(v)); }
    TypedEvent& set_duration_us(std::string_view field, int64_t us) {
        return set(field, FieldValue::duration_us(us));
    }
    TypedEvent& set_timestamp_us(std::string_view field, int64_t us) {
        return set(field, FieldValue::timestamp_us(us));
    }
    TypedEvent& set_null(std::string_view field) { return set(field, FieldValue::null()); }

    /// Which schema field an entry names: by name (None) or by its role.
    enum class Role : uint8_t { None, Key, Time, Id };
    struct Field {
        Role role = Role::None;
        std::string name; ///< empty for a role
        FieldValue value;
    };
    const std::string& type() const { return type_; }
    const std::vector<Field>& fields() const { return fields_; }

private:
    TypedEvent& put(Role r, std::string_view name, FieldValue v) {
        fields_.push_back(Field{r, std::string(name), std::move(v)});
        return *this;
    }
    std::string type_;
    std::vector<Field> fields_;
};

/// A buffered event the new rules refused at a swap (SwapReport::refused), given back whole so that the
/// program can dead-letter it: the pushed event was accepted, so it exists nowhere else in the engine.
struct RefusedEvent {
    uint64_t line = 0;  ///< its number among the pushes (as in push_json's errors)
    std::string reason; ///< the dead-letter code and detail: `missing_field: view.page: ...`
    /// The event as JSON text: the pushed line itself (push_json); for a typed event (push), or an event
    /// restored from a snapshot, its fields written as JSON under the schema it was accepted by (`type`,
    /// key, time and id named as there; timestamps as RFC 3339, durations as "NNNus"), which that schema
    /// decodes back to the same event.
    std::string json;
    /// The typed event as pushed (push), or, for an event restored from a snapshot, its decoded fields;
    /// empty for a pushed JSON line.
    std::optional<TypedEvent> typed;
};

/// What Engine::swap_rules carried from the running rules into the new ones.
struct SwapReport {
    std::string from, to;                   ///< "NAME@VERSION" of the rules before and after
    bool carried = false;                   ///< false: nothing was carried, every rule starts fresh (`why`)
    std::string why;                        ///< why nothing was carried (empty when `carried`)
    std::vector<std::string> carried_rules; ///< rules unchanged between the versions: their state carried
    std::vector<std::string> fresh_rules;   ///< rules new or changed: they start fresh
    uint64_t keys = 0;                      ///< keys with carried state
    uint64_t partial_matches = 0;           ///< carried partial matches
    uint64_t timers = 0;                    ///< carried pending timers (they fire as they would have)
    uint64_t buffered = 0;                  ///< buffered events validated again against the new schemas
    /// Buffered events the new schemas refuse, in arrival order, each with its reason and the event itself:
    /// counted as dead letters (EngineStats::dead_letters).
    std::vector<RefusedEvent> refused;
};

/// A compiled rule set and its running state. Thread-safety: an Engine is not thread-safe: call it from
/// one thread at a time (distinct Engines are independent and may run on different threads). Callbacks
/// run on the calling thread, inside push_json / push / advance_watermark / flush. TypedEvent and FieldValue
/// are plain values: build them on any thread, hand them to the engine's thread.
class Engine {
public:
    /// Compiles rule source text (`name` appears in diagnostics). Null with `error` set (the rendered
    /// diagnostics) when it does not compile.
    static std::unique_ptr<Engine> from_source(std::string_view name, std::string_view text,
                                               const EngineOptions& opts, std::string* error);
    /// Compiles rule files and folders (a folder contributes its *.etho files), as `etho run` does.
    static std::unique_ptr<Engine> from_files(const std::vector<std::string>& paths,
                                              const EngineOptions& opts, std::string* error);
    /// Loads a signed rule bundle, as `etho run --bundle` does: the bundle's format and content hashes and
    /// its signatures are checked against the trust file (an author's signature is required; revoked,
    /// untrusted, stripped or forged signatures are refused), then its rules are compiled from the
    /// bundle's own bytes and checked against its manifest. With `src.registry`, the version of rule set
    /// `src.bundle` deployed there (released, its recorded signers still present). Null with `error` set
    /// when it is refused: `error[KIND]: why`, KIND one of the stable names `etho verify` prints
    /// (`unsigned`, `tampered`, `untrusted_key`, `corrupt`, `io`, ...). Detections then carry `rule_hash` and
    /// `bundle` (the manifest hash), as `etho run --bundle` writes them.
    static std::unique_ptr<Engine> from_bundle(const BundleSource& src, const EngineOptions& opts,
                                               std::string* error);
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
    /// Pushes one event given as typed fields (TypedEvent), without JSON: validated, numbered, reordered and
    /// run exactly as push_json would the same event as JSON; refused with the same reasons
    /// (`bad_field: cart.qty: expected int, got string`).
    bool push(const TypedEvent& event, std::string* error = nullptr);
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
    /// The executor running the rules: "jit" or "interp" (EngineOptions::engine, or "interp" after a
    /// fall-back).
    std::string engine_name() const;
    /// Why the engine asked for is not the one running (the JIT could not start or compile these rules);
    /// empty when it is. Also a corrupt JIT cache entry that was rebuilt.
    std::string engine_warning() const;
    /// The manifest hash (hex) of the verified bundle the rules came from (from_bundle); empty otherwise.
    std::string bundle_hash() const;

    /// Hot deployment (docs/governance.md, "Hot deployment"), as `etho run --watch` swaps versions: the
    /// rules of `next` (a fresh Engine made by from_source / from_files / from_bundle, nothing pushed, with
    /// the same allowed lateness, epoch unit and type field) replace the running ones between two events.
    /// Every rule unchanged between the versions keeps its per-key state (partial matches, scopes,
    /// sessions, model state, pending timers, which fire when they would have); new and changed rules start
    /// fresh. The watermark, event numbering, buffered events (decoded again from their JSON text or typed
    /// fields against the new schemas; refused ones become dead letters, given back in the report) and
    /// counters go on. From then on `next`'s other options apply (executor, caps, explain, only, ...) and
    /// detections name the new version (and bundle). `next` is consumed either way. False, with `error` set
    /// and the running rules unchanged, when `next` was used or its options do not fit.
    bool swap_rules(std::unique_ptr<Engine> next, SwapReport* report = nullptr, std::string* error = nullptr);

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
