// json_writer.cpp: JSON string escaping and number formatting.
#include "runtime/json_writer.h"

#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>

namespace ethogram::runtime {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t utf8_sequence(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xc0) == 0x80; };
    unsigned char c = b(0);
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xe0 && b(1) < 0xa0) return 0; // overlong
        if (c == 0xed && b(1) > 0x9f) return 0; // surrogate
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xf0 && b(1) < 0x90) return 0; // overlong
        if (c == 0xf4 && b(1) > 0x8f) return 0; // above U+10FFFF
        return 4;
    }
    return 0;
}

// Whether any of the 8 bytes in `w` needs a look of its own: below 0x20, '"', '\\' (escaped), or 0x80
// and above (the start or middle of a UTF-8 sequence, checked byte by byte). Exact as a yes / no.
bool needs_care(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
    const uint64_t below_space = (w - kOnes * 0x20) & ~w;
    const uint64_t is_quote = (quote - kOnes) & ~quote;
    const uint64_t is_backslash = (backslash - kOnes) & ~backslash;
    return ((below_space | is_quote | is_backslash | w) & kHigh) != 0;
}

bool plain_byte(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

} // namespace

bool json_plain(std::string_view s) {
    const char* p = s.data();
    const size_t n = s.size();
    uint64_t w;
    if (n >= 8) { // words, the last one overlapping the one before it
        for (size_t i = 0; i + 8 < n; i += 8) {
            std::memcpy(&w, p + i, 8);
            if (needs_care(w)) return false;
        }
        std::memcpy(&w, p + n - 8, 8);
        return !needs_care(w);
    }
    if (n >= 4) { // two overlapping halves
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        return !needs_care(uint64_t{lo} | uint64_t{hi} << 32);
    }
    for (size_t i = 0; i < n; ++i)
        if (!plain_byte(static_cast<unsigned char>(p[i]))) return false;
    return true;
}

void append_json_string(std::string& out, std::string_view s) {
    if (s.size() <= 126 && json_plain(s)) { // quoted in a local buffer: one append, not three
        char buf[128];
        buf[0] = '"';
        std::memcpy(buf + 1, s.data(), s.size());
        buf[s.size() + 1] = '"';
        out.append(buf, s.size() + 2);
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0; // start of the pending run of bytes that need no escaping
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') continue;
        if (c >= 0x80) {
            if (size_t n = utf8_sequence(s, i)) {
                i += n - 1;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c >= 0x80) { // a byte that is not valid UTF-8: JSON cannot carry it
                out += "\\ufffd";
                break;
            }
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_json_double(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    // Into a stack buffer, then one append: formatting through a back_inserter of `out` went through
    // fmt's iterator buffer (and a grow per call). The shortest round-trip form is at most 24 chars.
    char buf[64];
    auto r = fmt::format_to_n(buf, sizeof buf, "{}", v);
    out.append(buf, std::min(r.size, sizeof buf));
}

void append_json_int(std::string& out, int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
void append_json_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_json_hex16(std::string& out, uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[18];
    buf[0] = buf[17] = '"';
    for (int k = 16; k >= 1; --k, v >>= 4) buf[k] = kHex[v & 0xf];
    out.append(buf, sizeof buf);
}

void JsonOut::string(std::string_view s) {
    if (s.size() + 2 <= kCap && json_plain(s)) {
        room(s.size() + 2);
        buf_[n_] = '"';
        std::memcpy(buf_ + n_ + 1, s.data(), s.size());
        buf_[n_ + s.size() + 1] = '"';
        n_ += s.size() + 2;
        return;
    }
    flush();
    append_json_string(out_, s);
}

void JsonOut::time(int64_t us) {
    room(kRfc3339MaxSize + 2);
    buf_[n_] = '"';
    n_ += 1 + write_rfc3339(buf_ + n_ + 1, us);
    buf_[n_++] = '"';
}

void JsonOut::int64(int64_t v) {
    room(24);
    n_ = static_cast<size_t>(std::to_chars(buf_ + n_, buf_ + kCap, v).ptr - buf_);
}

void JsonOut::uint64(uint64_t v) {
    room(24);
    n_ = static_cast<size_t>(std::to_chars(buf_ + n_, buf_ + kCap, v).ptr - buf_);
}

void JsonOut::real(double v) {
    if (!std::isfinite(v)) return lit("null");
    // A whole number below 2^53 (a confidence of 1, a count as a float) is written by fmt as its integer
    // digits: the same text without the shortest-round-trip search. Not -0, which fmt writes as "-0".
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0 && !(v == 0 && std::signbit(v)))
        return int64(static_cast<int64_t>(v));
    room(64);
    auto r = fmt::format_to_n(buf_ + n_, 64, "{}", v);
    n_ += std::min(r.size, size_t{64});
}

void JsonOut::hex16(uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    room(18);
    char* p = buf_ + n_;
    p[0] = p[17] = '"';
    for (int k = 16; k >= 1; --k, v >>= 4) p[k] = kHex[v & 0xf];
    n_ += 18;
}

} // namespace ethogram::runtime
