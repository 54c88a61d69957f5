// decoder_impl.h: the decoder's state and its hot steps, shared by the files that implement it (internal
// to runtime/): decoder.cpp (the tables, the member loop over a scanned or parsed line, the checks and their
// texts, the public API), decoder_dom.cpp (simdjson's DOM, for every line the scans decline) and
// decoder_flat.cpp (the usual line, a flat object whose first member is the type, in one fused scan).
#pragma once

#include "runtime/decoder.h"
#include "runtime/event_finish.h"
#include "runtime/flat_json.h"

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

/// A JSON type's name in dead-letter texts ("integer", "string", ...).
std::string_view json_type_name(JsonType t);
/// What a field type accepts, for "expected ..." texts.
std::string_view expected_json(ir::Type t);

struct Decoder::Impl {
    const ir::RuleSet& rs;
    ir::StringPool& pool;
    DecoderOptions opts;
    simdjson::dom::parser parser;
    std::string padded; // the line plus simdjson's padding, reused
    std::vector<FieldIndex> index;
    // Per event type, the schema's field names in a small open table indexed by a hash of a member
    // name's length and three of its bytes, with a seed chosen so that no two fields share an entry: a
    // member is found by one compare instead of a string hash and a bucket walk (std::hash over the
    // name and a modulo; about a third of decoding's own instructions). An entry two fields would share
    // sends the lookup to the field index.
    struct NameTable {
        struct Entry {
            std::string_view name; ///< a schema field's name; empty: no field hashes here
            uint16_t slot = kIgnored;
        };
        std::vector<Entry> entries;
        uint32_t seed = 0, mask = 0;
        bool collides = false; ///< some entry has two fields (marked with slot kCollides)
    };
    static constexpr uint16_t kIgnored = UINT16_MAX; ///< not a schema field (the type member, extras)
    static constexpr uint16_t kCollides = UINT16_MAX - 1;
    std::vector<NameTable> names;
    NameTable types; // the event types' names (index: the type)
    // Per type, the slot each member position had on the last line of that type (kIgnored: look it up):
    // lines of a type mostly list the same members in the same order, so the member at position i is
    // first compared with the field found there last time, without hashing its name. Positions past
    // kLayoutMembers always look up.
    static constexpr size_t kLayoutMembers = 16;
    std::vector<std::array<uint16_t, kLayoutMembers>> layouts;
    // The fused scan's own layouts (decoder_flat.cpp), which only hold fields whose names it can compare
    // as bytes: plain names, printable ASCII without '"' or '\\', so that a member name equal to it byte for
    // byte is the same name.
    std::vector<std::array<uint16_t, kLayoutMembers>> flat_layouts;
    // Per type and field, the member's name as it stands in the usual line, quoted and with its colon
    // (`"name":`), for a plain name (empty: not plain): the fused scan compares the bytes after a comma with
    // the guessed field's token at once instead of peeking for the quote, comparing the name and peeking for
    // the colon.
    std::vector<std::vector<std::string>> member_tokens;
    bool type_plain = false; ///< the type member's name is plain
    // Per type, for the fused scan: whether it takes the type at all (at most 64 fields: the fields seen
    // are bits), and the bits of its required fields.
    struct FlatType {
        bool fits = false;
        uint64_t required = 0;
    };
    std::vector<FlatType> flat_types;
    std::vector<uint8_t> seen;
    // The line's members: from the flat scan, or copied from the DOM (never fewer than kFlatMembers).
    std::vector<JsonMember> members = std::vector<JsonMember>(kFlatMembers);
    size_t nmembers = 0;
    uint64_t flat_lines = 0;
    std::string scratch;
    // Deferred interning (decode_deferred / export_deferred): the strings of the event last decoded, in
    // member order (the order decode() interns them in), pointing into the parser's buffers or key_buf /
    // id_buf.
    struct Pending {
        uint16_t slot;
        bool field; ///< also the field's value (false: an int-typed key, only ev.key takes the text)
        std::string_view text;
    };
    bool defer = false;
    /// Strings are recorded in `pending`, not interned: when deferred, and in the fused scan (which interns
    /// them only once the whole line is scanned, so that a line it declines interns nothing twice).
    bool record = false;
    std::vector<Pending> pending;
    std::string_view key_text;
    std::string key_buf, id_buf;
    bool int_id = false;

    // A string value: interned now, or recorded for export_deferred() (the value is then kNoString until
    // then).
    uint32_t intern(uint16_t slot, bool field, std::string_view s) {
        if (!record) return pool.intern(s);
        pending.push_back({slot, field, s});
        return ir::kNoString;
    }

    Impl(const ir::RuleSet& r, ir::StringPool& p, DecoderOptions o);

