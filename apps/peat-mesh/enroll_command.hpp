// `peat-mesh enroll ...`: get a certificate for a node's QUIC key from an enrollment server
// (ALPN peat/enroll/1, docs/certificates.md).
#pragma once

#include <CLI/CLI.hpp>

namespace peat::cli {

// Adds the `enroll` subcommand to `app`; sets `exit_code` when run.
void add_enroll_command(CLI::App& app, int& exit_code);

}  // namespace peat::cli
