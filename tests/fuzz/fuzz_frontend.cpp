// fuzz_frontend.cpp: libFuzzer harness: arbitrary bytes through compile_source and format_source.
#include "compiler/driver/compile.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    {
        ethogram::compiler::Diagnostics diags;
        ethogram::compiler::CompileOptions opts;
        opts.dump_ast = true;
        auto r = ethogram::compiler::compile_source("fuzz.etho", text, diags, opts);
        if (r.ruleset) (void)ethogram::compiler::dump_ir(*r.ruleset);
        (void)diags.render();
    }
    {
        ethogram::compiler::Diagnostics diags;
        auto once = ethogram::compiler::format_source("fuzz.etho", text, diags);
        if (once) {
            // The formatter's output parses again and is a fixed point.
            ethogram::compiler::Diagnostics again;
            auto twice = ethogram::compiler::format_source("fuzz.etho", *once, again);
            if (!twice || *twice != *once) __builtin_trap();
        }
        (void)diags.render();
    }
    return 0;
}
