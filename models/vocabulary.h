// vocabulary.h: categorical symbols (page types, actions, endpoints) <-> dense ids, with an <unk> id.
#pragma once

#include "models/expected.h"
#include "models/model_file.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ethogram::models {

/// Dense symbol ids for one categorical field. Id 0 is always `<unk>`, which every symbol never seen in
/// training maps to, so a model can assign unseen values a (smoothed) probability instead of failing.
class Vocabulary {
public:
    /// The id of `<unk>`.
    static constexpr uint32_t kUnk = 0;
    /// The spelling of `<unk>`. A literal "<unk>" in the data is the same symbol, by design.
    static constexpr std::string_view kUnkSymbol = "<unk>";

    Vocabulary();

    /// The id of `symbol`, adding it if new (training only: ids are stable once assigned).
    uint32_t add(std::string_view symbol);
    /// The id of `symbol`, or kUnk when it was never added. Never allocates.
    uint32_t id(std::string_view symbol) const;
    /// The spelling of `id`; ids out of range read as `<unk>`.
    const std::string& symbol(uint32_t id) const;
    /// Number of ids, `<unk>` included.
    uint32_t size() const { return static_cast<uint32_t>(symbols_.size()); }

    /// Ids of `symbols`, adding new ones (training).
    std::vector<uint32_t> add_all(std::span<const std::string> symbols);
    /// Ids of `symbols`, unseen ones as kUnk (scoring).
    std::vector<uint32_t> encode(std::span<const std::string> symbols) const;

    /// Appends the symbols in id order (u32 count, then length-prefixed strings).
    void serialize(ByteWriter& w) const;
    /// Reads what serialize() wrote; refuses a table without `<unk>` first or with duplicate symbols.
    static Expected<Vocabulary> deserialize(ByteReader& r);

private:
    // Transparent hashing so that id(string_view) does not build a std::string.
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::string> symbols_;
    std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
};

} // namespace ethogram::models
