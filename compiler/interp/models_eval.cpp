// models_eval.cpp: decoding the declared models, per-key online updates, model functions.
#include "compiler/interp/models_eval.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ethogram::interp {

namespace {

constexpr uint32_t kNoSymbol = UINT32_MAX;
constexpr double kLn2 = 0.69314718055994530942;

/// ln sum_c exp(log_prior(c) + ll[c]).
double log_marginal(const models::SequenceClassifier& cls, const std::vector<models::MarkovState>& st) {
    double m = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < st.size(); ++c) m = std::max(m, cls.log_prior(c) + st[c].sum_log_prob());
    if (!std::isfinite(m)) return m;
    double s = 0.0;
    for (size_t c = 0; c < st.size(); ++c) s += std::exp(cls.log_prior(c) + st[c].sum_log_prob() - m);
    return m + std::log(s);
}

/// Index of the largest entry (ties: the smallest index); 0 for an empty vector.
size_t argmax(const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

} // namespace

ModelRuntime::ModelRuntime(const ir::RuleSet& rs, ir::StringPool& pool) : rs_(rs), pool_(pool) {
    models_.resize(rs.models.size());
    for (size_t i = 0; i < rs.models.size(); ++i) {
        const ir::Model& d = rs.models[i];
        RuntimeModel& m = models_[i];
        m.decl = &d;
        auto any = models::decode_any_model(d.image, d.path.empty() ? d.name : d.path);
        if (!any) {
            m.error = any.error();
            spdlog::error("model '{}': {}; its functions read as missing", d.name, m.error);
            continue;
        }
        const bool kind_ok = (d.kind == ir::ModelKind::Markov && any->markov) ||
                             (d.kind == ir::ModelKind::Hmm && any->hmm) ||
                             (d.kind == ir::ModelKind::Classifier && any->classifier);
        if (!kind_ok) {
            m.error = "the image holds a '" + any->meta.kind + "' model";
            spdlog::error("model '{}': {}; its functions read as missing", d.name, m.error);
            continue;
        }
        m.vocab = std::move(any->vocabulary);
        m.markov = std::move(any->markov);
        m.hmm = std::move(any->hmm);
        m.classifier = std::move(any->classifier);
        m.slot_by_type.assign(rs.events.size(), ir::kNoField);
        m.enum_symbols.resize(rs.events.size());
        for (const ir::ModelSlot& sl : d.observe) {
            if (sl.type >= rs.events.size() || sl.field >= rs.events[sl.type].fields.size()) continue;
            m.slot_by_type[sl.type] = sl.field;
            const ir::FieldDef& fd = rs.events[sl.type].fields[sl.field];
            // Enum values are matched by name, once: an event then costs an array lookup.
            for (const std::string& v : fd.enum_values) m.enum_symbols[sl.type].push_back(m.vocab.id(v));
        }
        for (uint32_t s = 0; s < m.vocab.size(); ++s)
            m.symbol_strings.push_back(pool.intern(m.vocab.symbol(s)));
        for (const std::string& l : d.labels) m.label_strings.push_back(pool.intern(l));
        m.ok = true;
    }
}

void ModelRuntime::make_states(ModelStates& out) const {
    out.assign(models_.size());
    for (size_t i = 0; i < models_.size(); ++i) reset(i, out[i]);
}

void ModelRuntime::reset(size_t i, ModelKeyState& s) const {
    const RuntimeModel& m = models_[i];
    s.count = 0;
    s.sum_log_prob = 0.0;
    s.last_log_prob = 0.0;
    if (m.markov) {
        s.st.emplace<models::MarkovState>(*m.markov);
    } else if (m.hmm) {
        s.st.emplace<models::HmmState>(*m.hmm);
    } else if (m.classifier) {
        auto& v = s.st.emplace<std::vector<models::MarkovState>>();
        v.reserve(m.classifier->class_count());
        for (size_t c = 0; c < m.classifier->class_count(); ++c) v.emplace_back(m.classifier->chain(c));
    } else {
        s.st.emplace<std::monostate>();
    }
}

