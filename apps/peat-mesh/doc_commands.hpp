// `peat-mesh doc ...`: inspect and merge Automerge document files.
#pragma once

#include <CLI/CLI.hpp>

namespace peat::cli {

// Adds the `doc` subcommand tree (dump, info, merge) to `app`; sets `exit_code` when run.
void add_doc_commands(CLI::App& app, int& exit_code);

}  // namespace peat::cli
