// classifier.cpp: training, scoring, priors and serialization of class-conditional chains.
#include "models/classifier.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>

namespace ethogram::models {

namespace {

constexpr uint32_t kClassifierPayloadVersion = 1;
// Refuse absurd class counts in a payload before allocating for them.
constexpr uint32_t kMaxClasses = 1u << 16;

Status check_positive(const std::vector<double>& v, size_t n, const char* what) {
    if (v.empty()) return ok_status();
    if (v.size() != n) return Error{fmt::format("classifier: {} {} given for {} classes", v.size(), what, n)};
    for (double x : v)
        if (!(x > 0.0) || !std::isfinite(x))
            return Error{fmt::format("classifier: {} must be positive and finite, got {}", what, x)};
    return ok_status();
}

} // namespace

Expected<SequenceClassifier> SequenceClassifier::create(const ClassifierConfig& config,
                                                        std::vector<std::string> classes,
                                                        uint32_t vocab_size) {
    if (classes.size() < 2) return Error{"classifier: needs at least two classes"};
    for (size_t i = 0; i < classes.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (classes[i] == classes[j]) return Error{"classifier: duplicate class '" + classes[i] + "'"};
    if (auto st = check_positive(config.priors, classes.size(), "priors"); !st) return Error{st.error()};
    if (auto st = check_positive(config.class_weights, classes.size(), "class weights"); !st)
        return Error{st.error()};
    SequenceClassifier m;
    m.config_ = config;
    for (size_t c = 0; c < classes.size(); ++c) {
        auto chain = MarkovChain::create(config.chain, vocab_size);
        if (!chain) return Error{"classifier: " + chain.error()};
        m.chains_.push_back(std::move(*chain));
    }
    m.names_ = std::move(classes);
    m.class_sequences_.assign(m.names_.size(), 0);
    m.update_priors();
    return m;
}

size_t SequenceClassifier::class_index(const std::string& name) const {
    return static_cast<size_t>(std::find(names_.begin(), names_.end(), name) - names_.begin());
}

void SequenceClassifier::update_priors() {
    const size_t n = names_.size();
    std::vector<double> w(n, 1.0);
    bool trained =
        std::all_of(class_sequences_.begin(), class_sequences_.end(), [](uint64_t k) { return k > 0; });
    for (size_t c = 0; c < n; ++c) {
        if (!config_.priors.empty()) {
            w[c] = config_.priors[c];
        } else if (trained) {
            w[c] = double(class_sequences_[c]) *
                   (config_.class_weights.empty() ? 1.0 : config_.class_weights[c]);
        }
    }
    double sum = 0;
    for (double x : w) sum += x;
    log_priors_.resize(n);
    for (size_t c = 0; c < n; ++c) log_priors_[c] = std::log(w[c] / sum);
}

Status SequenceClassifier::train(std::span<const std::vector<uint32_t>> sequences,
                                 std::span<const uint32_t> labels) {
    if (sequences.size() != labels.size())
        return Error{fmt::format("classifier: {} sequences but {} labels", sequences.size(), labels.size())};
    std::vector<std::vector<std::vector<uint32_t>>> by_class(names_.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= names_.size())
            return Error{fmt::format("classifier: sequence {} has label {}, there are {} classes", i,
                                     labels[i], names_.size())};
        for (uint32_t s : sequences[i])
            if (s >= chains_[0].vocab_size())
                return Error{fmt::format("classifier: sequence {} has symbol id {}, vocabulary size is {}", i,
                                         s, chains_[0].vocab_size())};
        by_class[labels[i]].push_back(sequences[i]);
    }
    for (size_t c = 0; c < names_.size(); ++c)
        if (class_sequences_[c] + by_class[c].size() == 0)
            return Error{"classifier: class '" + names_[c] + "' has no training sequences"};
    // Everything is validated above, so no chain can fail half-way and leave the classes inconsistent.
    for (size_t c = 0; c < names_.size(); ++c) {
        auto st = chains_[c].train(by_class[c]);
        (void)st;
        class_sequences_[c] += by_class[c].size();
    }
    update_priors();
    return ok_status();
}

std::vector<double> SequenceClassifier::log_likelihoods(std::span<const uint32_t> sequence) const {
    std::vector<double> ll;
    ll.reserve(chains_.size());
    for (const MarkovChain& chain : chains_) {
        MarkovState st(chain);
        for (uint32_t s : sequence) st.observe(chain, s);
        ll.push_back(st.sum_log_prob());
    }
    return ll;
}

double SequenceClassifier::log_likelihood_ratio(std::span<const uint32_t> sequence, size_t a,
                                                size_t b) const {
    auto ll = log_likelihoods(sequence);
    return ll[a] - ll[b];
}

void SequenceClassifier::posterior_from(std::span<const double> ll, std::span<double> out) const {
    // log-sum-exp: long sequences have log-likelihoods far below the smallest double's exponent.
    double top = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < names_.size(); ++c) top = std::max(top, log_priors_[c] + ll[c]);
    double sum = 0;
    for (size_t c = 0; c < names_.size(); ++c) sum += (out[c] = std::exp(log_priors_[c] + ll[c] - top));
    for (size_t c = 0; c < names_.size(); ++c) out[c] /= sum;
}

