// `peat-mesh revoke ...`: sign a revocation of a node's certificate with the authority and print
// the document to write into the mesh (docs/certificates.md).
#pragma once

#include <CLI/CLI.hpp>

namespace peat::cli {

// Adds the `revoke` subcommand to `app`; sets `exit_code` when run.
void add_revoke_command(CLI::App& app, int& exit_code);

}  // namespace peat::cli
