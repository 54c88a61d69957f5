// json_writer.h: tiny helpers to append JSON text (strings with correct escaping, numbers) to a buffer.
#pragma once

#include <cstdint>
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

} // namespace ethogram::runtime
