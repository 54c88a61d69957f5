// make_models.cpp: builds the models of the models_demo example (and of the docs) from training/sessions.txt.
//
//   make_models TRAINING_FILE OUT_DIR
//
// Writes OUT_DIR/nav.etm (order-1 Markov chain of human navigation), OUT_DIR/shoppers.etm (bot vs human
// classifier) and OUT_DIR/intent.etm (a two-state HMM, browsing vs buying, with hand-set parameters).
// The output is deterministic (fixed creation time, sorted input), so the committed files can be checked
// against a fresh build byte for byte (tests/models_lang).
#include "models/classifier.h"
#include "models/hmm.h"
#include "models/markov.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace m = ethogram::models;

namespace {

/// 2027-01-01T00:00:00Z: a fixed creation time keeps the files reproducible.
constexpr int64_t kCreated = 1798761600;

/// The page values of the schema, in enum order: every one gets an id even if training never saw it.
const std::vector<std::string> kPages = {"home", "search", "product", "cart", "checkout", "help"};

struct Labelled {
    std::string label;
    std::vector<std::string> pages;
};

bool read_training(const std::string& path, std::vector<Labelled>& out) {
    std::ifstream in(path);
    if (!in) return false;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        Labelled l;
        ss >> l.label;
        if (!l.label.empty() && l.label.back() == ':') l.label.pop_back();
        std::string p;
        while (ss >> p) l.pages.push_back(p);
        if (!l.pages.empty()) out.push_back(std::move(l));
    }
    return true;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "make_models: %s\n", what.c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) return fail("usage: make_models TRAINING_FILE OUT_DIR");
    const std::string out_dir = argv[2];
    std::vector<Labelled> data;
    if (!read_training(argv[1], data)) return fail(std::string("cannot read ") + argv[1]);

    m::Vocabulary vocab;
    for (const auto& p : kPages) vocab.add(p);
    std::vector<std::vector<uint32_t>> human, all;
    std::vector<uint32_t> labels;
    m::TrainingDataHash hash_nav, hash_cls;
    for (const auto& l : data) {
        auto ids = vocab.encode(l.pages);
        hash_cls.add_label(l.label);
        hash_cls.add_sequence(std::span<const std::string>(l.pages));
        all.push_back(ids);
        labels.push_back(l.label == "bot" ? 0u : 1u);
        if (l.label == "human") {
            human.push_back(ids);
            hash_nav.add_sequence(std::span<const std::string>(l.pages));
        }
    }

    // nav: how humans move between pages (order 1, Kneser-Ney, D = 0.75).
    auto chain = m::MarkovChain::create({1, 0.75, false}, vocab.size());
    if (!chain) return fail(chain.error());
    if (auto st = chain->train(human); !st) return fail(st.error());
    m::ModelMeta meta;
    meta.training_data_hash = hash_nav.hex();
    meta.created_unix = kCreated;
    if (auto st = m::save_markov_model(out_dir + "/nav.etm", vocab, *chain, meta); !st)
        return fail(st.error());

    // shoppers: bot vs human, one order-1 chain per class, uniform priors.
    m::ClassifierConfig cc;
    cc.chain = {1, 0.75, false};
    cc.priors = {0.5, 0.5};
    auto cls = m::SequenceClassifier::create(cc, {"bot", "human"}, vocab.size());
    if (!cls) return fail(cls.error());
    if (auto st = cls->train(all, labels); !st) return fail(st.error());
    meta.training_data_hash = hash_cls.hex();
    if (auto st = m::save_classifier_model(out_dir + "/shoppers.etm", vocab, *cls, meta); !st)
        return fail(st.error());

    // intent: state 0 browses (home, search, product, help), state 1 buys (product, cart, checkout).
    // Symbols in vocabulary order: <unk>, home, search, product, cart, checkout, help.
    m::Hmm h;
    h.n_states = 2;
    h.n_symbols = vocab.size();
    h.pi = {0.8, 0.2};
    h.a = {0.85, 0.15, //
           0.25, 0.75};
    h.b = {0.02, 0.25, 0.25, 0.30, 0.05, 0.03, 0.10, //
           0.02, 0.03, 0.05, 0.30, 0.35, 0.23, 0.02};
    m::ModelMeta hm;
    hm.created_unix = kCreated;
    hm.hyper_params = {{"states", "2"}, {"symbols", std::to_string(vocab.size())}, {"source", "hand-set"}};
    if (auto st = m::save_hmm_model(out_dir + "/intent.etm", vocab, h, hm); !st) return fail(st.error());
    std::printf("wrote %s/{nav,shoppers,intent}.etm\n", out_dir.c_str());
    return 0;
}
