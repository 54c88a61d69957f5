// flat_json.cpp: the strict flat-object scanner (see flat_json.h).
//
// Why: simdjson's DOM parse of one short line (about 110 bytes) costs about 1,600 instructions (stage 1's
// setup and its last-block copy, then the tape), more than everything else the decoder does. The lines of a
// typical stream are flat objects of plain members, which one pass over the bytes can split and check.
// Everything the scan is not sure of (escapes, non-ASCII bytes, nested values, numbers simdjson might read
// differently or reject, anything malformed) is declined to the DOM, so verdicts and dead-letter texts
// stay simdjson's.
#include "runtime/flat_json.h"

#include "runtime/flat_json_scan.h"

#include <bit>

namespace ethogram::runtime {

using namespace flat_scan;

int scan_flat_object(std::string_view line, JsonMember* out, int max_members) {
    // The word tricks (flat_json_scan.h: the first special byte, eight digits) read bytes in little-endian
    // order.
    if constexpr (std::endian::native != std::endian::little) return -1;
    int n = 0;
    const char* p = line.data();
    const char* const e = p + line.size();
    if (peek(p, e) != '{') return -1;
    ++p;
    char c = peek(p, e);
    if (c != '}') {
        for (;;) {
            if (c != '"' || n == max_members) return -1;
            JsonMember& m = out[n++];
            p = scan_string(p + 1, e, m.key);
            if (p == nullptr || peek(p, e) != ':') return -1;
            ++p;
            p = scan_value(p, e, m.value);
            if (p == nullptr) return -1;
            // What follows a value must be a separator (so "truex" or "1x" are declined).
            c = peek(p, e);
            if (c == '}') break;
            if (c != ',') return -1;
            ++p;
            c = peek(p, e);
        }
    }
    return skip_ws(p + 1, e) == e ? n : -1;
}

} // namespace ethogram::runtime
