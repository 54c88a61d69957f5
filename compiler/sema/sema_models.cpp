// sema_models.cpp: model declarations (file, hash, kind and observed fields checked at compile time) and
// the lowering of model function calls (docs/language.md section 10).
#include "compiler/sema/sema.h"
#include "compiler/sema/sema_expr_internal.h"

#include "models/any_model.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace ethogram::sema {

using compiler::suggest;
using ir::ModelFn;
using ir::Type;

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kKinds = {"markov", "hmm", "classifier"};

/// What a model function takes after the model: nothing, an optional rank, or a string.
enum class Extra : uint8_t { None, Rank, Symbol, Label };

struct FnInfo {
    const char* name;
    ModelFn fn;
    Extra extra;
    Type result;
    int kinds; ///< bit i: applies to ir::ModelKind i
};

constexpr int kAll = 7, kHmm = 2, kClassifier = 4;

const FnInfo kFns[] = {
    {"evidence", ModelFn::Evidence, Extra::None, Type::Int, kAll},
    {"confident", ModelFn::Confident, Extra::None, Type::Bool, kAll},
    {"surprise", ModelFn::Surprise, Extra::None, Type::Float, kAll},
    {"loglik", ModelFn::LogLik, Extra::None, Type::Float, kAll},
    {"predict_next", ModelFn::PredictNext, Extra::Rank, Type::String, kAll},
    {"predict_prob", ModelFn::PredictProb, Extra::Rank, Type::Float, kAll},
    {"next_prob", ModelFn::NextProb, Extra::Symbol, Type::Float, kAll},
    {"hidden_state", ModelFn::HiddenState, Extra::None, Type::String, kHmm},
    {"state_prob", ModelFn::StateProb, Extra::Label, Type::Float, kHmm},
    {"class_prob", ModelFn::ClassProb, Extra::Label, Type::Float, kClassifier},
    {"predicted_class", ModelFn::PredictedClass, Extra::None, Type::String, kClassifier},
};

/// Model files are small (a few MB at most): a bound keeps a stray path (a device, /proc) from hanging or
/// exhausting the compiler.
constexpr uintmax_t kMaxModelBytes = uintmax_t{1} << 30;

bool read_bytes(const fs::path& p, std::vector<uint8_t>& out) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return false;
    const uintmax_t size = fs::file_size(p, ec);
    if (ec || size > kMaxModelBytes) return false;
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool valid_hash(const std::string& h) {
    const std::string prefix = "blake2b:";
    if (h.rfind(prefix, 0) != 0 || h.size() != prefix.size() + 64) return false;
    return h.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos;
}

template <typename T>
void once(Sema& s, const std::vector<T>& items, const ast::ModelDecl& m, const char* clause,
          ast::Span (*span_of)(const T&)) {
    for (size_t i = 1; i < items.size(); ++i)
        s.diags.error("E0809", span_of(items[i]),
                      "model `" + m.name.text + "` has more than one `" + clause + "`");
}

ast::Span ident_span(const ast::Ident& i) {
    return i.span;
}
ast::Span min_span(const std::pair<int64_t, ast::Span>& p) {
    return p.second;
}
ast::Span span_id(const ast::Span& s) {
    return s;
}

} // namespace

