// json_writer.h: tiny helpers to append JSON text (strings with correct escaping, numbers) to a buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Appends `s` as a JSON string literal: quotes, `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control
/// characters as `\u00XX`. Well-formed UTF-8 is copied as it is; a byte that is not part of a well-formed
/// UTF-8 sequence becomes `\ufffd` (the replacement character) so that the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);
/// Appends a double in its shortest round-trip form; NaN and infinities (not JSON) become `null`.
void append_json_double(std::string& out, double v);
void append_json_int(std::string& out, int64_t v);
void append_json_uint(std::string& out, uint64_t v);
/// Appends `v` as a quoted string of 16 lower-case hex digits (`"{:016x}"`): detection ids.
void append_json_hex16(std::string& out, uint64_t v);

/// Whether `s` is written as a JSON string as it is, between quotes (no byte to escape or replace).
bool json_plain(std::string_view s);

/// A JSON record under construction, for records written many times a second (detections): pieces are
/// copied into a fixed buffer, which reaches `out` in one append when it fills and when the record is
/// done (flush(), or the destructor). The text is exactly what the append_json_* functions write;
/// std::string's append per piece was most of the cost of formatting a detection.
class JsonOut {
public:
    explicit JsonOut(std::string& out) : out_(out) {}
    ~JsonOut() { flush(); }
    JsonOut(const JsonOut&) = delete;
    JsonOut& operator=(const JsonOut&) = delete;

    /// A string literal's text as it is (JSON punctuation and member names).
    template <size_t N>
    void lit(const char (&s)[N]) {
        raw(s, N - 1);
    }
    void ch(char c) {
        if (n_ == kCap) flush();
        buf_[n_++] = c;
    }
    [[gnu::always_inline]] void raw(const char* p, size_t len) {
        if (len > kCap - n_) {
            flush();
            if (len > kCap) {
                out_.append(p, len);
                return;
            }
        }
        std::memcpy(buf_ + n_, p, len);
        n_ += len;
    }
    /// As append_json_string.
    void string(std::string_view s);
    /// A time as a quoted RFC 3339 string (format_rfc3339).
    void time(int64_t us);
    /// As append_json_int, append_json_uint, append_json_double, append_json_hex16.
    void int64(int64_t v);
    void uint64(uint64_t v);
    void real(double v);
    void hex16(uint64_t v);
    void flush() {
        // GCC at -O1 (the sanitizer build) cannot see that only the written prefix buf_[0, n_) is copied
        // and warns -Wmaybe-uninitialized; filling the buffer to silence it would cost a memset per record.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
        out_.append(buf_, n_);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        n_ = 0;
    }

private:
    static constexpr size_t kCap = 1024;
    /// Makes room for `len` more bytes (at most kCap).
    void room(size_t len) {
        if (len > kCap - n_) flush();
    }
    std::string& out_;
    char buf_[kCap];
    size_t n_ = 0;
};

} // namespace ethogram::runtime
