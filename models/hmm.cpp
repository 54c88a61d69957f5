// hmm.cpp: inference for discrete-emission HMMs (scaled forward/backward, Viterbi, online filter, payload).
#include "models/hmm.h"

#include "models/model_file.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace ethogram::models {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Upper bound on N and M in a payload: keeps N*N*8 far from overflow and refuses garbage headers before
// any allocation.
constexpr std::uint32_t kMaxDimension = 1u << 16;

std::string check_distribution(const double* p, std::size_t n, const std::string& what) {
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        if (!std::isfinite(p[k]) || p[k] < 0.0 || p[k] > 1.0) {
            std::ostringstream os;
            os << what << " entry " << k << " is " << p[k] << " (expected a probability in [0, 1])";
            return os.str();
        }
        sum += p[k];
    }
    if (std::fabs(sum - 1.0) > kRowSumTolerance) {
        std::ostringstream os;
        os.precision(12);
        os << what << " sums to " << sum << " (expected 1)";
        return os.str();
    }
    return {};
}

Error fail(const std::string& msg) {
    return Error{"hmm payload: " + msg};
}

} // namespace

std::string validate(const Hmm& m) {
    const std::size_t n = m.n_states, k = m.n_symbols;
    if (n == 0) return "the model has no states";
    if (k == 0) return "the model has no symbols";
    if (m.pi.size() != n || m.a.size() != n * n || m.b.size() != n * k) {
        std::ostringstream os;
        os << "sizes do not match N=" << n << ", M=" << k << ": pi has " << m.pi.size() << ", A has "
           << m.a.size() << ", B has " << m.b.size() << " entries";
        return os.str();
    }
    if (auto e = check_distribution(m.pi.data(), n, "pi"); !e.empty()) return e;
    for (std::size_t i = 0; i < n; ++i) {
        if (auto e = check_distribution(&m.a[i * n], n, "row " + std::to_string(i) + " of A"); !e.empty())
            return e;
        if (auto e = check_distribution(&m.b[i * k], k, "row " + std::to_string(i) + " of B"); !e.empty())
            return e;
    }
    return {};
}

ForwardPass forward(const Hmm& m, std::span<const Symbol> obs) {
    const std::size_t n = m.n_states, len = obs.size();
    ForwardPass fw;
    fw.alpha.assign(len * n, 0.0);
    fw.scale.assign(len, 0.0);
    for (std::size_t t = 0; t < len; ++t) {
        const Symbol o = obs[t];
        double* cur = &fw.alpha[t * n];
        if (o >= m.n_symbols) {
            fw.ok = false;
        } else {
            double c = 0.0;
            for (std::size_t j = 0; j < n; ++j) {
                double pred = 0.0;
                if (t == 0) {
                    pred = m.pi[j];
                } else {
                    const double* prev = &fw.alpha[(t - 1) * n];
                    for (std::size_t i = 0; i < n; ++i) pred += prev[i] * m.a[i * n + j];
                }
                cur[j] = pred * m.emit(j, o);
                c += cur[j];
            }
            // c_t > 0 can be as small as the smallest emission probability times the smallest transition
            // probability: normalising every step is what keeps long sequences out of underflow.
            if (c > 0.0) {
                for (std::size_t j = 0; j < n; ++j) cur[j] /= c;
                fw.scale[t] = c;
                fw.log_likelihood += std::log(c);
                continue;
            }
            fw.ok = false;
        }
        fw.alpha.resize(t * n);
        fw.scale.resize(t);
        fw.log_likelihood = kNegInf;
        break;
    }
    return fw;
}

double forward_log_likelihood(const Hmm& m, std::span<const Symbol> obs) {
    return forward(m, obs).log_likelihood;
}

std::vector<double> backward(const Hmm& m, std::span<const Symbol> obs, const ForwardPass& fw) {
    const std::size_t n = m.n_states, len = obs.size();
    if (!fw.ok || fw.scale.size() != len || len == 0) return {};
    std::vector<double> beta(len * n, 1.0);
    for (std::size_t t = len - 1; t-- > 0;) {
        const Symbol o = obs[t + 1];
        const double c = fw.scale[t + 1];
        const double* next = &beta[(t + 1) * n];
        for (std::size_t i = 0; i < n; ++i) {
            double s = 0.0;
            for (std::size_t j = 0; j < n; ++j) s += m.a[i * n + j] * m.emit(j, o) * next[j];
            beta[t * n + i] = s / c;
        }
    }
    return beta;
}