std::vector<double> SequenceClassifier::posterior(std::span<const uint32_t> sequence) const {
    auto ll = log_likelihoods(sequence);
    std::vector<double> out(names_.size());
    posterior_from(ll, out);
    return out;
}

std::map<std::string, std::string> SequenceClassifier::hyper_params() const {
    std::map<std::string, std::string> hp = chains_[0].hyper_params();
    for (auto it = hp.begin(); it != hp.end();)
        it = it->first.starts_with("discount.") ? hp.erase(it) : std::next(it); // per class, not shared
    hp["classes"] = fmt::format("{}", fmt::join(names_, ","));
    hp["priors"] = config_.priors.empty() ? "class-frequency" : "configured";
    for (size_t c = 0; c < names_.size(); ++c) {
        hp[fmt::format("prior.{}", names_[c])] = fmt::format("{}", std::exp(log_priors_[c]));
        if (!config_.class_weights.empty())
            hp[fmt::format("class_weight.{}", names_[c])] = fmt::format("{}", config_.class_weights[c]);
    }
    return hp;
}

void SequenceClassifier::serialize(ByteWriter& w) const {
    w.u32(kClassifierPayloadVersion);
    w.u32(static_cast<uint32_t>(names_.size()));
    w.u8(config_.priors.empty() ? 0 : 1);
    w.u8(config_.class_weights.empty() ? 0 : 1);
    for (size_t c = 0; c < names_.size(); ++c) {
        w.str(names_[c]);
        w.u64(class_sequences_[c]);
        w.f64(config_.priors.empty() ? 0.0 : config_.priors[c]);
        w.f64(config_.class_weights.empty() ? 0.0 : config_.class_weights[c]);
    }
    for (const MarkovChain& chain : chains_) chain.serialize(w);
}

std::vector<uint8_t> SequenceClassifier::serialize() const {
    ByteWriter w;
    serialize(w);
    return w.take();
}

