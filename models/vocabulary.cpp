// vocabulary.cpp: the symbol table and its serialized form.
#include "models/vocabulary.h"

#include <fmt/format.h>

namespace ethogram::models {

Vocabulary::Vocabulary() {
    symbols_.emplace_back(kUnkSymbol);
    ids_.emplace(std::string(kUnkSymbol), kUnk);
}

uint32_t Vocabulary::add(std::string_view symbol) {
    if (auto it = ids_.find(symbol); it != ids_.end()) return it->second;
    uint32_t id = size();
    symbols_.emplace_back(symbol);
    ids_.emplace(std::string(symbol), id);
    return id;
}

uint32_t Vocabulary::id(std::string_view symbol) const {
    auto it = ids_.find(symbol);
    return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocabulary::symbol(uint32_t id) const {
    return symbols_[id < size() ? id : kUnk];
}

std::vector<uint32_t> Vocabulary::add_all(std::span<const std::string> symbols) {
    std::vector<uint32_t> out;
    out.reserve(symbols.size());
    for (const auto& s : symbols) out.push_back(add(s));
    return out;
}

std::vector<uint32_t> Vocabulary::encode(std::span<const std::string> symbols) const {
    std::vector<uint32_t> out;
    out.reserve(symbols.size());
    for (const auto& s : symbols) out.push_back(id(s));
    return out;
}

void Vocabulary::serialize(ByteWriter& w) const {
    w.u32(size());
    for (const auto& s : symbols_) w.str(s);
}

Expected<Vocabulary> Vocabulary::deserialize(ByteReader& r) {
    uint32_t n = 0;
    if (!r.u32(n)) return Error{"vocabulary: truncated"};
    // Each symbol takes at least its 4-byte length: a count beyond that is corrupt, not a reason to allocate.
    if (n == 0 || n > r.remaining() / 4) return Error{fmt::format("vocabulary: implausible size {}", n)};
    Vocabulary v;
    std::string s;
    if (!r.str(s) || s != kUnkSymbol) return Error{"vocabulary: first symbol is not <unk>"};
    for (uint32_t i = 1; i < n; ++i) {
        if (!r.str(s)) return Error{fmt::format("vocabulary: truncated at symbol {} of {}", i, n)};
        if (v.add(s) != i) return Error{fmt::format("vocabulary: duplicate symbol '{}'", s)};
    }
    return v;
}

} // namespace ethogram::models
