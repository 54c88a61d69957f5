// shard.cpp: a worker shard: running its executor over its own pool, formatting detections.
#include "runtime/shard.h"

#include "compiler/ir/snapshot_bytes.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace ethogram::runtime {

uint32_t shard_of(std::string_view key, uint32_t shards) {
    uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    // Mix the high bits in: FNV's low bits are weak for short decimal keys.
    h ^= h >> 29;
    return shards <= 1 ? 0 : static_cast<uint32_t>(h % shards);
}

Shard::Shard(uint32_t index, const ir::RuleSet& rs, const ExecutorFactory& make, OutputOptions out_opts,
             bool keep_suppressed, bool ordered)
    : index_(index), rs_(rs), out_opts_(out_opts), keep_suppressed_(keep_suppressed), ordered_(ordered) {
    ir::seed_string_pool(rs, pool_);
    exec_ = make(rs, pool_);
    pieces_.reserve(rs.rules.size());
    for (const ir::Rule& rule : rs.rules) pieces_.emplace_back(rs, rule, out_opts_);
}

void Shard::on_event(const ir::Event& e) {
    exec_->advance_watermark(e.time, *this);
    exec_->on_event(e, *this);
    ++processed_;
}

bool Shard::advance(int64_t wm) {
    if (wm <= frontier_) return false;
    exec_->advance_watermark(wm, *this);
    frontier_ = wm;
    advanced_ = true;
    return true;
}

void ShardOutput::add_ordered(int64_t time, std::string_view k, uint64_t seq, bool supp, std::string_view t) {
    OrderedRef r;
    r.time = time;
    r.seq = seq;
    r.suppressed = supp;
    r.key_off = static_cast<uint32_t>(ordered_keys.size());
    r.key_len = static_cast<uint32_t>(k.size());
    ordered_keys.append(k);
    r.text_off = ordered_text.size();
    r.text_len = static_cast<uint32_t>(t.size());
    ordered_text.append(t);
    ordered.push_back(r);
}

void ShardOutput::sort_ordered() {
    std::sort(ordered.begin(), ordered.end(), [this](const OrderedRef& a, const OrderedRef& b) {
        if (a.time != b.time) return a.time < b.time;
        const int c = key(a).compare(key(b));
        if (c != 0) return c < 0;
        return a.seq < b.seq;
    });
}

std::unique_ptr<ShardOutput> Shard::take(bool end) {
    const bool advanced = std::exchange(advanced_, false);
    const bool empty =
        !out_ || (out_->detections.empty() && out_->suppressed.empty() && out_->ordered.empty());
    if (empty && !end && !(ordered_ && advanced)) return nullptr;
    out();
    out_->shard = index_;
    out_->frontier = frontier_;
    out_->end = end;
    // Sorted here, on the shard's own thread and outside the output lock.
    if (ordered_) out_->sort_ordered();
    return std::move(out_);
}

void Shard::recycle(std::unique_ptr<ShardOutput> o) {
    if (!o) return;
    o->detections.clear();
    o->suppressed.clear();
    o->ordered_text.clear();
    o->ordered_keys.clear();
    o->ordered.clear();
    o->ordered_next = 0;
    o->frontier = ir::kTimeMinusInfinity;
    o->end = false;
    spare_ = std::move(o);
}

ShardOutput& Shard::out() {
    if (!out_) out_ = spare_ ? std::move(spare_) : std::make_unique<ShardOutput>();
    return *out_;
}

Status Shard::save(std::string& out) const {
    ir::SnapWriter w(out);
    for (uint64_t v : {processed_, emitted_, suppressed_, filtered_, seq_}) w.u64(v);
    w.i64(frontier_);
    w.u64(pool_.size());
    for (uint32_t i = 0; i < pool_.size(); ++i) w.str(pool_.view(i));
    std::string exec_state;
    if (auto st = exec_->save_state(exec_state); !st) return Error{st.error()};
    w.str(exec_state);
    return ok_status();
}

Status Shard::restore(std::string_view state) {
    ir::SnapReader r(state);
    processed_ = r.u64();
    emitted_ = r.u64();
    suppressed_ = r.u64();
    filtered_ = r.u64();
    seq_ = r.u64();
    frontier_ = r.i64();
    // The seeded strings (and what the executor interned when created) must be the same; the rest are
    // interned in id order, which gives them their old ids.
    const uint64_t n = r.count(8);
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string s = r.str();
        if (i < pool_.size()) {
            if (pool_.view(static_cast<uint32_t>(i)) != s) r.fail("string pool mismatch");
        } else if (pool_.intern(s) != i) {
            r.fail("string pool: a duplicate string");
        }
    }
    if (r.ok() && n < pool_.size()) r.fail("string pool shorter than the rule set's");
    const std::string exec_state = r.str();
    if (r.ok() && r.remaining() != 0) r.fail("trailing bytes");
    if (r.failed()) return Error{fmt::format("shard {}: {}", index_, r.error())};
    if (auto st = exec_->restore_state(exec_state); !st)
        return Error{fmt::format("shard {}: {}", index_, st.error())};
    return ok_status();
}

void Shard::close(bool free_state) {
    final_stats_ = exec_->stats();
    if (!free_state) {
        // Deliberately never freed: the process exits next and the OS takes the pages back in bulk.
        (void)exec_.release();
        (void)new ir::StringPool(std::move(pool_));
        pool_ = ir::StringPool();
        return;
    }
    exec_.reset();
    pool_ = ir::StringPool();
}

bool Shard::keep(const ir::Detection& d) {
    if (out_opts_.only < 0) return true;
    if (rs_.in_subtree(rs_.rules[d.rule].label, static_cast<uint32_t>(out_opts_.only))) return true;
    ++filtered_;
    return false;
}

void Shard::add(const ir::Detection& d, bool suppressed, std::string& unordered_out) {
    if (!ordered_) {
        format_detection(d, rs_, pool_, out_opts_, pieces_[d.rule], unordered_out);
        unordered_out.push_back('\n');
        return;
    }
    ShardOutput& o = out();
    const std::string_view key = d.key < pool_.size() ? pool_.view(d.key) : std::string_view();
    OrderedRef r;
    r.time = d.time;
    r.seq = seq_++;
    r.suppressed = suppressed;
    r.key_off = static_cast<uint32_t>(o.ordered_keys.size());
    r.key_len = static_cast<uint32_t>(key.size());
    o.ordered_keys.append(key);
    // Formatted straight into the block's buffer.
    r.text_off = o.ordered_text.size();
    format_detection(d, rs_, pool_, out_opts_, pieces_[d.rule], o.ordered_text);
    o.ordered_text.push_back('\n');
    r.text_len = static_cast<uint32_t>(o.ordered_text.size() - r.text_off);
    o.ordered.push_back(r);
}

void Shard::emit(ir::Detection&& d) {
    if (!keep(d)) return;
    ++emitted_;
    add(d, false, out().detections);
}

void Shard::suppressed(ir::Detection&& d) {
    if (!keep(d)) return;
    ++suppressed_;
    if (!keep_suppressed_) return;
    add(d, true, out().suppressed);
}

} // namespace ethogram::runtime
