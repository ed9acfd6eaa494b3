// peat-mesh: command-line tools of the peat-mesh library.
#include <CLI/CLI.hpp>

#include "doc_commands.hpp"
#ifdef PEAT_CLI_ENROLL
#include "enroll_command.hpp"
#include "revoke_command.hpp"
#endif

int main(int argc, char** argv) {
  CLI::App app{"peat-mesh: tools for the peat mesh"};
  app.require_subcommand(1);
  int exit_code = 0;
  peat::cli::add_doc_commands(app, exit_code);
#ifdef PEAT_CLI_ENROLL
  peat::cli::add_enroll_command(app, exit_code);
  peat::cli::add_revoke_command(app, exit_code);
#endif
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