void Sema::declare_model(const ast::ModelDecl& m) {
    if (auto it = model_index.find(m.name.text); it != model_index.end()) {
        auto& d = diags.error("E0810", m.name.span, "duplicate model `" + m.name.text + "`");
        d.notes.push_back({"previously declared here", model_spans[it->second]});
        return;
    }
    const size_t errors_before = diags.error_count();
    ir::Model out;
    out.name = m.name.text;
    out.loc = {diags.file_name(m.span.file), m.span.line, m.span.col};
    once(*this, m.paths, m, "path", ident_span);
    once(*this, m.hashes, m, "hash", ident_span);
    once(*this, m.per_sessions, m, "per session", ident_span);
    once(*this, m.min_evidences, m, "min_evidence", min_span);
    once(*this, m.states_spans, m, "states", span_id);

    size_t k = 0;
    while (k < kKinds.size() && kKinds[k] != m.kind.text) ++k;
    if (k == kKinds.size()) {
        auto& d = diags.error("E0804", m.kind.span,
                              "unknown model kind `" + m.kind.text + "` (markov, hmm or classifier)");
        suggest(d, m.kind.text, kKinds);
    } else {
        out.kind = static_cast<ir::ModelKind>(k);
    }
    if (m.paths.empty())
        diags.error("E0808", m.name.span, "model `" + m.name.text + "` has no `path \"FILE\";`");
    if (m.observe_clauses == 0)
        diags.error("E0808", m.name.span,
                    "model `" + m.name.text + "` observes nothing: add `observe TYPE.FIELD;`");

    // Observed fields: categorical only, one per event type (an event feeds the model one symbol).
    std::set<uint16_t> seen_types;
    for (const auto& [type, field] : m.observes) {
        int t = find_event(type);
        if (t < 0) continue;
        uint16_t slot = field_slot(static_cast<uint16_t>(t), field.text);
        if (slot == ir::kNoField) {
            auto& d =
                diags.error("E0211", field.span, "unknown field `" + field.text + "` of `" + type.text + "`");
            std::vector<std::string> names;
            for (const auto& f : rs.events[static_cast<size_t>(t)].fields) names.push_back(f.name);
            suggest(d, field.text, names);
            continue;
        }
        const ir::FieldDef& fd = rs.events[static_cast<size_t>(t)].fields[slot];
        if (fd.type != Type::String && fd.type != Type::Enum) {
            diags.error("E0807", field.span,
                        "model `" + m.name.text + "` observes `" + type.text + "." + field.text +
                            "` of type `" + std::string(ir::type_name(fd.type)) +
                            "`: a model observes a `string` or `enum` field");
            continue;
        }
        if (!seen_types.insert(static_cast<uint16_t>(t)).second) {
            diags.error("E0807", type.span,
                        "model `" + m.name.text + "` observes two fields of `" + type.text +
                            "`: one field per event type");
            continue;
        }
        out.observe.push_back({static_cast<uint16_t>(t), slot});
    }
    if (!m.per_sessions.empty()) {
        const auto& sn = m.per_sessions[0];
        auto it = session_index.find(sn.text);
        if (it == session_index.end()) {
            auto& d = diags.error("E0311", sn.span, "unknown session `" + sn.text + "`");
            std::vector<std::string> names;
            for (const auto& s : rs.sessions) names.push_back(s.name);
            suggest(d, sn.text, names);
        } else {
            out.session = static_cast<int32_t>(it->second);
        }
    }
    if (!m.min_evidences.empty()) {
        const auto& [n, sp] = m.min_evidences[0];
        if (n >= static_cast<int64_t>(UINT32_MAX))
            diags.error("E0004", sp, "`min_evidence` must be below 2^32");
        else
            out.min_evidence = static_cast<uint32_t>(n);
    }
    if (!m.hashes.empty() && !valid_hash(m.hashes[0].text))
        diags.error("E0806", m.hashes[0].span,
                    "model hash must be `blake2b:` followed by 64 lower-case hex digits, found `" +
                        m.hashes[0].text + "`");

    // The file: read, pin, verify, decode. Paths are relative to the declaring rule file.
    if (!m.paths.empty() && k < kKinds.size()) {
        const ast::Ident& p = m.paths[0];
        fs::path file = fs::path(p.text);
        if (file.is_relative()) file = fs::path(diags.file_name(m.span.file)).parent_path() / file;
        file = file.lexically_normal();
        out.path = file.string();
        std::vector<uint8_t> bytes;
        if (!read_bytes(file, bytes)) {
            diags.error("E0801", p.span, "cannot read model file `" + out.path + "`");
        } else {
            out.hash = "blake2b:" + blake2b_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                                 bytes.size()));
            bool pinned_ok = true;
            if (!m.hashes.empty() && valid_hash(m.hashes[0].text) && m.hashes[0].text != out.hash) {
                auto& d = diags.error("E0805", m.hashes[0].span,
                                      "model file `" + out.path + "` does not have the declared hash");
                d.notes.push_back({"the file's hash is `" + out.hash + "`", std::nullopt});
                pinned_ok = false;
            }
            auto decoded = models::decode_any_model(bytes, out.path);
            if (!decoded) {
                diags.error("E0802", p.span, "bad model file: " + decoded.error());
            } else if (decoded->meta.kind != m.kind.text) {
                diags.error("E0803", m.kind.span,
                            "model `" + m.name.text + "` is declared `" + m.kind.text + "` but `" + out.path +
                                "` holds a `" + decoded->meta.kind + "` model");
            } else if (pinned_ok) {
                if (m.hashes.empty()) {
                    auto& d = diags.warning("W0801", m.name.span,
                                            "model `" + m.name.text + "` is not pinned to a file hash");
                    d.notes.push_back({"add `hash \"" + out.hash + "\";`", std::nullopt});
                }
                if (decoded->hmm) {
                    for (size_t i = 0; i < decoded->hmm->n_states; ++i)
                        out.labels.push_back(std::string("s").append(std::to_string(i)));
                } else if (decoded->classifier) {
                    for (size_t c = 0; c < decoded->classifier->class_count(); ++c)
                        out.labels.push_back(decoded->classifier->class_name(c));
                }
                out.image = std::move(bytes);
            }
        }
    }
    if (!m.states.empty()) {
        const auto& names = m.states[0];
        if (k < kKinds.size() && out.kind != ir::ModelKind::Hmm) {
            diags.error("E0815", m.states_spans[0], "`states` names the states of an `hmm` model only");
        } else if (!out.labels.empty() && names.size() != out.labels.size()) {
            diags.error("E0815", m.states_spans[0],
                        "`states` names " + std::to_string(names.size()) + " states but the model has " +
                            std::to_string(out.labels.size()));
        } else if (!out.labels.empty()) {
            std::set<std::string> uniq;
            for (size_t i = 0; i < names.size(); ++i) {
                if (!uniq.insert(names[i].text).second)
                    diags.error("E0815", names[i].span, "state `" + names[i].text + "` is named twice");
                out.labels[i] = names[i].text;
            }
        }
    }
    // A model with errors is still registered (so that calls to it do not cascade into E0811).
    (void)errors_before;
    model_index.emplace(out.name, static_cast<uint32_t>(rs.models.size()));
    model_spans.push_back(m.name.span);
    rs.models.push_back(std::move(out));
}

