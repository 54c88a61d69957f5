// any_model.cpp: decoding a model file image of any kind.
#include "models/any_model.h"

#include <fmt/format.h>

namespace ethogram::models {

Expected<AnyModel> decode_any_model(std::span<const uint8_t> bytes, const std::string& name) {
    auto file = decode_model_file(bytes, name);
    if (!file) return Error{file.error()};
    AnyModel out;
    out.meta = file->meta;
    const std::string& kind = file->meta.kind;
    if (kind != "markov" && kind != "hmm" && kind != "classifier")
        return Error{fmt::format("{}: unknown model kind '{}'", name, kind)};
    ByteReader r(file->payload);
    auto vocab = Vocabulary::deserialize(r);
    if (!vocab) return Error{name + ": " + vocab.error()};
    out.vocabulary = std::move(*vocab);
    uint32_t expected_symbols = 0;
    if (kind == "markov") {
        auto chain = MarkovChain::deserialize(r);
        if (!chain) return Error{name + ": " + chain.error()};
        if (r.remaining() != 0)
            return Error{fmt::format("{}: {} trailing payload bytes", name, r.remaining())};
        expected_symbols = chain->vocab_size();
        out.markov.emplace(std::move(*chain));
    } else if (kind == "hmm") {
        // The HMM payload is the rest: deserialize() insists on its exact size.
        auto hmm = deserialize(std::span<const uint8_t>(file->payload).subspan(r.position()));
        if (!hmm) return Error{name + ": " + hmm.error()};
        expected_symbols = static_cast<uint32_t>(hmm->n_symbols);
        out.hmm.emplace(std::move(*hmm));
    } else {
        auto cls = SequenceClassifier::deserialize(r);
        if (!cls) return Error{name + ": " + cls.error()};
        if (r.remaining() != 0)
            return Error{fmt::format("{}: {} trailing payload bytes", name, r.remaining())};
        expected_symbols = cls->chain(0).vocab_size();
        out.classifier.emplace(std::move(*cls));
    }
    if (out.vocabulary.size() != expected_symbols)
        return Error{fmt::format("{}: vocabulary has {} symbols but the {} model has {}", name,
                                 out.vocabulary.size(), kind, expected_symbols)};
    return out;
}

} // namespace ethogram::models
