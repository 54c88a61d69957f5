// ethogram_c.cpp: the C API (include/ethogram/ethogram.h) over ethogram::Engine.
#include "ethogram/ethogram.h"

#include "ethogram/engine.h"

#include <cstdlib>
#include <cstring>
#include <string>

struct ethogram_engine {
    std::unique_ptr<ethogram::Engine> engine;
};

struct ethogram_event {
    ethogram::TypedEvent ev{""};
};

namespace {

char* dup_string(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

// A C string as a view; NULL as the empty string.
std::string_view sv(const char* s) {
    return s ? std::string_view(s) : std::string_view();
}

ethogram_engine* wrap(std::unique_ptr<ethogram::Engine> e, const std::string& err, char** error) {
    if (!e) {
        if (error) *error = dup_string(err);
        return nullptr;
    }
    auto* w = new ethogram_engine;
    w->engine = std::move(e);
    return w;
}

} // namespace

extern "C" {

ethogram_engine* ethogram_engine_from_source(const char* name, const char* text, int64_t allowed_lateness_us,
                                             char** error) {
    ethogram::EngineOptions o;
    o.allowed_lateness_us = allowed_lateness_us;
    std::string err;
    auto e = ethogram::Engine::from_source(name ? name : "<source>", text ? text : "", o, &err);
    return wrap(std::move(e), err, error);
}

ethogram_engine* ethogram_engine_from_files(const char* const* paths, size_t n, int64_t allowed_lateness_us,
                                            char** error) {
    ethogram::EngineOptions o;
    o.allowed_lateness_us = allowed_lateness_us;
    std::vector<std::string> ps(paths, paths + n);
    std::string err;
    auto e = ethogram::Engine::from_files(ps, o, &err);
    return wrap(std::move(e), err, error);
}

ethogram_engine* ethogram_engine_from_bundle(const char* bundle, const char* trusted, const char* registry,
                                             int64_t allowed_lateness_us, char** error) {
    ethogram::EngineOptions o;
    o.allowed_lateness_us = allowed_lateness_us;
    ethogram::BundleSource src;
    src.bundle = bundle ? bundle : "";
    src.trusted = trusted ? trusted : "";
    src.registry = registry ? registry : "";
    std::string err;
    auto e = ethogram::Engine::from_bundle(src, o, &err);
    return wrap(std::move(e), err, error);
}

int ethogram_swap_rules(ethogram_engine* e, ethogram_engine* next, char** error) {
    return ethogram_swap_rules_refused(e, next, nullptr, nullptr, error);
}

int ethogram_swap_rules_refused(ethogram_engine* e, ethogram_engine* next, ethogram_refused_fn fn, void* user,
                                char** error) {
    std::unique_ptr<ethogram::Engine> n;
    if (next) {
        n = std::move(next->engine);
        delete next;
    }
    std::string err;
    ethogram::SwapReport rep;
    if (!e->engine->swap_rules(std::move(n), &rep, &err)) {
        if (error) *error = dup_string(err);
        return 0;
    }
    if (fn)
        for (const ethogram::RefusedEvent& r : rep.refused)
            fn(user, r.line, r.reason.c_str(), r.json.c_str(), r.json.size());
    return 1;
}

void ethogram_engine_free(ethogram_engine* e) {
    delete e;
}

const char* ethogram_engine_name(const ethogram_engine* e) {
    return e->engine->engine_name() == "jit" ? "jit" : "interp";
}

char* ethogram_engine_warning(const ethogram_engine* e) {
    const std::string w = e->engine->engine_warning();
    return w.empty() ? nullptr : dup_string(w);
}

char* ethogram_engine_bundle_hash(const ethogram_engine* e) {
    const std::string h = e->engine->bundle_hash();
    return h.empty() ? nullptr : dup_string(h);
}

void ethogram_set_callback(ethogram_engine* e, ethogram_detection_fn fn, void* user) {
    if (!fn) {
        e->engine->on_detection(nullptr);
        return;
    }
    e->engine->on_detection([fn, user](const ethogram::Detection& d) {
        fn(user, d.json.data(), d.json.size(), d.suppressed ? 1 : 0);
    });
}

size_t ethogram_poll(ethogram_engine* e, ethogram_detection_fn fn, void* user) {
    std::vector<ethogram::Detection> ds = e->engine->poll();
    if (fn)
        for (const auto& d : ds) fn(user, d.json.data(), d.json.size(), d.suppressed ? 1 : 0);
    return ds.size();
}

int ethogram_push_json(ethogram_engine* e, const char* line, size_t len, char** error) {
    std::string err;
    if (e->engine->push_json(std::string_view(line, len), &err)) return 1;
    if (error) *error = dup_string(err);
    return 0;
}

ethogram_event* ethogram_event_new(const char* type) {
    auto* ev = new ethogram_event;
    ev->ev.reset(type ? type : "");
    return ev;
}

void ethogram_event_reset(ethogram_event* ev, const char* type) {
    ev->ev.reset(type ? type : "");
}

void ethogram_event_free(ethogram_event* ev) {
    delete ev;
}

void ethogram_event_key(ethogram_event* ev, const char* key) {
    ev->ev.key(sv(key));
}

void ethogram_event_key_int(ethogram_event* ev, int64_t key) {
    ev->ev.key(key);
}

void ethogram_event_time_us(ethogram_event* ev, int64_t time_us) {
    ev->ev.time_us(time_us);
}

void ethogram_event_id(ethogram_event* ev, const char* id) {
    ev->ev.id(sv(id));
}

void ethogram_event_set_int(ethogram_event* ev, const char* field, int64_t v) {
    ev->ev.set_int(sv(field), v);
}

void ethogram_event_set_float(ethogram_event* ev, const char* field, double v) {
    ev->ev.set_float(sv(field), v);
}

void ethogram_event_set_string(ethogram_event* ev, const char* field, const char* v, size_t len) {
    ev->ev.set_string(sv(field), v ? std::string_view(v, len) : std::string_view());
}

void ethogram_event_set_bool(ethogram_event* ev, const char* field, int v) {
    ev->ev.set_bool(sv(field), v != 0);
}

void ethogram_event_set_duration_us(ethogram_event* ev, const char* field, int64_t us) {
    ev->ev.set_duration_us(sv(field), us);
}

void ethogram_event_set_timestamp_us(ethogram_event* ev, const char* field, int64_t us) {
    ev->ev.set_timestamp_us(sv(field), us);
}

void ethogram_event_set_null(ethogram_event* ev, const char* field) {
    ev->ev.set_null(sv(field));
}

int ethogram_push_event(ethogram_engine* e, const ethogram_event* ev, char** error) {
    std::string err;
    if (e->engine->push(ev->ev, &err)) return 1;
    if (error) *error = dup_string(err);
    return 0;
}

void ethogram_advance_watermark(ethogram_engine* e, int64_t time_us) {
    e->engine->advance_watermark(time_us);
}

void ethogram_flush(ethogram_engine* e) {
    e->engine->flush();
}

void ethogram_get_stats(const ethogram_engine* e, ethogram_stats* out) {
    const ethogram::EngineStats s = e->engine->stats();
    *out = ethogram_stats{s.events_in,   s.processed,  s.dead_letters,   s.buffered,
                          s.detections,  s.suppressed, s.live_keys,      s.partial_matches,
                          s.state_bytes, s.evictions,  s.overflow_drops, s.budget_drops};
}

void ethogram_free(void* p) {
    std::free(p);
}

int ethogram_snapshot(const ethogram_engine* e, char** bytes, size_t* len) {
    std::string s = e->engine->snapshot();
    auto* p = static_cast<char*>(std::malloc(s.size() == 0 ? 1 : s.size()));
    if (p == nullptr) return 0;
    std::memcpy(p, s.data(), s.size());
    *bytes = p;
    *len = s.size();
    return 1;
}

int ethogram_restore(ethogram_engine* e, const char* bytes, size_t len, char** error) {
    std::string err;
    if (e->engine->restore(std::string_view(bytes, len), &err)) return 1;
    if (error) *error = dup_string(err);
    return 0;
}

int ethogram_snapshot_to_file(const ethogram_engine* e, const char* path, char** error) {
    std::string err;
    if (e->engine->snapshot_to_file(path, &err)) return 1;
    if (error) *error = dup_string(err);
    return 0;
}

int ethogram_restore_from_file(ethogram_engine* e, const char* path, char** error) {
    std::string err;
    if (e->engine->restore_from_file(path, &err)) return 1;
    if (error) *error = dup_string(err);
    return 0;
}

} // extern "C"
