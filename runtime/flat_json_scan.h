// flat_json_scan.h: the flat-object scanner's pieces (strings, numbers, literals, whitespace), inline for
// the two scanners built from them: scan_flat_object (runtime/flat_json.cpp) and the decoder's fused scan
// of the usual line (runtime/decoder_flat.cpp). Internal to runtime/.
#pragma once

#include "runtime/flat_json.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ethogram::runtime::flat_scan {

constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;

[[gnu::always_inline]] inline bool is_ws(unsigned char c) {
    return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

[[gnu::always_inline]] inline bool is_digit(unsigned char c) {
    return static_cast<unsigned char>(c - '0') <= 9;
}

// JSON whitespace (usually none: one compare).
[[gnu::always_inline]] inline const char* skip_ws(const char* p, const char* e) {
    while (p != e && is_ws(static_cast<unsigned char>(*p))) ++p;
    return p;
}

// Moves p past whitespace; the byte there, or 0 at the end of the line (never a byte the scan accepts
// where it peeks, so a NUL in the line is declined like the end).
[[gnu::always_inline]] inline char peek(const char*& p, const char* e) {
    if (p != e && static_cast<unsigned char>(*p) > ' ') return *p; // no whitespace: the usual case
    p = skip_ws(p, e);
    return p == e ? '\0' : *p;
}

// The high bit of each byte of `w` a string's text cannot hold as is ('"', '\\', below 0x20, 0x80 and up).
// Exact up to the first such byte (a borrow only runs upward from a byte that is one), which is all the
// caller uses.
[[gnu::always_inline]] inline uint64_t special_bytes(uint64_t w) {
    const uint64_t quote = w ^ (kOnes * '"'), bslash = w ^ (kOnes * '\\');
    return (((quote - kOnes) & ~quote) | ((bslash - kOnes) & ~bslash) | ((w - kOnes * 0x20) & ~w) | w) &
           kHighs;
}

// A string's text after its opening quote: printable ASCII without backslash, up to the closing quote.
// Returns past the closing quote, or null to decline. Sixteen bytes at a time (SSE2) or eight while that
// many remain, then byte by byte.
[[gnu::always_inline]] inline const char* scan_string(const char* p, const char* e, std::string_view& out) {
    const char* start = p;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (e - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // A signed compare: bytes 0x80 and up are negative, so below 0x20 catches them too.
        const __m128i special = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)), _mm_cmplt_epi8(v, space));
        if (const auto m = static_cast<unsigned>(_mm_movemask_epi8(special))) {
            p += __builtin_ctz(m); // the first special byte
            if (*p != '"') return nullptr;
            out = std::string_view(start, static_cast<size_t>(p - start));
            return p + 1;
        }
        p += 16;
    }
#endif
    while (e - p >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        if (const uint64_t m = special_bytes(w)) {
            p += __builtin_ctzll(m) / 8; // the first special byte
            if (*p != '"') return nullptr;
            out = std::string_view(start, static_cast<size_t>(p - start));
            return p + 1;
        }
        p += 8;
    }
    for (; p != e; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') {
            out = std::string_view(start, static_cast<size_t>(p - start));
            return p + 1;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80) return nullptr;
    }
    return nullptr;
}