std::vector<double> posteriors(const Hmm& m, std::span<const Symbol> obs) {
    const ForwardPass fw = forward(m, obs);
    std::vector<double> gamma = backward(m, obs, fw);
    if (gamma.empty()) return {};
    const std::size_t n = m.n_states;
    for (std::size_t t = 0; t < obs.size(); ++t) {
        // With Rabiner's scaling the product already sums to 1; renormalising only removes rounding.
        double sum = 0.0;
        for (std::size_t i = 0; i < n; ++i) sum += gamma[t * n + i] *= fw.alpha[t * n + i];
        for (std::size_t i = 0; i < n; ++i) gamma[t * n + i] /= sum;
    }
    return gamma;
}

ViterbiResult viterbi(const Hmm& m, std::span<const Symbol> obs) {
    const std::size_t n = m.n_states, len = obs.size();
    ViterbiResult res;
    if (len == 0) return res;
    for (Symbol o : obs) {
        if (o >= m.n_symbols) {
            res.log_probability = kNegInf;
            return res;
        }
    }
    // Log-space: products of thousands of probabilities underflow, sums of their logs do not.
    std::vector<double> la(n * n), lb(n * m.n_symbols);
    for (std::size_t i = 0; i < la.size(); ++i) la[i] = std::log(m.a[i]);
    for (std::size_t i = 0; i < lb.size(); ++i) lb[i] = std::log(m.b[i]);
    std::vector<double> delta(n), next(n);
    std::vector<std::uint32_t> back(len * n, 0);
    for (std::size_t j = 0; j < n; ++j) delta[j] = std::log(m.pi[j]) + lb[j * m.n_symbols + obs[0]];
    for (std::size_t t = 1; t < len; ++t) {
        for (std::size_t j = 0; j < n; ++j) {
            double best = kNegInf;
            std::uint32_t arg = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double v = delta[i] + la[i * n + j];
                if (v > best) {
                    best = v;
                    arg = static_cast<std::uint32_t>(i);
                }
            }
            next[j] = best + lb[j * m.n_symbols + obs[t]];
            back[t * n + j] = arg;
        }
        delta.swap(next);
    }
    double best = kNegInf;
    std::uint32_t last = 0;
    for (std::size_t j = 0; j < n; ++j) {
        if (delta[j] > best) {
            best = delta[j];
            last = static_cast<std::uint32_t>(j);
        }
    }
    res.log_probability = best;
    if (best == kNegInf) return res;
    res.path.assign(len, 0);
    res.path[len - 1] = last;
    for (std::size_t t = len - 1; t > 0; --t) res.path[t - 1] = back[t * n + res.path[t]];
    return res;
}

void HmmState::reset(const Hmm& m) {
    alpha_ = m.pi;
    scratch_.assign(m.n_states, 0.0);
    log_likelihood_ = 0.0;
    count_ = 0;
}

double HmmState::update(const Hmm& m, Symbol symbol) {
    const std::size_t n = m.n_states;
    if (symbol >= m.n_symbols || alpha_.size() != n) return kNegInf;
    // alpha_ holds P(state_{t-1} | o_1..o_{t-1}) (or pi before the first event): predict, then weigh.
    double c = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        double pred = 0.0;
        if (count_ == 0) {
            pred = alpha_[j];
        } else {
            for (std::size_t i = 0; i < n; ++i) pred += alpha_[i] * m.a[i * n + j];
        }
        scratch_[j] = pred;
    }
    for (std::size_t j = 0; j < n; ++j) c += scratch_[j] * m.emit(j, symbol);
    ++count_;
    if (c > 0.0) {
        for (std::size_t j = 0; j < n; ++j) alpha_[j] = scratch_[j] * m.emit(j, symbol) / c;
        log_likelihood_ += std::log(c);
        return std::log(c);
    }
    alpha_.swap(scratch_);
    log_likelihood_ = kNegInf;
    return kNegInf;
}

