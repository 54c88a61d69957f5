/* ethogram.h: Ethogram's C API, over the C++ embedding API (engine.h), for other languages. */
#ifndef ETHOGRAM_ETHOGRAM_H
#define ETHOGRAM_ETHOGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A compiled rule set and its state. Not thread-safe: one thread at a time per engine. */
typedef struct ethogram_engine ethogram_engine;

/** Receives one detection as a JSON object (not NUL-terminated beyond `len`; valid during the call). */
typedef void (*ethogram_detection_fn)(void* user, const char* json, size_t len, int suppressed);

typedef struct ethogram_stats {
    uint64_t events_in, processed, dead_letters, buffered, detections, suppressed;
    uint64_t live_keys, partial_matches, state_bytes, evictions, overflow_drops, budget_drops;
} ethogram_stats;

/** Compiles rule source text. NULL on error, with `*error` (if not NULL) set to a message to release
 *  with ethogram_free. `allowed_lateness_us`: how far out of order events may arrive. */
ethogram_engine* ethogram_engine_from_source(const char* name, const char* text, int64_t allowed_lateness_us,
                                             char** error);
/** Compiles rule files or folders (`paths`: `n` NUL-terminated strings). */
ethogram_engine* ethogram_engine_from_files(const char* const* paths, size_t n, int64_t allowed_lateness_us,
                                            char** error);
/** Loads a signed rule bundle, verified against the trust file `trusted` (see Engine::from_bundle):
 *  `bundle` is the bundle file, or with `registry` (NULL for none) the name of a rule set whose deployed
 *  version is run. NULL when refused, with `*error` set ("error[unsigned]: ..."). */
ethogram_engine* ethogram_engine_from_bundle(const char* bundle, const char* trusted, const char* registry,
                                             int64_t allowed_lateness_us, char** error);
void ethogram_engine_free(ethogram_engine* e);
/** Hot deployment (see Engine::swap_rules): `next` (a fresh engine, nothing pushed) gives its rules to `e`,
 *  which keeps the state of the rules unchanged between the two. `next` is freed either way. 1 on success;
 *  0 with `*error` set and `e` unchanged. */
int ethogram_swap_rules(ethogram_engine* e, ethogram_engine* next, char** error);
/** A buffered event the new rules refused at a swap (see ethogram::RefusedEvent): its number among the
 *  pushes, the reason ("missing_field: view.page: ..."), and the event as JSON text (the pushed line, or a
 *  typed event written as JSON). The strings live until `fn` returns. */
typedef void (*ethogram_refused_fn)(void* user, uint64_t line, const char* reason, const char* json,
                                    size_t json_len);
/** ethogram_swap_rules, with every event the new rules refuse handed to `fn` (if not NULL) after the swap,
 *  in arrival order, so that the program can dead-letter it (they are counted as dead letters). */
int ethogram_swap_rules_refused(ethogram_engine* e, ethogram_engine* next, ethogram_refused_fn fn, void* user,
                                char** error);
/** The executor running the rules: "jit" (the default) or "interp" (the JIT could not start or compile
 *  these rules; ethogram_engine_warning says why). Static strings: do not free. */
const char* ethogram_engine_name(const ethogram_engine* e);
/** Why the JIT is not running (or a JIT cache entry was rebuilt), else NULL. Release with ethogram_free. */
char* ethogram_engine_warning(const ethogram_engine* e);
/** The manifest hash (hex) of the bundle the rules came from, else NULL. Release with ethogram_free. */
char* ethogram_engine_bundle_hash(const ethogram_engine* e);

/** Detections go to `fn` as they are produced; with `fn` NULL they are queued for ethogram_poll. */
void ethogram_set_callback(ethogram_engine* e, ethogram_detection_fn fn, void* user);
/** Hands every queued detection to `fn`, oldest first; returns how many. */
size_t ethogram_poll(ethogram_engine* e, ethogram_detection_fn fn, void* user);

/** Pushes one JSON event. 1 when accepted; 0 when refused, with `*error` (if not NULL) set. */
int ethogram_push_json(ethogram_engine* e, const char* line, size_t len, char** error);
/** An event given as typed fields (the C form of ethogram::TypedEvent): build it with the setters, push it
 *  with ethogram_push_event, reuse it with ethogram_event_reset. Field names are the schema's; the key,
 *  time and id setters set the schema's key, time and id fields. Strings are copied. Plain data: build it
 *  on any thread, one thread at a time per event. */
typedef struct ethogram_event ethogram_event;
ethogram_event* ethogram_event_new(const char* type);
void ethogram_event_reset(ethogram_event* ev, const char* type);
void ethogram_event_free(ethogram_event* ev);
void ethogram_event_key(ethogram_event* ev, const char* key);
void ethogram_event_key_int(ethogram_event* ev, int64_t key);
/** The event time, µs since the Unix epoch (UTC). */
void ethogram_event_time_us(ethogram_event* ev, int64_t time_us);
void ethogram_event_id(ethogram_event* ev, const char* id);
void ethogram_event_set_int(ethogram_event* ev, const char* field, int64_t v);
void ethogram_event_set_float(ethogram_event* ev, const char* field, double v);
/** `len` bytes of `v` (need not be NUL-terminated). */
void ethogram_event_set_string(ethogram_event* ev, const char* field, const char* v, size_t len);
void ethogram_event_set_bool(ethogram_event* ev, const char* field, int v);
void ethogram_event_set_duration_us(ethogram_event* ev, const char* field, int64_t us);
void ethogram_event_set_timestamp_us(ethogram_event* ev, const char* field, int64_t us);
void ethogram_event_set_null(ethogram_event* ev, const char* field);
/** Pushes a typed event: validated, numbered and run as ethogram_push_json would the same event as JSON.
 *  1 when accepted; 0 when refused, with `*error` (if not NULL) set ("bad_field: cart.qty: ..."). */
int ethogram_push_event(ethogram_engine* e, const ethogram_event* ev, char** error);
/** No event before `time_us` (µs since the Unix epoch) will come: releases events, fires timers. */
void ethogram_advance_watermark(ethogram_engine* e, int64_t time_us);
/** End of input: releases every buffered event and fires every pending timer. */
void ethogram_flush(ethogram_engine* e);
void ethogram_get_stats(const ethogram_engine* e, ethogram_stats* out);

/** Snapshot of the engine's whole state (see Engine::snapshot): `*bytes` (release with ethogram_free) and
 *  `*len`. 1 on success. */
int ethogram_snapshot(const ethogram_engine* e, char** bytes, size_t* len);
/** Restores a snapshot into a fresh engine of the same rule set. 1 on success; 0 with `*error` set. */
int ethogram_restore(ethogram_engine* e, const char* bytes, size_t len, char** error);
/** The same through a file (written atomically). */
int ethogram_snapshot_to_file(const ethogram_engine* e, const char* path, char** error);
int ethogram_restore_from_file(ethogram_engine* e, const char* path, char** error);

/** Releases a string returned by this API. */
void ethogram_free(void* p);

#ifdef __cplusplus
}
#endif

#endif /* ETHOGRAM_ETHOGRAM_H */
