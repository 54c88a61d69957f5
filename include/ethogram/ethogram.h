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
void ethogram_engine_free(ethogram_engine* e);

/** Detections go to `fn` as they are produced; with `fn` NULL they are queued for ethogram_poll. */
void ethogram_set_callback(ethogram_engine* e, ethogram_detection_fn fn, void* user);
/** Hands every queued detection to `fn`, oldest first; returns how many. */
size_t ethogram_poll(ethogram_engine* e, ethogram_detection_fn fn, void* user);

/** Pushes one JSON event. 1 when accepted; 0 when refused, with `*error` (if not NULL) set. */
int ethogram_push_json(ethogram_engine* e, const char* line, size_t len, char** error);
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
