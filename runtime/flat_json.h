// flat_json.h: a strict scanner for the common input line, a flat JSON object of plain members, that
// declines everything else to simdjson's DOM parser (internal to runtime/decoder).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ethogram::runtime {

/// A JSON value's type, as simdjson's DOM tells it (dom::element_type without the dependency).
enum class JsonType : uint8_t { Array, Object, Int64, Uint64, Double, String, Bool, Null };

/// One JSON value as the decoder reads it: what simdjson's DOM element gives through its getters.
struct JsonValue {
    JsonType type = JsonType::Null;
    bool b = false;
    union {
        int64_t i;  ///< Int64
        uint64_t u; ///< Uint64
        double d;   ///< Double
    };
    std::string_view s; ///< String: the text (unescaped)
    JsonValue() : i(0) {}
    /// What dom::element::get_double() returns for a number (Int64 and Uint64 converted).
    double as_double() const {
        return type == JsonType::Double ? d : type == JsonType::Int64 ? double(i) : double(u);
    }
};

/// One member of an object: its name (unescaped) and value.
struct JsonMember {
    std::string_view key;
    JsonValue value;
};

/// Whether `a` and `b` hold the same text: memcmp's answer, inline for the short names of members and event
/// types (two overlapping word loads each, never a byte past either string).
[[gnu::always_inline]] inline bool same_text(std::string_view a, std::string_view b) {
    const size_t n = a.size();
    if (n != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8) {
        if (n > 16) return std::memcmp(p, q, n) == 0;
        uint64_t x0, x1, y0, y1;
        std::memcpy(&x0, p, 8);
        std::memcpy(&y0, q, 8);
        std::memcpy(&x1, p + n - 8, 8);
        std::memcpy(&y1, q + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4) {
        uint32_t x0, x1, y0, y1;
        std::memcpy(&x0, p, 4);
        std::memcpy(&y0, q, 4);
        std::memcpy(&x1, p + n - 4, 4);
        std::memcpy(&y1, q + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n == 0) return true;
    // 1 to 3 bytes: the first, middle and last cover them all.
    return ((p[0] ^ q[0]) | (p[n / 2] ^ q[n / 2]) | (p[n - 1] ^ q[n - 1])) == 0;
}

/// The most members scan_flat_object takes (more: declined to the DOM).
inline constexpr int kFlatMembers = 64;

/// Scans `line` as a JSON object whose members are all strings without escapes, integers of at most 18
/// digits (not -0), doubles that are normal numbers, true, false or null, with ASCII text only, and JSON
/// whitespace around them. Fills `out` with the members in order (string views into `line`) and returns
/// their count; returns -1 (declines) for anything else, valid JSON or not: the caller then parses the line
/// with simdjson's DOM, which gives the verdict and the dead-letter text. A line the scanner accepts is
/// one simdjson accepts, with the same members and values (a randomized test in
/// tests/runtime/flat_json_test.cpp checks both decoders agree line by line). At most `max_members`
/// members (`out` has room for that many).
int scan_flat_object(std::string_view line, JsonMember* out, int max_members);

} // namespace ethogram::runtime
