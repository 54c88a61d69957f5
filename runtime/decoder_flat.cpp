// decoder_flat.cpp: the usual line, a flat object of plain members whose first member is the type, decoded
// in one scan.
//
// Why: scanning the line into members (scan_flat_object) and then looking each member up and checking it
// (decode_members) wrote and read back every member's name and value, and searched the members for the
// type. Here each member is checked as it is scanned, and its name is first compared in place with the
// field found at its position on the last line of its type (the name and its closing quote, a few word
// loads) instead of being scanned for its closing quote and then compared.
//
// What it takes it decides exactly as the other two decoders would: it declines (and interns nothing) on
// anything else: a line the flat scan would not take, the type not first or not a known type, a second key
// member, any member that does not fit its field, a required field missing or no event time (every dead
// letter: its verdict and text come from the member loop or the DOM then, in member order). Strings are
// recorded while scanning and interned once the whole line is scanned, in member order (the order
// decode_members interns them in).
#include "runtime/decoder_impl.h"
#include "runtime/flat_json_scan.h"

#include <fmt/format.h>

#include <bit>
#include <iterator>

namespace ethogram::runtime {

using namespace flat_scan;

namespace {

// Whether the bytes at p are `name` and then the closing quote ("name" is plain: equal bytes, equal names).
[[gnu::always_inline]] inline bool name_at(const char* p, const char* e, std::string_view name) {
    const size_t n = name.size();
    if (static_cast<size_t>(e - p) <= n || p[n] != '"') return false;
    return same_text(std::string_view(p, n), name);
}

} // namespace

Decoder::Impl::Flat Decoder::Impl::decode_flat(DecodeError& err, std::string_view line, uint64_t line_no,
                                               ir::Event& ev) {
    // The word tricks (flat_json_scan.h) read bytes in little-endian order.
    if constexpr (std::endian::native != std::endian::little) return Flat::Declined;
    const char* p = line.data();
    const char* const e = p + line.size();
    if (peek(p, e) != '{') return Flat::Declined;
    ++p;
    // The type member, first.
    if (peek(p, e) != '"' || !type_plain || !name_at(p + 1, e, opts.type_field)) return Flat::Declined;
    p += opts.type_field.size() + 2;
    if (peek(p, e) != ':') return Flat::Declined;
    ++p;
    if (peek(p, e) != '"') return Flat::Declined;
    std::string_view tname;
    p = scan_string(p + 1, e, tname);
    if (p == nullptr) return Flat::Declined;
    const int t = event_type(tname);
    if (t < 0) return Flat::Declined;
    const ir::EventType& et = rs.events[static_cast<size_t>(t)];

    const FlatType& ft = flat_types[static_cast<size_t>(t)];
    if (!ft.fits) return Flat::Declined;
    // begin_event's work, with the fields seen as bits (what finish_event checks, below).
    ev.type = static_cast<uint16_t>(t);
    ev.line = line_no;
    ev.key = ir::kNoString;
    ev.id = ir::kNoString;
    ev.time = 0;
    if (ev.fields.size() != et.fields.size()) ev.fields.resize(et.fields.size());
    for (ir::Value& f : ev.fields) f = ir::Value::missing();
    uint64_t seen_bits = 0;
    pending.clear();
    key_text = {};
    int_id = false;

    std::array<uint16_t, kLayoutMembers>& layout = flat_layouts[static_cast<size_t>(t)];
    const std::string* const tokens = member_tokens[static_cast<size_t>(t)].data();
    size_t pos = 1; // the member's position (the type is 0)
    char c = peek(p, e);
    while (c == ',') {
        ++p;
        if (pos == static_cast<size_t>(kFlatMembers)) return Flat::Declined;
        uint16_t slot = kIgnored;
        const uint16_t guess = pos < kLayoutMembers ? layout[pos] : kIgnored;
        // The usual member: `"name":` of the field found at this position on the last line of this type,
        // with no whitespace around the name (a guess is always a plain field, so its token is set).
        if (guess != kIgnored && static_cast<size_t>(e - p) >= tokens[guess].size() &&
            same_text(std::string_view(p, tokens[guess].size()), tokens[guess])) {
            slot = guess;
            p += tokens[guess].size();
        } else {
            if (peek(p, e) != '"') return Flat::Declined;
            ++p;
            if (guess != kIgnored && name_at(p, e, et.fields[guess].name)) {
                slot = guess;
                p += et.fields[guess].name.size() + 1;
            } else {
                std::string_view name;
                p = scan_string(p, e, name);
                if (p == nullptr) return Flat::Declined;
                slot = member_slot(t, name);
                if (pos < kLayoutMembers)
                    layout[pos] = slot != kIgnored && !tokens[slot].empty() ? slot : kIgnored;
            }
            if (peek(p, e) != ':') return Flat::Declined;
            ++p;
        }
        JsonValue v;
        p = scan_value(p, e, v);
        if (p == nullptr) return Flat::Declined;
        if (slot != kIgnored) { // unknown members (and the type's duplicates) are ignored
            if (slot == et.key_field) {
                // A second key member: the member loop (key_buf holds one integer key's text at a time).
                if (seen_bits >> slot & 1) return Flat::Declined;
                seen_bits |= uint64_t{1} << slot;
                if (v.type == JsonType::String &&
                    et.fields[slot].type == ir::Type::String) { // key()'s usual case
                    key_text = v.s;
                    pending.push_back({slot, true, v.s});
                    ev.fields[slot] = ir::Value::string(ir::kNoString);
                } else if (!key(err, et, v, ev)) {
                    return Flat::Declined;
                }
            } else {
                seen_bits |= uint64_t{1} << slot;
                if (!field(err, et, slot, v, ev.fields[slot])) return Flat::Declined;
            }
        }
        ++pos;
        c = peek(p, e);
    }
    if (c != '}' || skip_ws(p + 1, e) != e) return Flat::Declined;
    // finish_event's checks: a required field not seen, or no event time, is the member loop's to report.
    if ((ft.required & ~seen_bits) != 0) return Flat::Declined;
    if (et.time_field != ir::kNoField) {
        const ir::Value& tval = ev.fields[et.time_field];
        if (tval.is_missing()) return Flat::Declined;
        ev.time = tval.i;
    }
    ++flat_lines;
    if (!defer) {
        for (const Pending& s : pending) {
            const uint32_t id = pool.intern(s.text);
            if (s.field) ev.fields[s.slot] = ir::Value::string(id);
            if (s.slot == et.key_field) ev.key = id;
        }
    }
    // The id, as finish_event takes it (deferred: an integer id's text waits in id_buf).
    if (et.id_field != ir::kNoField) {
        const ir::Value& id = ev.fields[et.id_field];
        if (id.type == ir::Type::String) {
            ev.id = static_cast<uint32_t>(id.i);
        } else if (id.type == ir::Type::Int) {
            if (!defer) {
                ev.id = intern_decimal(pool, id_buf, id.i);
            } else {
                id_buf.clear();
                fmt::format_to(std::back_inserter(id_buf), "{}", id.i);
                int_id = true;
            }
        }
    }
    return Flat::Decoded;
}

} // namespace ethogram::runtime
