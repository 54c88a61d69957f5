// model_load.cpp: load time of large model files: read vs mmap, container checks vs full decode.
// Build and run with bench/model_load.sh (not a CMake target, not a timed test).
#include "models/hmm.h"
#include "models/markov.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <random>
#include <unistd.h>
#include <vector>

using namespace ethogram::models;
using Clock = std::chrono::steady_clock;

namespace {

// Median wall time of `runs` calls, in milliseconds.
double median_ms(int runs, const std::function<void()>& fn) {
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
        auto a = Clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

std::vector<uint8_t> read_all(const std::string& path) {
    std::vector<uint8_t> out;
    int fd = ::open(path.c_str(), O_RDONLY);
    uint8_t buf[1 << 16];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
    ::close(fd);
    return out;
}

void report(const char* what, double ms, double base) {
    fmt::print("  {:<44}{:>10.2f} ms{:>8.1f}x\n", what, ms, ms / base);
}

} // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "/tmp";
    const int runs = 3;
    if (sodium_init() < 0) return 1;

    // A large chain: 5000 symbols, order 3, 3 million events of a sparse random process (each context has
    // a handful of likely followers), so the file holds millions of contexts and entries.
    const uint32_t V = 5000;
    Vocabulary vocab;
    for (uint32_t i = 1; i < V; ++i) vocab.add(fmt::format("s{}", i));
    std::mt19937_64 rng(42);
    std::vector<std::vector<uint32_t>> seqs;
    for (int s = 0; s < 30000; ++s) {
        std::vector<uint32_t> q;
        uint32_t prev = 1 + rng() % (V - 1);
        for (int t = 0; t < 100; ++t) {
            prev = 1 + (prev * 31 + (rng() % 8) * 97 + (rng() % 64 == 0 ? rng() % V : 0)) % (V - 1);
            q.push_back(prev);
        }
        seqs.push_back(std::move(q));
    }
    MarkovConfig cfg;
    cfg.order = 3;
    auto chain = MarkovChain::create(cfg, V);
    if (!chain || !chain->train(seqs)) return 1;
    const std::string mpath = dir + "/bench_markov.etm";
    if (auto st = save_markov_model(mpath, vocab, *chain, ModelMeta{}); !st) {
        fmt::print(stderr, "{}\n", st.error());
        return 1;
    }

    // A large HMM: 64 states x 5000 symbols (flat arrays, read in place).
    Hmm h;
    h.n_states = 64;
    h.n_symbols = V;
    h.pi.assign(64, 1.0 / 64);
    h.a.assign(64 * 64, 1.0 / 64);
    h.b.assign(64 * size_t{V}, 1.0 / V);
    const std::string hpath = dir + "/bench_hmm.etm";
    if (auto st = save_hmm_model(hpath, vocab, h, ModelMeta{}); !st) return 1;

    for (const auto& [name, path] : {std::pair{"markov", mpath}, std::pair{"hmm", hpath}}) {
        const auto bytes = read_all(path);
        fmt::print("{}: {} ({:.1f} MB{})\n", name, path, double(bytes.size()) / 1e6,
                   std::string(name) == "markov" ? fmt::format(", {} contexts, {} entries",
                                                               chain->context_count(), chain->entry_count())
                                                 : "");
        const double base = median_ms(runs, [&] { auto b = read_all(path); });
        report("read() into memory (baseline)", base, base);
        report("BLAKE2b-256 of the bytes",
               median_ms(runs,
                         [&] {
                             uint8_t out[32];
                             crypto_generichash(out, 32, bytes.data(), bytes.size(), nullptr, 0);
                         }),
               base);
        report("read_model_file (read, verify, copy payload)",
               median_ms(runs, [&] { auto m = read_model_file(path); }), base);
        report("map_model_file (mmap, verify, no copy)",
               median_ms(runs, [&] { auto m = map_model_file(path); }), base);
        if (std::string(name) == "markov") {
            report("load_markov_model (read + rebuild indexes)",
                   median_ms(runs, [&] { auto m = load_markov_model(path); }), base);
            report("map + Vocabulary + MarkovChain::deserialize",
                   median_ms(runs,
                             [&] {
                                 auto m = map_model_file(path);
                                 ByteReader r(m->payload);
                                 auto v = Vocabulary::deserialize(r);
                                 auto c = MarkovChain::deserialize(r);
                             }),
                   base);
        } else {
            report("load_hmm_model (read + decode)", median_ms(runs, [&] { auto m = load_hmm_model(path); }),
                   base);
            report("map + Vocabulary + hmm deserialize",
                   median_ms(runs,
                             [&] {
                                 auto m = map_model_file(path);
                                 ByteReader r(m->payload);
                                 auto v = Vocabulary::deserialize(r);
                                 auto x = deserialize(m->payload.subspan(r.position()));
                             }),
                   base);
        }
        std::remove(path.c_str());
    }
    return 0;
}
