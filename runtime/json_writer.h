// json_writer.h: tiny helpers to append JSON text (strings with correct escaping, numbers) to a buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Appends `s` as a JSON string literal: quotes, `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control
/// characters as `\u00XX`. Bytes >= 0x80 are copied as they are (the input is UTF-8 text).
void append_json_string(std::string& out, std::string_view s);
/// Appends a double in its shortest round-trip form; NaN and infinities (not JSON) become `null`.
void append_json_double(std::string& out, double v);
void append_json_int(std::string& out, int64_t v);
void append_json_uint(std::string& out, uint64_t v);

} // namespace ethogram::runtime