uint32_t ModelRuntime::symbol_of(const RuntimeModel& m, const StoredEvent& se) const {
    const StoredEvent::Ev& e = se.ev;
    if (e.type >= m.slot_by_type.size()) return kNoSymbol;
    const uint16_t slot = m.slot_by_type[e.type];
    if (slot == ir::kNoField || slot >= e.fields.size()) return kNoSymbol;
    const ir::Value& v = e.fields[slot];
    if (v.type == ir::Type::String) return m.vocab.id(pool_.view(static_cast<uint32_t>(v.i)));
    if (v.type == ir::Type::Enum) {
        const auto& table = m.enum_symbols[e.type];
        return v.i >= 0 && static_cast<size_t>(v.i) < table.size() ? table[static_cast<size_t>(v.i)]
                                                                   : models::Vocabulary::kUnk;
    }
    return kNoSymbol; // missing (an absent optional field): the event is not observed
}

void ModelRuntime::on_event(KeyState& ks, const StoredEvent& se) const {
    if (ks.models.size() != models_.size()) make_states(ks.models);
    for (size_t i = 0; i < models_.size(); ++i) {
        const RuntimeModel& m = models_[i];
        if (!m.ok) continue;
        ModelKeyState& s = ks.models[i];
        if (m.decl->session >= 0) {
            const auto si = static_cast<size_t>(m.decl->session);
            if (si >= ks.sessions.size()) continue;
            const SessionState& st = ks.sessions[si];
            if (!st.open()) continue;
            if (s.session_gen != st.generation) {
                reset(i, s);
                s.session_gen = st.generation;
            }
            if (st.last_event.get() != &se) continue; // the event did not join the session
        }
        const uint32_t sym = symbol_of(m, se);
        if (sym == kNoSymbol) continue;
        double lp = 0.0;
        if (auto* mk = std::get_if<models::MarkovState>(&s.st)) {
            lp = mk->observe(*m.markov, sym);
        } else if (auto* hs = std::get_if<models::HmmState>(&s.st)) {
            lp = hs->update(*m.hmm, sym);
        } else if (auto* cs = std::get_if<std::vector<models::MarkovState>>(&s.st)) {
            // The predictive probability under the class mixture: P(x_1..x_t) / P(x_1..x_{t-1}), where
            // P(x) = sum_c pi_c P_c(x); so the ln P summed over events is the marginal log-likelihood.
            const double before = log_marginal(*m.classifier, *cs);
            for (size_t c = 0; c < cs->size(); ++c) (*cs)[c].observe(m.classifier->chain(c), sym);
            lp = log_marginal(*m.classifier, *cs) - before;
        } else {
            continue;
        }
        ++s.count;
        s.sum_log_prob += lp;
        s.last_log_prob = lp;
    }
}

void ModelRuntime::posterior(const RuntimeModel& m, const ModelKeyState& s, std::vector<double>& out) const {
    out.clear();
    if (auto* hs = std::get_if<models::HmmState>(&s.st)) {
        auto p = hs->posterior();
        out.assign(p.begin(), p.end());
    } else if (auto* cs = std::get_if<std::vector<models::MarkovState>>(&s.st)) {
        std::vector<double> ll(cs->size());
        for (size_t c = 0; c < cs->size(); ++c) ll[c] = (*cs)[c].sum_log_prob();
        out.resize(cs->size());
        m.classifier->posterior_from(ll, out);
    }
}

void ModelRuntime::next_distribution(const RuntimeModel& m, const ModelKeyState& s,
                                     std::vector<double>& out) const {
    const uint32_t v = m.vocab.size();
    out.assign(v, 0.0);
    if (auto* mk = std::get_if<models::MarkovState>(&s.st)) {
        for (uint32_t w = 0; w < v; ++w) out[w] = m.markov->prob(mk->context(), w);
    } else if (auto* hs = std::get_if<models::HmmState>(&s.st)) {
        // P(o_{t+1} = k) = sum_j (sum_i alpha_t(i) a_ij) b_j(k); before any event the state is pi.
        const models::Hmm& h = *m.hmm;
        const size_t n = h.n_states;
        auto alpha = hs->posterior();
        for (size_t j = 0; j < n; ++j) {
            double pred = 0.0;
            if (hs->count() == 0)
                pred = alpha[j];
            else
                for (size_t i = 0; i < n; ++i) pred += alpha[i] * h.trans(i, j);
            for (uint32_t k = 0; k < v && k < h.n_symbols; ++k) out[k] += pred * h.emit(j, k);
        }
    } else if (auto* cs = std::get_if<std::vector<models::MarkovState>>(&s.st)) {
        // The class mixture: sum_c P(c | x) P_c(next | x).
        std::vector<double> post;
        posterior(m, s, post);
        for (size_t c = 0; c < cs->size(); ++c)
            for (uint32_t w = 0; w < v; ++w)
                out[w] += post[c] * m.classifier->chain(c).prob((*cs)[c].context(), w);
    }
}