Expected<SequenceClassifier> SequenceClassifier::deserialize(ByteReader& r) {
    auto bad = [](const std::string& what) { return Error{"classifier payload: " + what}; };
    uint32_t version = 0, n = 0;
    uint8_t has_priors = 0, has_weights = 0;
    if (!r.u32(version)) return bad("truncated");
    if (version != kClassifierPayloadVersion)
        return bad(fmt::format("version {}, this engine reads {}", version, kClassifierPayloadVersion));
    r.u32(n);
    r.u8(has_priors);
    r.u8(has_weights);
    if (!r.ok()) return bad("truncated");
    if (n < 2 || n > kMaxClasses) return bad(fmt::format("implausible class count {}", n));
    ClassifierConfig config;
    std::vector<std::string> names(n);
    std::vector<uint64_t> counts(n);
    for (uint32_t c = 0; c < n; ++c) {
        double prior = 0, weight = 0;
        r.str(names[c]);
        r.u64(counts[c]);
        r.f64(prior);
        r.f64(weight);
        if (!r.ok()) return bad("truncated");
        if (has_priors) config.priors.push_back(prior);
        if (has_weights) config.class_weights.push_back(weight);
    }
    std::vector<MarkovChain> chains;
    for (uint32_t c = 0; c < n; ++c) {
        auto chain = MarkovChain::deserialize(r);
        if (!chain) return bad(fmt::format("class '{}': {}", names[c], chain.error()));
        if (c > 0 && (chain->order() != chains[0].order() || chain->vocab_size() != chains[0].vocab_size()))
            return bad(fmt::format("class '{}' has a chain of another order or vocabulary", names[c]));
        chains.push_back(std::move(*chain));
    }
    config.chain.order = chains[0].order();
    auto made = create(config, std::move(names), chains[0].vocab_size());
    if (!made) return bad(made.error());
    made->chains_ = std::move(chains);
    made->class_sequences_ = std::move(counts);
    made->update_priors();
    return made;
}

Expected<SequenceClassifier> SequenceClassifier::deserialize(std::span<const uint8_t> payload) {
    ByteReader r(payload);
    auto m = deserialize(r);
    if (m && r.remaining() != 0)
        return Error{fmt::format("classifier payload: {} trailing bytes", r.remaining())};
    return m;
}

ClassifierState::ClassifierState(const SequenceClassifier& model) : scratch_(model.class_count()) {
    states_.reserve(model.class_count());
    for (size_t c = 0; c < model.class_count(); ++c) states_.emplace_back(model.chain(c));
}

void ClassifierState::observe(const SequenceClassifier& model, uint32_t symbol) {
    for (size_t c = 0; c < states_.size(); ++c) states_[c].observe(model.chain(c), symbol);
}

void ClassifierState::posterior(const SequenceClassifier& model, std::span<double> out) const {
    for (size_t c = 0; c < states_.size(); ++c) scratch_[c] = states_[c].sum_log_prob();
    model.posterior_from(scratch_, out);
}

Status save_classifier_model(const std::string& path, const Vocabulary& vocabulary,
                             const SequenceClassifier& classifier, ModelMeta meta) {
    if (vocabulary.size() != classifier.chain(0).vocab_size())
        return Error{fmt::format("{}: vocabulary has {} symbols but the classifier was built for {}", path,
                                 vocabulary.size(), classifier.chain(0).vocab_size())};
    meta.kind = "classifier";
    if (meta.engine_version.empty()) meta.engine_version = kEngineVersion;
    meta.sequences = meta.events = 0;
    for (size_t c = 0; c < classifier.class_count(); ++c) {
        meta.sequences += classifier.chain(c).sequences();
        meta.events += classifier.chain(c).events();
    }
    for (auto& [k, v] : classifier.hyper_params()) meta.hyper_params[k] = v;
    ByteWriter w;
    vocabulary.serialize(w);
    classifier.serialize(w);
    return write_model_file(path, meta, w.data());
}

Expected<ClassifierModel> load_classifier_model(const std::string& path) {
    auto file = read_model_file(path);
    if (!file) return Error{file.error()};
    if (file->meta.kind != "classifier")
        return Error{fmt::format("{}: model kind '{}', expected 'classifier'", path, file->meta.kind)};
    ByteReader r(file->payload);
    auto vocab = Vocabulary::deserialize(r);
    if (!vocab) return Error{path + ": " + vocab.error()};
    auto model = SequenceClassifier::deserialize(r);
    if (!model) return Error{path + ": " + model.error()};
    if (r.remaining() != 0) return Error{fmt::format("{}: {} trailing payload bytes", path, r.remaining())};
    if (vocab->size() != model->chain(0).vocab_size())
        return Error{fmt::format("{}: vocabulary has {} symbols but the classifier was built for {}", path,
                                 vocab->size(), model->chain(0).vocab_size())};
    return ClassifierModel{std::move(*vocab), std::move(*model)};
}

} // namespace ethogram::models