Typed ExprLowering::model_call(const ast::Expr& e, ExprCtx& ctx, bool& handled) {
    const FnInfo* info = nullptr;
    for (const auto& f : kFns)
        if (e.name.text == f.name) info = &f;
    if (!info) return {};
    handled = true;
    const std::string& fname = e.name.text;
    if (ctx.in_aggregate || !ctx.models_seen) {
        s.diags.error("E0814", e.span,
                      ctx.in_aggregate ? "model functions cannot be used inside aggregates"
                                       : "model functions are not allowed here");
        return {};
    }
    const size_t max_args = info->extra == Extra::None ? 1 : 2;
    const size_t min_args = info->extra == Extra::None || info->extra == Extra::Rank ? 1 : 2;
    auto usage = [&]() {
        switch (info->extra) {
        case Extra::None: return "`" + fname + "(MODEL)`";
        case Extra::Rank: return "`" + fname + "(MODEL)` or `" + fname + "(MODEL, N)`";
        case Extra::Symbol: return "`" + fname + "(MODEL, \"symbol\")`";
        case Extra::Label: return "`" + fname + "(MODEL, \"name\")`";
        }
        return std::string();
    };
    if (e.children.size() < min_args || e.children.size() > max_args) {
        s.diags.error("E0504", e.span, "`" + fname + "` takes " + usage());
        return {};
    }
    const ast::Expr& arg = *e.children[0];
    if (arg.kind != ast::ExprKind::Name) {
        s.diags.error("E0504", arg.span, "the first argument of `" + fname + "` is a model name: " + usage());
        return {};
    }
    auto it = s.model_index.find(arg.name.text);
    if (it == s.model_index.end()) {
        auto& d = s.diags.error("E0811", arg.span, "unknown model `" + arg.name.text + "`");
        std::vector<std::string> names;
        for (const auto& mm : s.rs.models) names.push_back(mm.name);
        suggest(d, arg.name.text, names);
        return {};
    }
    const uint32_t mi = it->second;
    const ir::Model& model = s.rs.models[mi];
    if (!(info->kinds & (1 << static_cast<int>(model.kind)))) {
        s.diags.error("E0812", e.name.span,
                      "`" + fname + "` does not apply to `" + model.name + "`, a `" +
                          std::string(ir::model_kind_name(model.kind)) + "` model (it needs " +
                          (info->kinds == kHmm ? "an `hmm`" : "a `classifier`") + ")");
        return {};
    }
    ir::Expr x;
    x.kind = ir::ExprKind::Model;
    x.type = info->result;
    x.model = mi;
    x.mfn = info->fn;
    x.model_arg = info->extra == Extra::Rank ? 1 : 0;
    if (e.children.size() == 2) {
        const ast::Expr& extra = *e.children[1];
        if (info->extra == Extra::Rank) {
            if (extra.kind != ast::ExprKind::Int || extra.int_value < 1 || extra.int_value > 1000000) {
                s.diags.error("E0504", extra.span,
                              "the rank in `" + fname +
                                  "` is an integer constant from 1 (the most probable)");
                return {};
            }
            x.model_arg = static_cast<uint32_t>(extra.int_value);
        } else if (extra.kind != ast::ExprKind::String) {
            s.diags.error("E0504", extra.span, "`" + fname + "` takes " + usage() + " (a string constant)");
            return {};
        } else if (info->extra == Extra::Symbol) {
            x.constant = ir::Value::string(s.intern(extra.str_value));
        } else {
            size_t l = 0;
            while (l < model.labels.size() && model.labels[l] != extra.str_value) ++l;
            if (l == model.labels.size()) {
                if (!model.labels.empty()) {
                    auto& d = s.diags.error("E0813", extra.span,
                                            "`" + model.name + "` has no " +
                                                (model.kind == ir::ModelKind::Hmm ? "state" : "class") +
                                                " `" + extra.str_value + "`");
                    suggest(d, extra.str_value, model.labels);
                    std::string all;
                    for (const auto& lb : model.labels) all += (all.empty() ? "" : ", ") + lb;
                    d.notes.push_back(
                        {"its " + std::string(model.kind == ir::ModelKind::Hmm ? "states" : "classes") +
                             " are " + all,
                         std::nullopt});
                }
                return {}; // no labels: the model file itself was refused (already reported)
            }
            x.model_arg = static_cast<uint32_t>(l);
        }
    }
    // evidence() and confident() speak about the evidence itself: they never gate a decision.
    if (info->fn != ModelFn::Evidence && info->fn != ModelFn::Confident) ctx.models_seen->push_back(mi);
    return {s.add(std::move(x)), info->result, nullptr, true};
}

} // namespace ethogram::sema
