// markov.cpp: training, interpolated Kneser-Ney scoring, online state and serialization of Markov chains.
#include "models/markov.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace ethogram::models {

namespace {

// Version of the Markov payload inside the model container; bumped when its layout changes.
constexpr uint32_t kMarkovPayloadVersion = 1;

bool valid_discount(double d) {
    return d > 0.0 && d <= 1.0;
}

} // namespace

MarkovChain::MarkovChain(const MarkovConfig& config, uint32_t vocab_size)
    : order_(config.order), vocab_size_(vocab_size), config_(config) {
    discounts_.fill(config.discount);
    nodes_.push_back(Node{});
}

Expected<MarkovChain> MarkovChain::create(const MarkovConfig& config, uint32_t vocab_size) {
    if (config.order < 1 || config.order > kMaxMarkovOrder)
        return Error{fmt::format("markov: order {} out of range 1..{}", config.order, kMaxMarkovOrder)};
    if (vocab_size < 1 || vocab_size == UINT32_MAX)
        return Error{fmt::format("markov: vocabulary size {} out of range", vocab_size)};
    if (!valid_discount(config.discount))
        return Error{fmt::format("markov: discount {} out of range (0, 1]", config.discount)};
    return MarkovChain(config, vocab_size);
}

uint32_t MarkovChain::child(uint32_t node, uint32_t symbol) const {
    auto it = children_.find(key(node, symbol));
    return it == children_.end() ? 0 : it->second;
}

uint64_t MarkovChain::count(uint32_t node, uint32_t next) const {
    auto it = counts_.find(key(node, next));
    return it == counts_.end() ? 0 : it->second;
}

Status MarkovChain::train(std::span<const std::vector<uint32_t>> sequences) {
    for (size_t i = 0; i < sequences.size(); ++i)
        for (uint32_t s : sequences[i])
            if (s >= vocab_size_)
                return Error{fmt::format("markov: sequence {} has symbol id {}, vocabulary size is {}", i, s,
                                         vocab_size_)};
    std::array<uint32_t, kMaxMarkovOrder> ctx{};
    for (const auto& seq : sequences) {
        ++sequences_;
        std::fill_n(ctx.begin(), order_, bos());
        for (uint32_t s : seq) {
            ++events_;
            // Insert the full-length context (newest symbol first), creating its suffix nodes on the way.
            uint32_t node = 0;
            for (uint32_t i = 0; i < order_; ++i) {
                uint32_t sym = ctx[order_ - 1 - i];
                auto [it, fresh] =
                    children_.try_emplace(key(node, sym), static_cast<uint32_t>(nodes_.size()));
                if (fresh) nodes_.push_back(Node{node, sym, i + 1, 0, 0});
                node = it->second;
            }
            ++counts_[key(node, s)];
            std::copy(ctx.begin() + 1, ctx.begin() + order_, ctx.begin());
            ctx[order_ - 1] = s;
        }
    }
    rebuild();
    return ok_status();
}

void MarkovChain::rebuild() {
    // Only the full-length (k+1)-gram counts are raw data; everything below is derived from them.
    std::erase_if(counts_, [&](const auto& kv) { return nodes_[kv.first >> 32].depth < order_; });
    // Continuation counts, longest first: each distinct n-gram type (h1 h2..hj w) with a non-zero count
    // adds one to N1+(. h2..hj w), the count its suffix gets at the next shorter context length.
    std::vector<uint64_t> level;
    for (uint32_t depth = order_; depth >= 1; --depth) {
        level.clear();
        for (const auto& [k, c] : counts_)
            if (nodes_[k >> 32].depth == depth) level.push_back(k);
        for (uint64_t k : level) ++counts_[key(nodes_[k >> 32].parent, static_cast<uint32_t>(k))];
    }
    for (auto& n : nodes_) n.distinct = 0, n.total = 0;
    std::array<uint64_t, kMaxMarkovOrder + 1> n1{}, n2{};
    for (const auto& [k, c] : counts_) {
        Node& n = nodes_[k >> 32];
        ++n.distinct;
        n.total += c;
        if (c == 1) ++n1[n.depth];
        if (c == 2) ++n2[n.depth];
    }
    for (uint32_t d = 0; d <= order_; ++d) {
        discounts_[d] = config_.discount;
        // Chen & Goodman's estimate; with no singletons or no doubletons it is 0 or 1, so keep the default.
        if (config_.estimate_discount && n1[d] > 0 && n2[d] > 0)
            discounts_[d] = double(n1[d]) / double(n1[d] + 2 * n2[d]);
    }
}

size_t MarkovChain::walk(std::span<const uint32_t> context, Chain& chain) const {
    chain[0] = 0;
    size_t len = 1;
    size_t usable = std::min<size_t>(context.size(), order_);
    for (size_t i = 0; i < usable; ++i) {
        uint32_t next = child(chain[len - 1], clamp_symbol(context[context.size() - 1 - i]));
        if (next == 0) break; // this context (and so every longer one) was never seen
        chain[len++] = next;
    }
    return len;
}

