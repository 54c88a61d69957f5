// text_lines.h: splitting test outputs into lines (for comparing outputs as multisets of lines).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace ethogram::test_support {

/// The lines of `text`, without their newlines (a final newline does not make an empty last line).
inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t at = 0;
    while (at < text.size()) {
        size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    return lines;
}

/// The lines of `text`, sorted: two outputs with the same lines in any order compare equal.
inline std::vector<std::string> sorted_lines(const std::string& text) {
    std::vector<std::string> lines = split_lines(text);
    std::sort(lines.begin(), lines.end());
    return lines;
}

} // namespace ethogram::test_support
