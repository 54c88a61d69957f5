// decoder_dom.cpp: a line through simdjson's DOM parser: every line the flat scans decline (escapes,
// nested values, non-ASCII text, malformed JSON), and every line with DecoderOptions::dom_only. The DOM
// gives the verdicts and texts of malformed lines; its members go through the same member loop.
#include "runtime/decoder_impl.h"

#include <fmt/format.h>

namespace ethogram::runtime {

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING, "decode in place needs simdjson's padding");

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view json_type_name(element_type t) {
    switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "?";
}

// What the decoder reads of a DOM element (a member's value).
JsonValue json_value(element v) {
    JsonValue j;
    switch (v.type()) {
    case element_type::ARRAY: j.type = JsonType::Array; break;
    case element_type::OBJECT: j.type = JsonType::Object; break;
    case element_type::INT64:
        j.type = JsonType::Int64;
        j.i = v.get_int64().value_unsafe();
        break;
    case element_type::UINT64:
        j.type = JsonType::Uint64;
        j.u = v.get_uint64().value_unsafe();
        break;
    case element_type::DOUBLE:
        j.type = JsonType::Double;
        j.d = v.get_double().value_unsafe();
        break;
    case element_type::STRING:
        j.type = JsonType::String;
        j.s = v.get_string().value_unsafe();
        break;
    case element_type::BOOL:
        j.type = JsonType::Bool;
        j.b = v.get_bool().value_unsafe();
        break;
    case element_type::NULL_VALUE: j.type = JsonType::Null; break;
    }
    return j;
}

} // namespace

bool Decoder::Impl::decode_dom(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev,
                               bool in_place) {
    const char* text = line.data();
    if (!in_place) {
        padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
        std::copy(line.begin(), line.end(), padded.begin());
        text = padded.data();
    }
    element doc;
    auto perr = parser.parse(text, line.size(), false).get(doc);
    if (perr)
        return decode_fail(err, DeadReason::ParseError,
                           fmt::format("invalid JSON: {}", simdjson::error_message(perr)));
    simdjson::dom::object obj;
    if (doc.get_object().get(obj))
        return decode_fail(err, DeadReason::ParseError,
                           fmt::format("expected a JSON object, got {}", json_type_name(doc.type())));
    nmembers = 0;
    for (auto member : obj) {
        if (nmembers == members.size()) members.resize(2 * nmembers);
        members[nmembers++] = JsonMember{member.key, json_value(member.value)};
    }
    return decode_members(err, line_no, ev);
}

} // namespace ethogram::runtime