double MarkovChain::prob_on(const Chain& chain, size_t len, uint32_t next) const {
    uint32_t w = next < vocab_size_ ? next : 0;
    // Interpolated Kneser-Ney, from the uniform distribution up to the longest seen context:
    //   p_h(w) = (max(c(h w) - D, 0) + D * N1+(h .) * p_h'(w)) / c(h)
    double p = 1.0 / double(vocab_size_);
    for (size_t i = 0; i < len; ++i) {
        const Node& n = nodes_[chain[i]];
        if (n.total == 0) continue; // untrained chain: nothing above uniform
        double d = discounts_[n.depth];
        double c = double(count(chain[i], w));
        p = (std::max(c - d, 0.0) + d * double(n.distinct) * p) / double(n.total);
    }
    return p;
}

double MarkovChain::prob(std::span<const uint32_t> context, uint32_t next) const {
    Chain chain;
    size_t len = walk(context, chain);
    return prob_on(chain, len, next);
}

double MarkovChain::log_prob(std::span<const uint32_t> context, uint32_t next) const {
    return std::log(prob(context, next));
}

double MarkovChain::surprise(std::span<const uint32_t> context, uint32_t next) const {
    return -std::log2(prob(context, next));
}

std::vector<Prediction> MarkovChain::predict_next(std::span<const uint32_t> context, size_t n) const {
    Chain chain;
    size_t len = walk(context, chain);
    std::vector<Prediction> all;
    all.reserve(vocab_size_);
    for (uint32_t w = 0; w < vocab_size_; ++w) all.push_back({w, prob_on(chain, len, w)});
    n = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(),
                      [](const Prediction& a, const Prediction& b) {
                          return a.prob != b.prob ? a.prob > b.prob : a.symbol < b.symbol;
                      });
    all.resize(n);
    return all;
}

std::map<std::string, std::string> MarkovChain::hyper_params() const {
    std::map<std::string, std::string> hp;
    hp["order"] = std::to_string(order_);
    hp["vocab_size"] = std::to_string(vocab_size_);
    hp["smoothing"] = "interpolated-kneser-ney";
    hp["estimate_discount"] = config_.estimate_discount ? "true" : "false";
    for (uint32_t d = 0; d <= order_; ++d)
        hp[fmt::format("discount.{}", d)] = fmt::format("{}", discounts_[d]);
    return hp;
}

void MarkovChain::serialize(ByteWriter& w) const {
    w.u32(kMarkovPayloadVersion);
    w.u32(order_);
    w.u32(vocab_size_);
    w.u8(config_.estimate_discount ? 1 : 0);
    w.f64(config_.discount);
    for (uint32_t d = 0; d <= order_; ++d) w.f64(discounts_[d]);
    w.u64(sequences_);
    w.u64(events_);
    w.u64(nodes_.size());
    for (const Node& n : nodes_) {
        w.u32(n.parent);
        w.u32(n.symbol);
        w.u32(n.depth);
        w.u32(n.distinct);
        w.u64(n.total);
    }
    // Sorted so that the bytes depend only on the model, not on hash-table iteration order.
    std::vector<std::pair<uint64_t, uint64_t>> entries(counts_.begin(), counts_.end());
    std::sort(entries.begin(), entries.end());
    w.u64(entries.size());
    for (const auto& [k, c] : entries) {
        w.u32(static_cast<uint32_t>(k >> 32));
        w.u32(static_cast<uint32_t>(k));
        w.u64(c);
    }
}

std::vector<uint8_t> MarkovChain::serialize() const {
    ByteWriter w;
    serialize(w);
    return w.take();
}

