// model_pipeline.cpp: spec -> trained model, scoring, splits, cross-validation, reports, any-kind files.
#include "tools/model_pipeline.h"

#include "models/hmm_train.h"
#include "runtime/json_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace ethogram::tools {

using models::Error;
using models::Expected;

EventLogOptions log_options(const TrainSpec& spec) {
    EventLogOptions o;
    o.type_field = spec.type_field;
    o.key_field = spec.key_field;
    o.time_field = spec.time_field;
    o.field = spec.field;
    o.event_types = {spec.event_types.begin(), spec.event_types.end()};
    o.epoch_seconds = spec.epoch_seconds;
    o.gap_us = spec.gap_us;
    o.max_length = spec.max_length;
    return o;
}

Expected<std::vector<size_t>> label_indices(const std::vector<Sequence>& seqs, const Labels& labels,
                                            const std::vector<std::string>& classes) {
    std::vector<size_t> out(seqs.size(), classes.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
        const std::string* l = labels.find(seqs[i]);
        if (!l) continue;
        auto it = std::find(classes.begin(), classes.end(), *l);
        if (it == classes.end()) {
            std::string known;
            for (size_t c = 0; c < classes.size(); ++c)
                known += fmt::format("{}{}", c ? ", " : "", classes[c]);
            return Error{fmt::format("{}: error: label '{}' of '{}' is not one of the model's classes ({})",
                                     labels.file, *l, seqs[i].id, known)};
        }
        out[i] = static_cast<size_t>(it - classes.begin());
    }
    return out;
}

Expected<AnyModel> train_model(const TrainSpec& spec, const std::vector<Sequence>& seqs,
                               const std::vector<size_t>& train, const std::vector<size_t>* labels) {
    AnyModel m;
    m.kind = spec.kind;
    std::vector<std::vector<uint32_t>> data;
    std::vector<uint32_t> classes;
    for (size_t i : train) {
        if (spec.kind == ModelKind::Classifier) {
            if (!labels || (*labels)[i] >= spec.classes.size()) continue; // unlabelled: not training data
            classes.push_back(static_cast<uint32_t>((*labels)[i]));
        }
        data.push_back(m.vocabulary.add_all(seqs[i].symbols));
    }
    if (data.empty())
        return Error{spec.kind == ModelKind::Classifier
                         ? "no labelled training sequence (check --labels and the "
                           "labels' keys against events.key)"
                         : "no training sequence (no event was read)"};
    const uint32_t v = m.vocabulary.size();
    switch (spec.kind) {
    case ModelKind::Markov: {
        auto chain = models::MarkovChain::create(spec.chain, v);
        if (!chain) return Error{chain.error()};
        if (auto st = chain->train(data); !st) return Error{st.error()};
        m.markov = std::move(*chain);
        break;
    }
    case ModelKind::Hmm: {
        models::BaumWelchOptions o = spec.hmm;
        o.n_symbols = v;
        auto r = models::train_hmm(data, o);
        if (!r) return Error{r.error()};
        m.hmm = std::move(r->model);
        m.hmm_converged = r->converged;
        break;
    }
    case ModelKind::Classifier: {
        models::ClassifierConfig cfg;
        cfg.chain = spec.chain;
        cfg.priors = spec.priors;
        cfg.class_weights = spec.class_weights;
        std::vector<uint64_t> n(spec.classes.size(), 0);
        for (uint32_t c : classes) ++n[c];
        for (size_t c = 0; c < n.size(); ++c)
            if (n[c] == 0) return Error{fmt::format("class '{}' has no training sequence", spec.classes[c])};
        if (spec.balanced_weights) {
            cfg.class_weights.clear();
            for (uint64_t nc : n)
                cfg.class_weights.push_back(double(classes.size()) / (double(n.size()) * double(nc)));
        }
        auto cls = models::SequenceClassifier::create(cfg, spec.classes, v);
        if (!cls) return Error{cls.error()};
        if (auto st = cls->train(data, classes); !st) return Error{st.error()};
        m.classifier = std::move(*cls);
        break;
    }
    }
    return m;
}