std::vector<std::uint8_t> serialize(const Hmm& m) {
    ByteWriter w;
    w.data().reserve(12 + 8 * (m.pi.size() + m.a.size() + m.b.size()));
    w.u32(kHmmPayloadVersion);
    w.u32(static_cast<std::uint32_t>(m.n_states));
    w.u32(static_cast<std::uint32_t>(m.n_symbols));
    for (double d : m.pi) w.f64(d);
    for (double d : m.a) w.f64(d);
    for (double d : m.b) w.f64(d);
    return w.take();
}

Expected<Hmm> deserialize(std::span<const std::uint8_t> bytes) {
    ByteReader r(bytes);
    std::uint32_t version = 0, n = 0, k = 0;
    if (!r.u32(version) || !r.u32(n) || !r.u32(k))
        return fail("truncated header (" + std::to_string(bytes.size()) + " bytes, need at least 12)");
    if (version != kHmmPayloadVersion)
        return fail("unsupported payload version " + std::to_string(version) + " (this engine reads " +
                    std::to_string(kHmmPayloadVersion) + ")");
    if (n == 0 || k == 0 || n > kMaxDimension || k > kMaxDimension)
        return fail("implausible dimensions N=" + std::to_string(n) + ", M=" + std::to_string(k));
    // The size is checked up front, before any allocation, so a lying header cannot make us allocate.
    const std::uint64_t count = std::uint64_t{n} + std::uint64_t{n} * n + std::uint64_t{n} * k;
    const std::uint64_t want = 12 + 8 * count;
    if (bytes.size() != want)
        return fail("size " + std::to_string(bytes.size()) + " bytes does not match N=" + std::to_string(n) +
                    ", M=" + std::to_string(k) + " (expected " + std::to_string(want) + ")");
    Hmm m;
    m.n_states = n;
    m.n_symbols = k;
    auto read = [&r](std::vector<double>& v, std::size_t len) {
        v.resize(len);
        for (double& d : v) r.f64(d); // cannot run out: the size was checked above
    };
    read(m.pi, n);
    read(m.a, std::size_t{n} * n);
    read(m.b, std::size_t{n} * k);
    if (auto e = validate(m); !e.empty()) return fail(e);
    return m;
}

Status save_hmm_model(const std::string& path, const Vocabulary& vocabulary, const Hmm& hmm, ModelMeta meta) {
    if (auto e = validate(hmm); !e.empty()) return Error{path + ": invalid hmm: " + e};
    if (vocabulary.size() != hmm.n_symbols)
        return Error{path + ": vocabulary has " + std::to_string(vocabulary.size()) +
                     " symbols but the hmm emits " + std::to_string(hmm.n_symbols)};
    meta.kind = "hmm";
    if (meta.engine_version.empty()) meta.engine_version = kEngineVersion;
    ByteWriter w;
    vocabulary.serialize(w);
    const std::vector<std::uint8_t> body = serialize(hmm);
    w.bytes(body);
    return write_model_file(path, meta, w.data());
}

Expected<HmmModel> load_hmm_model(const std::string& path) {
    auto file = read_model_file(path);
    if (!file) return Error{file.error()};
    if (file->meta.kind != "hmm")
        return Error{path + ": model kind '" + file->meta.kind + "', expected 'hmm'"};
    ByteReader r(file->payload);
    auto vocab = Vocabulary::deserialize(r);
    if (!vocab) return Error{path + ": " + vocab.error()};
    // The HMM payload is the rest: deserialize() insists on its exact size, so trailing bytes are refused.
    auto hmm = deserialize(std::span<const std::uint8_t>(file->payload).subspan(r.position()));
    if (!hmm) return Error{path + ": " + hmm.error()};
    if (vocab->size() != hmm->n_symbols)
        return Error{path + ": vocabulary has " + std::to_string(vocab->size()) +
                     " symbols but the hmm emits " + std::to_string(hmm->n_symbols)};
    return HmmModel{std::move(*vocab), std::move(*hmm)};
}

} // namespace ethogram::models