ir::Value ModelRuntime::eval(const ir::Expr& x, const ModelStates* states) const {
    if (x.model >= models_.size()) return ir::Value::missing();
    const RuntimeModel& m = models_[x.model];
    if (!m.ok) return ir::Value::missing();
    ModelKeyState fresh;
    const ModelKeyState* s = nullptr;
    if (states && x.model < states->size()) {
        s = &(*states)[x.model];
    } else {
        reset(x.model, fresh); // a key with no state yet (cannot happen in the interpreter; safe anyway)
        s = &fresh;
    }
    switch (x.mfn) {
    case ir::ModelFn::Evidence: return ir::Value::integer(static_cast<int64_t>(s->count));
    case ir::ModelFn::Confident: return ir::Value::boolean(s->count >= m.decl->min_evidence);
    case ir::ModelFn::Surprise:
        if (s->count == 0) return ir::Value::missing();
        return ir::Value::real(s->last_log_prob == 0.0 ? 0.0 : -s->last_log_prob / kLn2);
    case ir::ModelFn::LogLik:
        if (s->count == 0) return ir::Value::missing();
        return ir::Value::real(s->sum_log_prob / static_cast<double>(s->count));
    case ir::ModelFn::PredictNext:
    case ir::ModelFn::PredictProb: {
        std::vector<double> dist;
        next_distribution(m, *s, dist);
        if (x.model_arg == 0 || x.model_arg > dist.size()) return ir::Value::missing();
        std::vector<uint32_t> order(dist.size());
        std::iota(order.begin(), order.end(), 0u);
        // Most probable first, ties by smaller symbol id (as MarkovChain::predict_next).
        std::partial_sort(
            order.begin(), order.begin() + x.model_arg, order.end(),
            [&](uint32_t a, uint32_t b) { return dist[a] > dist[b] || (dist[a] == dist[b] && a < b); });
        const uint32_t sym = order[x.model_arg - 1];
        if (x.mfn == ir::ModelFn::PredictProb) return ir::Value::real(dist[sym]);
        return ir::Value::string(m.symbol_strings[sym]);
    }
    case ir::ModelFn::NextProb: {
        if (x.constant.type != ir::Type::String) return ir::Value::missing();
        std::vector<double> dist;
        next_distribution(m, *s, dist);
        const uint32_t sym = m.vocab.id(pool_.view(static_cast<uint32_t>(x.constant.i)));
        return sym < dist.size() ? ir::Value::real(dist[sym]) : ir::Value::missing();
    }
    case ir::ModelFn::HiddenState:
    case ir::ModelFn::PredictedClass: {
        std::vector<double> post;
        posterior(m, *s, post);
        if (post.empty()) return ir::Value::missing();
        const size_t best = argmax(post);
        return best < m.label_strings.size() ? ir::Value::string(m.label_strings[best])
                                             : ir::Value::missing();
    }
    case ir::ModelFn::StateProb:
    case ir::ModelFn::ClassProb: {
        std::vector<double> post;
        posterior(m, *s, post);
        return x.model_arg < post.size() ? ir::Value::real(post[x.model_arg]) : ir::Value::missing();
    }
    }
    return ir::Value::missing();
}

bool ModelRuntime::confident(const std::vector<uint32_t>& gate, const ModelStates* states) const {
    for (uint32_t g : gate) {
        if (g >= models_.size() || !models_[g].ok) return false;
        const uint64_t n = states && g < states->size() ? (*states)[g].count : 0;
        if (n < models_[g].decl->min_evidence) return false;
    }
    return true;
}

std::vector<ir::ModelScore> ModelRuntime::scores(const std::vector<uint32_t>& ids,
                                                 const ModelStates* states) const {
    std::vector<ir::ModelScore> out;
    for (uint32_t id : ids) {
        if (id >= models_.size()) continue;
        ir::ModelScore sc;
        sc.model = id;
        const ModelKeyState* s = states && id < states->size() ? &(*states)[id] : nullptr;
        sc.evidence = s ? s->count : 0;
        sc.confident = models_[id].ok && sc.evidence >= models_[id].decl->min_evidence;
        if (s && s->count > 0) {
            sc.surprise = s->last_log_prob == 0.0 ? 0.0 : -s->last_log_prob / kLn2;
            sc.loglik = s->sum_log_prob / static_cast<double>(s->count);
        }
        out.push_back(sc);
    }
    return out;
}

} // namespace ethogram::interp