namespace {

// Fisher-Yates with rng() % (i + 1): unlike std::shuffle and the std distributions, the same sequence
// on every standard library (the modulo bias is irrelevant for a data split).
void shuffle(std::vector<size_t>& v, std::mt19937_64& rng) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

std::vector<std::vector<size_t>> strata_of(size_t n, const std::vector<size_t>* strata, uint64_t seed) {
    std::map<size_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < n; ++i) groups[strata ? (*strata)[i] : 0].push_back(i);
    std::mt19937_64 rng(seed);
    std::vector<std::vector<size_t>> out;
    for (auto& [id, g] : groups) {
        shuffle(g, rng);
        out.push_back(std::move(g));
    }
    return out;
}

} // namespace

void split_holdout(size_t n, const std::vector<size_t>* strata, double fraction, uint64_t seed,
                   std::vector<size_t>& train, std::vector<size_t>& held_out) {
    train.clear();
    held_out.clear();
    for (auto& g : strata_of(n, strata, seed)) {
        const size_t k = static_cast<size_t>(std::llround(fraction * double(g.size())));
        held_out.insert(held_out.end(), g.begin(), g.begin() + static_cast<ptrdiff_t>(std::min(k, g.size())));
        train.insert(train.end(), g.begin() + static_cast<ptrdiff_t>(std::min(k, g.size())), g.end());
    }
    std::sort(train.begin(), train.end());
    std::sort(held_out.begin(), held_out.end());
}

std::vector<uint32_t> assign_folds(size_t n, const std::vector<size_t>* strata, uint32_t k, uint64_t seed) {
    std::vector<uint32_t> fold(n, 0);
    size_t dealt = 0; // continue the round-robin across strata so that fold sizes stay balanced
    for (auto& g : strata_of(n, strata, seed))
        for (size_t i : g) fold[i] = static_cast<uint32_t>(dealt++ % k);
    return fold;
}

SequenceScore score_sequence(const AnyModel& m, const Sequence& s) {
    SequenceScore r;
    std::vector<uint32_t> ids = m.vocabulary.encode(s.symbols);
    r.events = ids.size();
    for (uint32_t id : ids) r.unseen += id == models::Vocabulary::kUnk;
    switch (m.kind) {
    case ModelKind::Markov: {
        models::MarkovState st(*m.markov);
        for (uint32_t id : ids) r.log_likelihood += st.observe(*m.markov, id);
        break;
    }
    case ModelKind::Hmm: r.log_likelihood = models::forward_log_likelihood(m.hmm, ids); break;
    case ModelKind::Classifier: {
        std::vector<double> ll = m.classifier->log_likelihoods(ids);
        r.posterior.resize(ll.size());
        m.classifier->posterior_from(ll, r.posterior);
        r.predicted = static_cast<size_t>(std::max_element(r.posterior.begin(), r.posterior.end()) -
                                          r.posterior.begin());
        r.log_likelihood = ll[r.predicted];
        break;
    }
    }
    return r;
}

double drift_score(const AnyModel& m, const SequenceScore& s, size_t positive) {
    if (m.kind == ModelKind::Classifier) return s.posterior[positive];
    return s.events ? s.log_likelihood / double(s.events) : 0.0;
}

std::string drift_score_name(const AnyModel& m, size_t positive) {
    if (m.kind == ModelKind::Classifier) return "p(" + m.classifier->class_name(positive) + ")";
    return "mean_log_likelihood";
}

void Predictions::append(const Predictions& o) {
    auto cat = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
    cat(actual, o.actual);
    cat(predicted, o.predicted);
    cat(positive_score, o.positive_score);
    cat(posteriors, o.posteriors);
    cat(drift_scores, o.drift_scores);
    sequences += o.sequences;
    events += o.events;
    unseen += o.unseen;
    unlabelled += o.unlabelled;
    log_likelihood += o.log_likelihood;
}