Expected<MarkovChain> MarkovChain::deserialize(ByteReader& r) {
    auto bad = [](const std::string& what) { return Error{"markov payload: " + what}; };
    uint32_t version = 0;
    if (!r.u32(version)) return bad("truncated");
    if (version != kMarkovPayloadVersion)
        return bad(fmt::format("version {}, this engine reads {}", version, kMarkovPayloadVersion));
    MarkovConfig config;
    uint32_t vocab = 0;
    uint8_t estimate = 0;
    r.u32(config.order);
    r.u32(vocab);
    r.u8(estimate);
    r.f64(config.discount);
    if (!r.ok()) return bad("truncated");
    config.estimate_discount = estimate != 0;
    auto made = create(config, vocab);
    if (!made) return bad(made.error());
    MarkovChain m = std::move(*made);
    for (uint32_t d = 0; d <= m.order_; ++d) {
        r.f64(m.discounts_[d]);
        if (r.ok() && !valid_discount(m.discounts_[d])) return bad("discount out of range");
    }
    uint64_t n_nodes = 0;
    r.u64(m.sequences_);
    r.u64(m.events_);
    r.u64(n_nodes);
    if (!r.ok()) return bad("truncated");
    // 24 bytes per node: refuse counts the payload cannot hold before allocating for them.
    if (n_nodes == 0 || n_nodes > r.remaining() / 24)
        return bad(fmt::format("implausible context count {}", n_nodes));
    m.nodes_.assign(n_nodes, Node{});
    for (uint64_t i = 0; i < n_nodes; ++i) {
        Node& n = m.nodes_[i];
        r.u32(n.parent);
        r.u32(n.symbol);
        r.u32(n.depth);
        r.u32(n.distinct);
        r.u64(n.total);
        if (!r.ok()) return bad("truncated");
        if (i == 0) continue;
        if (n.parent >= i || n.depth != m.nodes_[n.parent].depth + 1 || n.depth > m.order_ ||
            n.symbol > m.bos())
            return bad(fmt::format("context {} is malformed", i));
        if (!m.children_.emplace(key(n.parent, n.symbol), static_cast<uint32_t>(i)).second)
            return bad(fmt::format("context {} is a duplicate", i));
    }
    uint64_t n_entries = 0;
    if (!r.u64(n_entries)) return bad("truncated");
    if (n_entries > r.remaining() / 16) return bad(fmt::format("implausible entry count {}", n_entries));
    std::vector<uint64_t> total(n_nodes, 0), distinct(n_nodes, 0);
    m.counts_.reserve(n_entries);
    for (uint64_t i = 0; i < n_entries; ++i) {
        uint32_t node = 0, sym = 0;
        uint64_t c = 0;
        r.u32(node);
        r.u32(sym);
        r.u64(c);
        if (!r.ok()) return bad("truncated");
        if (node >= n_nodes || sym >= m.vocab_size_ || c == 0)
            return bad(fmt::format("entry {} is malformed", i));
        if (!m.counts_.emplace(key(node, sym), c).second)
            return bad(fmt::format("entry {} is a duplicate", i));
        total[node] += c;
        ++distinct[node];
    }
    // The totals are what makes every distribution sum to one: check them rather than trust them.
    for (uint64_t i = 0; i < n_nodes; ++i)
        if (total[i] != m.nodes_[i].total || distinct[i] != m.nodes_[i].distinct)
            return bad(fmt::format("context {} totals do not match its entries", i));
    return m;
}

Expected<MarkovChain> MarkovChain::deserialize(std::span<const uint8_t> payload) {
    ByteReader r(payload);
    auto m = deserialize(r);
    if (m && r.remaining() != 0)
        return Error{fmt::format("markov payload: {} trailing bytes", r.remaining())};
    return m;
}

MarkovState::MarkovState(const MarkovChain& chain) : order_(chain.order()) {
    reset(chain);
}

void MarkovState::reset(const MarkovChain& chain) {
    order_ = chain.order();
    std::fill_n(ctx_.begin(), order_, chain.bos());
    count_ = 0;
    sum_log_prob_ = 0.0;
}

double MarkovState::peek_log_prob(const MarkovChain& chain, uint32_t symbol) const {
    return chain.log_prob(context(), symbol);
}

double MarkovState::observe(const MarkovChain& chain, uint32_t symbol) {
    double lp = peek_log_prob(chain, symbol);
    sum_log_prob_ += lp;
    ++count_;
    std::copy(ctx_.begin() + 1, ctx_.begin() + order_, ctx_.begin());
    // Stored as <unk> when out of range, so the context never holds an id the chain cannot look up.
    ctx_[order_ - 1] = symbol < chain.vocab_size() ? symbol : Vocabulary::kUnk;
    return lp;
}

Status save_markov_model(const std::string& path, const Vocabulary& vocabulary, const MarkovChain& chain,
                         ModelMeta meta) {
    if (vocabulary.size() != chain.vocab_size())
        return Error{fmt::format("{}: vocabulary has {} symbols but the chain was built for {}", path,
                                 vocabulary.size(), chain.vocab_size())};
    meta.kind = "markov";
    if (meta.engine_version.empty()) meta.engine_version = kEngineVersion;
    meta.sequences = chain.sequences();
    meta.events = chain.events();
    for (auto& [k, v] : chain.hyper_params()) meta.hyper_params[k] = v;
    ByteWriter w;
    vocabulary.serialize(w);
    chain.serialize(w);
    return write_model_file(path, meta, w.data());
}

Expected<MarkovModel> load_markov_model(const std::string& path) {
    auto file = read_model_file(path);
    if (!file) return Error{file.error()};
    if (file->meta.kind != "markov")
        return Error{fmt::format("{}: model kind '{}', expected 'markov'", path, file->meta.kind)};
    ByteReader r(file->payload);
    auto vocab = Vocabulary::deserialize(r);
    if (!vocab) return Error{path + ": " + vocab.error()};
    auto chain = MarkovChain::deserialize(r);
    if (!chain) return Error{path + ": " + chain.error()};
    if (r.remaining() != 0) return Error{fmt::format("{}: {} trailing payload bytes", path, r.remaining())};
    if (vocab->size() != chain->vocab_size())
        return Error{fmt::format("{}: vocabulary has {} symbols but the chain was built for {}", path,
                                 vocab->size(), chain->vocab_size())};
    return MarkovModel{std::move(*vocab), std::move(*chain)};
}

} // namespace ethogram::models
