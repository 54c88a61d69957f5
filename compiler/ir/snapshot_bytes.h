// snapshot_bytes.h: the little-endian byte codec of checkpoints (executor state, runtime state), with a
// bounds-checked reader that fails instead of reading past the end of a truncated or corrupt snapshot.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/value.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace ethogram::ir {

/// Appends fixed-width little-endian integers, doubles (IEEE-754 bits) and length-prefixed strings.
class SnapWriter {
public:
    explicit SnapWriter(std::string& out) : out_(out) {}
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(uint32_t v) { raw(v); }
    void u64(uint64_t v) { raw(v); }
    void i64(int64_t v) { raw(static_cast<uint64_t>(v)); }
    void f64(double v) {
        uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        raw(b);
    }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void str(std::string_view s) {
        u64(s.size());
        out_.append(s.data(), s.size());
    }
    /// A Value: its type tag and the 8 bytes of its payload (strings as StringPool ids).
    void value(const Value& v) {
        u8(static_cast<uint8_t>(v.type));
        uint64_t b;
        std::memcpy(&b, &v.i, sizeof b);
        raw(b);
    }
    /// A decoded event: type, key, time, seq, line, id and its fields.
    void event(const Event& e) {
        u32(e.type);
        u32(e.key);
        i64(e.time);
        u64(e.seq);
        u64(e.line);
        u32(e.id);
        u64(e.fields.size());
        for (const Value& v : e.fields) value(v);
    }

private:
    template <class T>
    void raw(T v) {
        static_assert(std::is_unsigned_v<T>);
        for (size_t i = 0; i < sizeof(T); ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    std::string& out_;
};

/// Reads what SnapWriter wrote. Reading past the end (or an impossible length or tag) sets failed() and
/// returns zeros from then on; callers check failed() (or ok()) at the end, and where a count drives
/// allocation (need() bounds it by the bytes left, so that a corrupt count cannot allocate gigabytes).
class SnapReader {
public:
    explicit SnapReader(std::string_view in) : in_(in) {}
    uint8_t u8() { return static_cast<uint8_t>(raw(1)); }
    uint32_t u32() { return static_cast<uint32_t>(raw(4)); }
    uint64_t u64() { return raw(8); }
    int64_t i64() { return static_cast<int64_t>(raw(8)); }
    double f64() {
        uint64_t b = raw(8);
        double v;
        std::memcpy(&v, &b, sizeof v);
        return v;
    }
    bool boolean() { return u8() != 0; }
    std::string str() {
        uint64_t n = u64();
        if (!need(n, 1)) return {};
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    /// An event as SnapWriter::event wrote it; fails on a type index not below `type_count`.
    void event(Event& e, uint32_t type_count = UINT32_MAX) {
        const uint32_t type = u32();
        if (ok() && (type >= type_count || type > UINT16_MAX)) fail("an event of an unknown type");
        e.type = static_cast<uint16_t>(type);
        e.key = u32();
        e.time = i64();
        e.seq = u64();
        e.line = u64();
        e.id = u32();
        e.fields.resize(count(9));
        for (Value& v : e.fields) v = value();
    }
    Value value() {
        Value v;
        uint8_t t = u8();
        if (t > static_cast<uint8_t>(Type::Duration)) {
            fail("bad value type tag");
            return v;
        }
        v.type = static_cast<Type>(t);
        uint64_t b = raw(8);
        std::memcpy(&v.i, &b, sizeof b);
        return v;
    }
    /// A count of items of at least `min_item_bytes` each: fails when the rest cannot hold that many.
    uint64_t count(uint64_t min_item_bytes) {
        uint64_t n = u64();
        if (!need(n, min_item_bytes)) return 0;
        return n;
    }
    void fail(const char* why) {
        if (error_.empty()) error_ = std::string(why) + " at byte " + std::to_string(pos_);
        pos_ = in_.size();
        failed_ = true;
    }
    bool failed() const { return failed_; }
    bool ok() const { return !failed_; }
    const std::string& error() const { return error_; }
    size_t remaining() const { return in_.size() - pos_; }
    size_t position() const { return pos_; }

private:
    bool need(uint64_t n, uint64_t item) {
        if (failed_) return false;
        if (item != 0 && n > remaining() / item) {
            fail("truncated or corrupt state (a count exceeds the bytes left)");
            return false;
        }
        return true;
    }
    uint64_t raw(size_t n) {
        if (failed_) return 0;
        if (remaining() < n) {
            fail("truncated state");
            return 0;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
        pos_ += n;
        return v;
    }
    std::string_view in_;
    size_t pos_ = 0;
    bool failed_ = false;
    std::string error_;
};

} // namespace ethogram::ir