Predictions predict(const AnyModel& m, const std::vector<Sequence>& seqs, const std::vector<size_t>& which,
                    const std::vector<size_t>* labels, const std::vector<std::string>& classes,
                    size_t positive) {
    Predictions p;
    p.classes = classes;
    p.positive = positive;
    for (size_t i : which) {
        SequenceScore s = score_sequence(m, seqs[i]);
        ++p.sequences;
        p.events += s.events;
        p.unseen += s.unseen;
        if (m.kind != ModelKind::Classifier) p.log_likelihood += s.log_likelihood;
        p.drift_scores.push_back(drift_score(m, s, positive));
        if (classes.empty()) continue;
        if (!labels || (*labels)[i] >= classes.size()) {
            ++p.unlabelled;
            continue;
        }
        p.actual.push_back((*labels)[i]);
        if (m.kind == ModelKind::Classifier) {
            p.predicted.push_back(s.predicted);
            p.positive_score.push_back(s.posterior[positive]);
            p.posteriors.push_back(s.posterior);
        } else {
            // An unsupervised model ranks by surprise: the less likely per event, the more "positive".
            p.positive_score.push_back(s.events ? -s.log_likelihood / double(s.events) : 0.0);
        }
    }
    return p;
}

EvalReport summarise(const AnyModel& m, const Predictions& p) {
    EvalReport r;
    r.sequences = p.sequences;
    r.events = p.events;
    r.unseen = p.unseen;
    r.unlabelled = p.unlabelled;
    if (m.kind != ModelKind::Classifier && p.events > 0) {
        r.log_likelihood = p.log_likelihood;
        r.mean_log_likelihood = p.log_likelihood / double(p.events);
        r.perplexity = std::exp(-r.mean_log_likelihood);
    }
    if (p.classes.empty() || p.actual.empty()) return r;
    r.labelled = true;
    r.classes = p.classes;
    r.positive = p.classes[p.positive];
    std::vector<uint8_t> is_pos(p.actual.size());
    for (size_t i = 0; i < p.actual.size(); ++i) is_pos[i] = p.actual[i] == p.positive;
    r.positive_auc = models::roc_auc(p.positive_score, is_pos);
    if (m.kind == ModelKind::Classifier) {
        models::ConfusionMatrix cm(p.classes);
        for (size_t i = 0; i < p.actual.size(); ++i) cm.add(p.actual[i], p.predicted[i]);
        r.report = models::classification_report(cm);
        r.confusion = std::move(cm);
        for (size_t c = 0; c < p.classes.size(); ++c) {
            std::vector<double> sc(p.actual.size());
            std::vector<uint8_t> pos(p.actual.size());
            for (size_t i = 0; i < p.actual.size(); ++i) {
                sc[i] = p.posteriors[i][c];
                pos[i] = p.actual[i] == c;
            }
            r.auc.push_back(models::roc_auc(sc, pos));
        }
        r.calibration = models::calibration(p.positive_score, is_pos);
        r.has_calibration = true;
    }
    return r;
}

Expected<EvalReport> cross_validate(const TrainSpec& spec, const std::vector<Sequence>& seqs,
                                    const std::vector<size_t>* labels,
                                    const std::vector<std::string>& classes_in, size_t positive,
                                    uint32_t folds, Predictions* out) {
    const bool cls = spec.kind == ModelKind::Classifier;
    const std::vector<std::string> classes = labels ? classes_in : std::vector<std::string>{};
    // Only a classifier trains on labels (and stratifies on them).
    const std::vector<size_t>* train_labels = cls ? labels : nullptr;
    Predictions pooled;
    pooled.classes = classes;
    pooled.positive = positive;
    std::vector<EvalReport::Fold> fold_metrics;
    std::optional<AnyModel> last;
    auto run = [&](const std::vector<size_t>& train, const std::vector<size_t>& test) -> models::Status {
        auto m = train_model(spec, seqs, train, train_labels);
        if (!m) return Error{m.error()};
        Predictions p = predict(*m, seqs, test, labels, classes, positive);
        if (folds > 1) {
            EvalReport fr = summarise(*m, p);
            EvalReport::Fold f;
            if (fr.confusion) f.macro_f1 = fr.report.macro_f1;
            if (fr.labelled) f.auc = fr.positive_auc;
            if (!cls) f.perplexity = fr.perplexity;
            fold_metrics.push_back(f);
        }
        pooled.append(p);
        last = std::move(*m);
        return models::ok_status();
    };
    if (folds > 1) {
        if (seqs.size() < folds)
            return Error{
                fmt::format("{} folds need at least {} sequences, there are {}", folds, folds, seqs.size())};
        std::vector<uint32_t> fold = assign_folds(seqs.size(), train_labels, folds, spec.seed);
        for (uint32_t f = 0; f < folds; ++f) {
            std::vector<size_t> train, test;
            for (size_t i = 0; i < seqs.size(); ++i) (fold[i] == f ? test : train).push_back(i);
            if (auto st = run(train, test); !st)
                return Error{fmt::format("fold {} of {}: {}", f + 1, folds, st.error())};
        }
    } else {
        std::vector<size_t> train, test;
        split_holdout(seqs.size(), train_labels, spec.fraction, spec.seed, train, test);
        if (test.empty())
            return Error{"the validation split is empty (validation.fraction is 0 or too small)"};
        if (auto st = run(train, test); !st) return Error{st.error()};
    }
    EvalReport r = summarise(*last, pooled);
    r.folds = std::move(fold_metrics);
    if (out) *out = std::move(pooled);
    return r;
}

