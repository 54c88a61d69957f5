// decoder_compare.h: the DOM decoder against the flat scans, line by line (tests/runtime/flat_json_test.cpp
// on random lines, tests/fuzz/fuzz_decoder.cpp on libFuzzer's): both must give the same verdict, the same
// event, the same dead-letter text, and intern the same strings in the same order.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "runtime/dead_letter.h"
#include "runtime/decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ethogram::runtime::testing {

/// Everything an event carries, with strings as their text (the two decoders intern into separate pools).
inline std::string describe(const ir::StringPool& pool, const ir::Event& ev) {
    auto text = [&](uint32_t id) {
        return id == ir::kNoString ? std::string("-") : std::string(pool.view(id));
    };
    std::string s = fmt::format("type {} line {} time {} key {} id {} |", ev.type, ev.line, ev.time,
                                text(ev.key), text(ev.id));
    for (size_t f = 0; f < ev.fields.size(); ++f) {
        const ir::Value& v = ev.fields[f];
        const bool str = v.type == ir::Type::String;
        s += fmt::format(" {}:{}", static_cast<int>(v.type),
                         str ? text(static_cast<uint32_t>(v.i))
                             : fmt::format("{:x}", static_cast<uint64_t>(v.i)));
    }
    return s;
}

/// A deferred decode's strings (the parallel runtime's path), in order.
inline std::string describe_exports(const Decoder& dec) {
    std::string arena;
    std::vector<DeferredString> strings;
    dec.export_deferred(arena, strings);
    std::string s = fmt::format("key {} |", dec.key_text());
    for (const DeferredString& d : strings)
        s += fmt::format(" {}/{}:{}", static_cast<int>(d.kind), d.slot, arena.substr(d.offset, d.size));
    return s;
}

/// Four decoders of one rule set: the DOM alone and the usual one (flat scans first), each immediate and
/// deferred, with pools of their own.
class DecoderPair {
public:
    explicit DecoderPair(const ir::RuleSet& rs)
        : dom_(rs, dom_pool_, dom_only()), flat_(rs, flat_pool_), dom_d_(rs, dom_dpool_, dom_only()),
          flat_d_(rs, flat_dpool_) {}

    /// Decodes `line` four ways: empty when they agree, else what each said.
    std::string compare(std::string_view line, uint64_t line_no) {
        const bool ra = dom_.decode(line, line_no, a_);
        const bool rb = flat_.decode(line, line_no, b_);
        std::string wa = ra ? describe(dom_pool_, a_) : verdict(dom_);
        std::string wb = rb ? describe(flat_pool_, b_) : verdict(flat_);
        const bool da = dom_d_.decode_deferred(line, line_no, a_);
        const bool db = flat_d_.decode_deferred(line, line_no, b_);
        if (da != ra || db != rb) wb += " (deferred verdict differs)";
        if (da && db) {
            wa += " " + describe_exports(dom_d_);
            wb += " " + describe_exports(flat_d_);
        }
        if (ra == rb && wa == wb) return {};
        return "dom:  " + wa + "\nflat: " + wb;
    }

    /// Empty when both immediate decoders interned the same strings in the same order, else the first
    /// difference.
    std::string compare_pools() const {
        if (dom_pool_.size() != flat_pool_.size())
            return fmt::format("pool sizes {} and {}", dom_pool_.size(), flat_pool_.size());
        for (uint32_t id = 0; id < dom_pool_.size(); ++id)
            if (dom_pool_.view(id) != flat_pool_.view(id))
                return fmt::format("pool id {}: {} vs {}", id, dom_pool_.view(id), flat_pool_.view(id));
        return {};
    }
    const Decoder& dom() const { return dom_; }
    const Decoder& flat() const { return flat_; }
    const Decoder& flat_deferred() const { return flat_d_; }

private:
    static DecoderOptions dom_only() {
        DecoderOptions o;
        o.dom_only = true;
        return o;
    }
    static std::string verdict(const Decoder& d) {
        return fmt::format("{}: {}", dead_reason_code(d.error().reason), d.error().detail);
    }
    ir::StringPool dom_pool_, flat_pool_, dom_dpool_, flat_dpool_;
    Decoder dom_, flat_, dom_d_, flat_d_;
    ir::Event a_, b_;
};

} // namespace ethogram::runtime::testing
