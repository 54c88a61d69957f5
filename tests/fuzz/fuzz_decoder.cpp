// fuzz_decoder.cpp: libFuzzer harness: arbitrary bytes, split into lines, through the event decoder's two
// paths (the flat scans and simdjson's DOM alone), immediate and deferred: they must agree line by line
// (verdict, event, dead-letter text) and intern the same strings in the same order.
#include "tests/runtime/decoder_compare.h"
#include "tests/runtime/test_schema.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const ethogram::ir::RuleSet rs = ethogram::runtime::testing::make_ruleset();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ethogram::runtime::testing::DecoderPair pair(rs);
    uint64_t line_no = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        const std::string diff = pair.compare(line, ++line_no);
        if (!diff.empty()) {
            std::fprintf(stderr, "line %llu decodes differently:\n%s\n",
                         static_cast<unsigned long long>(line_no), diff.c_str());
            __builtin_trap();
        }
    }
    if (const std::string diff = pair.compare_pools(); !diff.empty()) {
        std::fprintf(stderr, "the pools differ: %s\n", diff.c_str());
        __builtin_trap();
    }
    return 0;
}
