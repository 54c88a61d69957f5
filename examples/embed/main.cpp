// main.cpp: embedding Ethogram in a program's own pipeline (include/ethogram/engine.h): the program owns
// the input loop, hands each JSON line to the engine, and routes detections itself (here: detections to
// stdout, suppressed ones and refused lines to stderr), then prints the engine's statistics.
// Usage: embed_demo RULES_DIR EVENTS.jsonl [ALLOWED_LATENESS_MS [ENGINE]] (ENGINE: jit, the default, or
// interp)
#include <ethogram/engine.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: embed_demo RULES_DIR EVENTS.jsonl [ALLOWED_LATENESS_MS [jit|interp]]\n";
        return 2;
    }
    ethogram::EngineOptions opts;
    if (argc > 3) opts.allowed_lateness_us = std::atoll(argv[3]) * 1000;
    if (argc > 4) opts.engine = argv[4];
    std::string error;
    auto engine = ethogram::Engine::from_files({argv[1]}, opts, &error);
    if (!engine) {
        std::cerr << "embed_demo: the rules do not compile:\n" << error;
        return 1;
    }
    if (!engine->engine_warning().empty())
        std::cerr << "embed_demo: warning: " << engine->engine_warning() << "\n";
    engine->on_detection([](const ethogram::Detection& d) {
        if (d.suppressed)
            std::cerr << "suppressed: " << d.rule << " for " << d.key << "\n";
        else
            std::cout << d.json << "\n";
    });
    std::ifstream in(argv[2]);
    if (!in) {
        std::cerr << "embed_demo: cannot open " << argv[2] << "\n";
        return 1;
    }
    std::string line;
    uint64_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (!engine->push_json(line, &error)) std::cerr << "refused line " << n << ": " << error << "\n";
    }
    engine->flush();
    const ethogram::EngineStats s = engine->stats();
    std::cerr << "embed_demo: " << engine->ruleset_name() << " " << engine->ruleset_version() << " ("
              << engine->engine_name() << "): " << s.events_in << " events, " << s.processed << " processed, "
              << s.dead_letters << " refused, " << s.detections << " detections, " << s.suppressed
              << " suppressed, " << s.live_keys << " live keys\n";
    return 0;
}
