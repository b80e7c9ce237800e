#pragma once
// --user: pginit becomes another user once what needs root is done (configuration and *_FILE
// secrets read), so that everything it starts runs as that user too.
#include <optional>
#include <string>

#include "identity.h"
#include "result.h"

namespace pginit {

/// Resolves `spec` ("USER[:GROUP]") against /etc/passwd and /etc/group (read directly: a static
/// binary has no NSS; a missing file counts as empty) for this process. Not root, only the
/// current user (and group) may be named. Config errors (78) name the problem.
Result<Identity> resolve_user(const std::string& spec);

/// Becomes `identity`: supplementary groups (setgroups), then setgid, then setuid, and checks
/// afterwards that the ids took and that root cannot be had back; sets HOME to identity.home.
/// A failure is 78 (the kernel refused) or 70 (root could be had back: a bug).
std::optional<Failure> become(const Identity& identity);

}  // namespace pginit
