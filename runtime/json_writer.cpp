// json_writer.cpp: JSON string escaping and number formatting.
#include "runtime/json_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

namespace ethogram::runtime {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0; // start of the pending run of bytes that need no escaping
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
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
    fmt::format_to(std::back_inserter(out), "{}", v);
}

void append_json_int(std::string& out, int64_t v) {
    fmt::format_to(std::back_inserter(out), "{}", v);
}
void append_json_uint(std::string& out, uint64_t v) {
    fmt::format_to(std::back_inserter(out), "{}", v);
}

} // namespace ethogram::runtime