// The high bit of each byte of the 8 at `w` that is not a digit. Exact up to the first such byte (a byte
// at 0xFA or above carries into the bytes after it, never into those before), which is all the callers use.
inline uint64_t non_digits(uint64_t w) {
    // 0 in each byte that is a digit (high nibble 3, and still 3 after adding 6), not 0 in the others.
    const uint64_t t =
        ((w & 0xF0F0F0F0F0F0F0F0ull) | (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ^
        0x3333333333333333ull;
    return ((t + 0x7F7F7F7F7F7F7F7Full) | t) & kHighs;
}

// The value of 8 digits in `w`, the first in its low byte (simdjson's and fast_float's well-known
// reduction); bytes 0 count as digits 0.
inline uint64_t parse_eight_digits(uint64_t w) {
    w = (w & 0x0F0F0F0F0F0F0F0Full) * 2561 >> 8;
    w = (w & 0x00FF00FF00FF00FFull) * 6553601 >> 16;
    return (w & 0x0000FFFF0000FFFFull) * 42949672960001 >> 32;
}

constexpr uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Digits from p: appended to n (which may wrap past 19 digits: the caller counts them). Eight bytes at a
// time while eight remain: all digits, or the k digits before the first other byte, moved to the top of
// the word (zero bytes below them) and read in one reduction.
[[gnu::always_inline]] inline const char* digits(const char* p, const char* e, uint64_t& n) {
    while (e - p >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        const uint64_t m = non_digits(w);
        if (m == 0) {
            n = n * 100000000 + parse_eight_digits(w);
            p += 8;
            continue;
        }
        const int k = __builtin_ctzll(m) / 8; // the digits before the first other byte
        if (k != 0) {
            n = n * kPow10Int[k] + parse_eight_digits(w << (64 - 8 * k));
            p += k;
        }
        return p;
    }
    while (p != e && is_digit(static_cast<unsigned char>(*p))) n = n * 10 + static_cast<uint64_t>(*p++ - '0');
    return p;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// A number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, the JSON grammar (simdjson rejects what does
// not fit it). Integers of at most 18 digits (always in the int64 range; simdjson reads longer ones as
// int64, uint64 or an error) other than -0 (simdjson's -0 is a double). Doubles are the correctly rounded
// value of the text, as simdjson's: exactly m * 10^k or m / 10^k in one rounding when the digits m are
// fewer than 16 and |k| at most 22 (both exact doubles: Clinger's fast path), else std::from_chars (which
// rounds correctly too); only normal values (no zero, subnormal or overflow, where simdjson's special
// cases decide).
[[gnu::always_inline]] inline const char* scan_number(const char* p, const char* e, JsonValue& v) {
    const char* start = p;
    const bool neg = *p == '-';
    if (neg) ++p;
    if (p == e) return nullptr;
    uint64_t n = 0;
    const char* int_begin = p;
    if (*p == '0') {
        ++p;
        if (p != e && is_digit(static_cast<unsigned char>(*p))) return nullptr; // a leading zero
    } else if (is_digit(static_cast<unsigned char>(*p))) {
        p = digits(p, e, n);
    } else {
        return nullptr;
    }
    const ptrdiff_t int_digits = p - int_begin;
    ptrdiff_t frac_digits = 0;
    bool integer = true;
    if (p != e && *p == '.') {
        ++p;
        if (p == e || !is_digit(static_cast<unsigned char>(*p))) return nullptr;
        const char* frac = p;
        p = digits(p, e, n);
        frac_digits = p - frac;
        integer = false;
    }
    int64_t exp10 = 0;
    bool long_exp = false;
    if (p != e && (*p == 'e' || *p == 'E')) {
        ++p;
        bool exp_neg = false;
        if (p != e && (*p == '+' || *p == '-')) exp_neg = *p++ == '-';
        if (p == e || !is_digit(static_cast<unsigned char>(*p))) return nullptr;
        const char* exp = p;
        uint64_t x = 0;
        p = digits(p, e, x);
        long_exp = p - exp > 4;
        exp10 = exp_neg ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
        integer = false;
    }
    if (integer) {
        if (int_digits > 18) return nullptr; // n may have wrapped: not read further
        if (neg && n == 0) return nullptr;
        v.type = JsonType::Int64;
        v.i = neg ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
        return p;
    }
    double d = 0;
    exp10 -= frac_digits;
    if (int_digits + frac_digits <= 15 && !long_exp && exp10 >= -22 && exp10 <= 22 && n != 0) {
        // m has at most 15 digits (a leading "0." adds one): below 2^53, exact.
        d = static_cast<double>(n);
        d = exp10 < 0 ? d / kPow10[-exp10] : d * kPow10[exp10];
        if (neg) d = -d;
    } else {
        if (p - start > 64) return nullptr;
        const auto r = std::from_chars(start, p, d, std::chars_format::general);
        if (r.ec != std::errc() || r.ptr != p) return nullptr;
    }
    if (!std::isnormal(d)) return nullptr;
    v.type = JsonType::Double;
    v.d = d;
    return p;
}

[[gnu::always_inline]] inline const char* scan_literal(const char* p, const char* e, std::string_view word) {
    if (static_cast<size_t>(e - p) < word.size() || std::string_view(p, word.size()) != word) return nullptr;
    return p + word.size();
}

// One member's value at p (after the colon and any whitespace): its type and contents in `v`. Returns
// past the value, or null to decline (nested values, bad bytes, anything the scan is not sure of).
[[gnu::always_inline]] inline const char* scan_value(const char* p, const char* e, JsonValue& v) {
    const char vc = peek(p, e);
    switch (vc) {
    case '"': v.type = JsonType::String; return scan_string(p + 1, e, v.s);
    case 't':
        v.type = JsonType::Bool;
        v.b = true;
        return scan_literal(p, e, "true");
    case 'f':
        v.type = JsonType::Bool;
        v.b = false;
        return scan_literal(p, e, "false");
    case 'n': v.type = JsonType::Null; return scan_literal(p, e, "null");
    default:
        // Nested values, bad bytes and the end of the line (0) are declined.
        if (vc != '-' && !is_digit(static_cast<unsigned char>(vc))) return nullptr;
        return scan_number(p, e, v);
    }
}

} // namespace ethogram::runtime::flat_scan
