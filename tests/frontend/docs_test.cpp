// docs_test.cpp: every ```etho block of docs/language.md compiles without errors.
// Blocks are fragments of one imaginary rule set, so each is compiled together with the declarations it
// uses from the shared prelude below (a prelude part is left out when the block declares it itself).
#include "tests/frontend/test_util.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ethogram::test {
namespace {

namespace fs = std::filesystem;

struct PreludePart {
    const char* declares; ///< skipped when the block contains this text
    const char* text;
};

const PreludePart kParts[] = {
    {"ruleset ", "ruleset docs.example version 1.0.0;\n"},
    {"event page_view", R"(event page_view {
    key user_id: string; time ts: timestamp;
    page: enum(home, search, product, cart, checkout, help); url: string; sku: string?; price: float?;
}
)"},
    {"event add_to_cart",
     "event add_to_cart { key user_id: string; time ts: timestamp; sku: string; price: float?; }\n"},
    {"event purchase", "event purchase { key user_id: string; time ts: timestamp; amount: float; }\n"},
    {"taxonomy {", R"(taxonomy {
    intent { purchase { high_intent; abandonment; } browsing { exploration; confirmation; } }
    risk { bot; fraud { card_testing; account_takeover; } }
}
)"},
    {"session web {", "session web { gap 30m; }\n"},
    {"model nav:", R"(model nav: markov { path "models/nav.etm"; observe page_view.page; min_evidence 4;
    hash "blake2b:6cec437c2300e4ae07a77517b9fadeefa1526c3d9e4f84a4c92edbeb34cd064e"; }
model intent: hmm { path "models/intent.etm"; observe page_view.page; states browsing, buying;
    hash "blake2b:52eae7c3351bca212241dbb33f8436ab516dea3e044d88346e29eebe44acf002"; }
model shoppers: classifier { path "models/shoppers.etm"; observe page_view.page; min_evidence 8;
    hash "blake2b:8c2f6855b1de82d87f2ab147f97b8090113ba0cac25c422dabd37519236c3407"; }
)"},
    {"rule bot_like_navigation",
     R"(rule bot_like_navigation { label risk.bot; over last 1m; when count(any) > 100; }
rule exploring { label intent.browsing.exploration; over last 10m; when count(page_view) > 20; }
)"},
};

std::vector<std::string> etho_blocks(const std::string& md) {
    std::vector<std::string> out;
    size_t pos = 0;
    while ((pos = md.find("```etho\n", pos)) != std::string::npos) {
        size_t start = pos + 8;
        size_t end = md.find("```", start);
        if (end == std::string::npos) break;
        out.push_back(md.substr(start, end - start));
        pos = end + 3;
    }
    return out;
}

TEST(Docs, EveryEthoBlockCompiles) {
    std::ifstream in(fs::path(ETHOGRAM_SOURCE_DIR) / "docs/language.md");
    std::ostringstream ss;
    ss << in.rdbuf();
    auto blocks = etho_blocks(ss.str());
    ASSERT_GE(blocks.size(), 7u);
    // Blocks live in <tmp>/rules/ so that `import "../common/schema.etho"` of section 1 resolves.
    fs::path root = fs::temp_directory_path() / ("ethogram_docs_" + std::to_string(::getpid()));
    fs::create_directories(root / "rules");
    fs::create_directories(root / "common");
    std::ofstream(root / "common/schema.etho") << "event login { key user: string; time at: timestamp; }\n";
    // Section 10's models: the demo's committed model files, at `models/` next to the blocks.
    fs::create_directories(root / "rules/models");
    for (const char* m : {"nav.etm", "intent.etm", "shoppers.etm"})
        fs::copy_file(fs::path(ETHOGRAM_SOURCE_DIR) / "examples/models_demo/models" / m,
                      root / "rules/models" / m);
    for (size_t i = 0; i < blocks.size(); ++i) {
        std::string text = blocks[i];
        for (const auto& p : kParts)
            if (text.find(p.declares) == std::string::npos) text = std::string(p.text) + text;
        fs::path file = root / "rules" / ("block" + std::to_string(i) + ".etho");
        std::ofstream(file) << text;
        compiler::Diagnostics d;
        auto r = compiler::compile_paths({file.string()}, d);
        EXPECT_EQ(d.error_count(), 0u) << "block " << i << ":\n" << blocks[i] << "\n" << d.render();
        EXPECT_TRUE(r.ruleset) << "block " << i;
        // Formatting a documented example is idempotent and keeps its comments.
        compiler::Diagnostics fd;
        auto once = compiler::format_source("b.etho", text, fd);
        ASSERT_TRUE(once) << fd.render();
        auto twice = compiler::format_source("b.etho", *once, fd);
        ASSERT_TRUE(twice) << fd.render() << *once;
        EXPECT_EQ(*once, *twice) << "block " << i;
        EXPECT_EQ(text.find("//") != std::string::npos, once->find("//") != std::string::npos);
    }
    fs::remove_all(root);
}

} // namespace
} // namespace ethogram::test
