// digest_sink.h: a DetectionSink that hashes every detection (matcher_profile, etho bench): two executors
// that give the same count and digest gave the same detections in the same order.
#pragma once

#include "compiler/ir/executor.h"

#include <cstdint>
#include <cstring>

namespace ethogram::bench {

// Internal linkage (each includer its own copy), as when it was local to matcher_profile.cpp: as an inline
// member of external linkage GCC compiled add() into about 34 more instructions per detection, which moved
// matcher_profile's instruction counts (jit, reference: 5,949 -> 5,977 per event).
namespace {

/// FNV-1a over everything a detection carries that the output shows (rule, key, times, trigger and
/// decision, bound events' steps and seqs, fields, confidence, id), suppressed or not.
struct DigestSink : ir::DetectionSink {
    uint64_t h = 14695981039346656037ULL;
    uint64_t n = 0;
    void mix(uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 1099511628211ULL;
        }
    }
    void add(const ir::Detection& d, uint64_t suppressed) {
        ++n;
        mix(d.rule);
        mix(d.key);
        mix(static_cast<uint64_t>(d.time));
        mix(suppressed);
        mix(static_cast<uint64_t>(d.first_time));
        mix(static_cast<uint64_t>(d.last_time));
        for (char c : d.trigger + "/" + d.decision) mix(static_cast<unsigned char>(c));
        for (const ir::Binding& b : d.bindings) {
            mix(b.step);
            for (const ir::BoundEvent& e : b.events) mix(e.seq);
        }
        for (const ir::Value& v : d.fields) {
            mix(static_cast<uint64_t>(v.type));
            mix(static_cast<uint64_t>(v.i));
        }
        uint64_t c = 0;
        std::memcpy(&c, &d.confidence, sizeof c);
        mix(c);
        mix(d.id);
    }
    void emit(ir::Detection&& d) override { add(d, 0); }
    void suppressed(ir::Detection&& d) override { add(d, 1); }
};

} // namespace

} // namespace ethogram::bench