    static uint32_t name_hash(std::string_view s, uint32_t seed) {
        const size_t n = s.size();
        const uint32_t h = static_cast<uint32_t>(n) * 0x9E3779B1u ^
                           static_cast<unsigned char>(s[0]) * 0x85EBCA77u ^
                           static_cast<unsigned char>(s[n / 2]) * 0xC2B2AE3Du ^
                           static_cast<unsigned char>(s[n - 1]) * 0x27D4EB2Fu;
        return (h ^ seed) * 0x165667B1u >> 16;
    }

    // A table over `count` names (name(i) the i-th); see decoder.cpp.
    template <class Name>
    static NameTable name_table(size_t count, Name name);

    // `name`'s index in `nt`: kIgnored when no name of the table is `name`, kCollides when only the slow
    // way can tell.
    static uint16_t lookup(const NameTable& nt, std::string_view name) {
        if (name.empty()) return nt.collides ? kCollides : kIgnored;
        const NameTable::Entry& e = nt.entries[name_hash(name, nt.seed) & nt.mask];
        if (e.slot == kCollides) return kCollides;
        return e.slot != kIgnored && same_text(e.name, name) ? e.slot : kIgnored;
    }

    // The event type named `name` (RuleSet::find_event's answer), -1 when none.
    int event_type(std::string_view name) const {
        const uint16_t t = lookup(types, name);
        if (t == kCollides) return rs.find_event(name);
        return t == kIgnored ? -1 : t;
    }

    // The slot of the member `name` of an event of type `t`, kIgnored when the schema has no such field.
    uint16_t member_slot(int t, std::string_view name) const {
        const NameTable& nt = names[static_cast<size_t>(t)];
        const uint16_t slot = lookup(nt, name);
        if (slot != kCollides) return slot;
        const FieldIndex& idx = index[static_cast<size_t>(t)];
        auto it = idx.find(name);
        return it == idx.end() ? kIgnored : it->second;
    }

    bool bad_type(DecodeError& err, const ir::EventType& et, const ir::FieldDef& fd, const JsonValue& v);

    // Decodes one member into `out`; false (with `err`) when it does not fit the field. The usual cases
    // here, inlined into the member loop; null, the rest and every error in field_all.
    [[gnu::always_inline]] bool field(DecodeError& err, const ir::EventType& et, uint16_t slot,
                                      const JsonValue& v, ir::Value& out) {
        const ir::FieldDef& fd = et.fields[slot];
        switch (fd.type) {
        case ir::Type::Int:
            if (v.type != JsonType::Int64) break;
            out = ir::Value::integer(v.i);
            return true;
        case ir::Type::Float:
            if (v.type != JsonType::Double && v.type != JsonType::Int64) break;
            out = ir::Value::real(v.as_double());
            return true;
        case ir::Type::String:
            if (v.type != JsonType::String) break;
            out = ir::Value::string(intern(slot, true, v.s));
            return true;
        case ir::Type::Bool:
            if (v.type != JsonType::Bool) break;
            out = ir::Value::boolean(v.b);
            return true;
        case ir::Type::Enum:
            if (v.type != JsonType::String) break;
            // The first value of that name, as enum_value finds it (which also gives the error text).
            for (size_t i = 0; i < fd.enum_values.size(); ++i) {
                if (same_text(fd.enum_values[i], v.s)) {
                    out = ir::Value::enumeration(static_cast<int64_t>(i));
                    return true;
                }
            }
            return enum_value(et, fd, v.s, out, err);
        case ir::Type::Timestamp: {
            if (v.type != JsonType::Int64) break;
            int64_t us = 0;
            if (!epoch_int_micros(v.i, opts.epoch_unit, us)) break;
            out = ir::Value::timestamp(us);
            return true;
        }
        default: break;
        }
        return field_all(err, et, slot, v, out);
    }

    // Every case of field(), with the error texts.
    [[gnu::noinline]] bool field_all(DecodeError& err, const ir::EventType& et, uint16_t slot,
                                     const JsonValue& v, ir::Value& out);
    // The key: a string, or an integer interned as decimal text.
    bool key(DecodeError& err, const ir::EventType& et, const JsonValue& v, ir::Event& ev);

    bool decode(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev, bool in_place);
    // The usual line in one fused scan (decoder_flat.cpp): Decoded, or Declined (nothing interned) for the
    // other decoders to take it, and every line that is a dead letter.
    enum class Flat : uint8_t { Declined, Decoded };
    Flat decode_flat(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev);
    /// Whether `name` is printable ASCII without '"' or '\\' (a JSON string's text as is).
    static bool plain_name(std::string_view name) {
        for (const char c : name)
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
        return true;
    }
    // A line through simdjson's DOM (decoder_dom.cpp).
    bool decode_dom(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev, bool in_place);
    // The members of a JSON object (in order, duplicates kept) -> the event.
    bool decode_members(DecodeError& err, uint64_t line_no, ir::Event& ev);
    // What decode_deferred recorded, copied out in the order decode() interns it.
    void export_to(std::string& arena, std::vector<DeferredString>& out, std::string_view source) const;
};

} // namespace ethogram::runtime
