// event_finish.cpp: required fields, event time and id interning after a decoder filled an event's fields.
#include "runtime/event_finish.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <iterator>

namespace ethogram::runtime {

std::vector<FieldIndex> build_field_index(const ir::RuleSet& rs) {
    std::vector<FieldIndex> index(rs.events.size());
    for (size_t t = 0; t < rs.events.size(); ++t)
        for (size_t f = 0; f < rs.events[t].fields.size(); ++f)
            index[t].emplace(rs.events[t].fields[f].name, static_cast<uint16_t>(f));
    return index;
}

void begin_event(const ir::RuleSet& rs, int t, uint64_t line_no, ir::Event& ev, std::vector<uint8_t>& seen) {
    const ir::EventType& et = rs.events[static_cast<size_t>(t)];
    ev.type = static_cast<uint16_t>(t);
    ev.line = line_no;
    ev.key = ir::kNoString;
    ev.id = ir::kNoString;
    ev.time = 0;
    // The field array is usually a released event's (LineStage's spares), of any type: resized (no
    // allocation once the capacity is there) and cleared in place. `seen` is kept a whole number of words
    // long and cleared a word at a time, which finish_event reads back the same way; the bytes past the
    // fields stay 0. (assign() did the same through a fill loop per value and a call to memset: about a
    // hundred instructions per event.)
    const size_t n = et.fields.size();
    if (ev.fields.size() != n) ev.fields.resize(n);
    for (ir::Value& v : ev.fields) v = ir::Value::missing();
    const size_t words = (n + 7) / 8;
    if (seen.size() != words * 8) seen.resize(words * 8);
    constexpr uint64_t zero = 0;
    for (size_t w = 0; w < words; ++w) std::memcpy(seen.data() + 8 * w, &zero, 8);
}

bool enum_value(const ir::EventType& et, const ir::FieldDef& fd, std::string_view name, ir::Value& out,
                DecodeError& err) {
    for (size_t i = 0; i < fd.enum_values.size(); ++i) {
        if (fd.enum_values[i] == name) {
            out = ir::Value::enumeration(static_cast<int64_t>(i));
            return true;
        }
    }
    return decode_fail(err, DeadReason::BadField,
                       fmt::format("{}.{}: \"{}\" is not a value of the enum (expected one of: {})", et.name,
                                   fd.name, name, fmt::join(fd.enum_values, ", ")));
}

uint32_t intern_decimal(ir::StringPool& pool, std::string& scratch, int64_t n) {
    scratch.clear();
    fmt::format_to(std::back_inserter(scratch), "{}", n);
    return pool.intern(scratch);
}

bool finish_event(const ir::EventType& et, const std::vector<uint8_t>& seen, ir::StringPool* pool,
                  std::string& scratch, ir::Event& ev, DecodeError& err) {
    auto fail = [&](std::string detail) {
        return decode_fail(err, DeadReason::MissingField, std::move(detail));
    };
    // Every field seen (the usual event): no field to look at. The flags are 0 or 1 and begin_event cleared
    // the bytes past the fields, so the sum of the bytes counts the fields seen (a word's byte sum by one
    // multiply). Anything else, and a `seen` not laid out by begin_event, takes the loop.
    const size_t n = et.fields.size();
    size_t nseen = 0;
    if (seen.size() % 8 == 0 && seen.size() >= n) {
        for (size_t w = 0; w < seen.size(); w += 8) {
            uint64_t word;
            std::memcpy(&word, seen.data() + w, 8);
            nseen += static_cast<size_t>((word * 0x0101010101010101ull) >> 56);
        }
    }
    if (nseen != n) {
        for (size_t f = 0; f < n; ++f)
            if (!seen[f] && !et.fields[f].optional)
                return fail(fmt::format("{}.{}: missing required field", et.name, et.fields[f].name));
    }
    if (et.time_field != ir::kNoField) {
        const ir::Value& tval = ev.fields[et.time_field];
        if (tval.is_missing())
            return fail(fmt::format("{}.{}: missing event time", et.name, et.fields[et.time_field].name));
        ev.time = tval.i;
    }
    if (et.id_field != ir::kNoField) {
        const ir::Value& id = ev.fields[et.id_field];
        if (id.type == ir::Type::String) {
            ev.id = static_cast<uint32_t>(id.i);
        } else if (id.type == ir::Type::Int) {
            if (pool) {
                ev.id = intern_decimal(*pool, scratch, id.i);
            } else {
                scratch.clear();
                fmt::format_to(std::back_inserter(scratch), "{}", id.i);
            }
        }
    }
    return true;
}

} // namespace ethogram::runtime
