// status.cpp: names of the governance error codes.
#include "govern/status.h"

namespace ethogram::govern {

const char* code_name(Code c) {
    switch (c) {
    case Code::Ok: return "ok";
    case Code::Io: return "io";
    case Code::Usage: return "usage";
    case Code::Compile: return "compile";
    case Code::Corrupt: return "corrupt";
    case Code::FutureFormat: return "future_format";
    case Code::EngineVersion: return "engine_version";
    case Code::Tampered: return "tampered";
    case Code::Unsigned: return "unsigned";
    case Code::Stripped: return "stripped";
    case Code::BadSignature: return "bad_signature";
    case Code::UntrustedKey: return "untrusted_key";
    case Code::WrongRole: return "wrong_role";
    case Code::Immutable: return "immutable";
    case Code::Policy: return "policy";
    case Code::AuditBroken: return "audit_broken";
    case Code::Revoked: return "revoked";
    }
    return "unknown";
}

} // namespace ethogram::govern