Expected<AnyModel> load_any_model(const std::string& path) {
    auto file = models::read_model_file(path);
    if (!file) return Error{file.error()};
    AnyModel m;
    m.meta = std::move(file->meta);
    models::ByteReader r(file->payload);
    auto vocab = models::Vocabulary::deserialize(r);
    if (!vocab) return Error{path + ": " + vocab.error()};
    m.vocabulary = std::move(*vocab);
    const std::string& kind = m.meta.kind;
    uint32_t size = 0;
    if (kind == "markov") {
        m.kind = ModelKind::Markov;
        auto chain = models::MarkovChain::deserialize(r);
        if (!chain) return Error{path + ": " + chain.error()};
        size = chain->vocab_size();
        m.markov = std::move(*chain);
    } else if (kind == "classifier") {
        m.kind = ModelKind::Classifier;
        auto cls = models::SequenceClassifier::deserialize(r);
        if (!cls) return Error{path + ": " + cls.error()};
        size = cls->chain(0).vocab_size();
        m.classifier = std::move(*cls);
    } else if (kind == "hmm") {
        m.kind = ModelKind::Hmm;
        auto hmm = models::deserialize(std::span(file->payload).subspan(r.position()));
        if (!hmm) return Error{path + ": " + hmm.error()};
        size = static_cast<uint32_t>(hmm->n_symbols);
        m.hmm = std::move(*hmm);
    } else {
        return Error{
            fmt::format("{}: unknown model kind '{}' (expected markov, hmm or classifier)", path, kind)};
    }
    if (kind != "hmm" && r.remaining() != 0)
        return Error{fmt::format("{}: {} trailing payload bytes", path, r.remaining())};
    if (size != m.vocabulary.size())
        return Error{fmt::format("{}: vocabulary has {} symbols but the model was built for {}", path,
                                 m.vocabulary.size(), size)};
    if (m.meta.vocabulary_size != 0 && m.meta.vocabulary_size != size)
        return Error{fmt::format("{}: header says vocabulary_size {} but the payload has {}", path,
                                 m.meta.vocabulary_size, size)};
    return m;
}

Expected<TrainSpec> stored_spec(const AnyModel& m, const std::string& path) {
    auto it = m.meta.training.find("spec");
    if (it == m.meta.training.end())
        return Error{path + ": the model stores no training spec (it was not trained by `etho train`)"};
    auto spec = parse_spec(it->second, path + " (stored spec)");
    if (!spec) return Error{spec.error()};
    if (spec->kind != m.kind)
        return Error{fmt::format("{}: the stored spec is for kind {}, the model is {}", path,
                                 kind_name(spec->kind), kind_name(m.kind))};
    return spec;
}

models::Status save_any_model(const std::string& path, const AnyModel& m, models::ModelMeta meta) {
    meta.vocabulary_size = m.vocabulary.size();
    switch (m.kind) {
    case ModelKind::Markov: return models::save_markov_model(path, m.vocabulary, *m.markov, std::move(meta));
    case ModelKind::Hmm: return models::save_hmm_model(path, m.vocabulary, m.hmm, std::move(meta));
    case ModelKind::Classifier:
        return models::save_classifier_model(path, m.vocabulary, *m.classifier, std::move(meta));
    }
    return Error{"unknown model kind"};
}

} // namespace ethogram::tools
