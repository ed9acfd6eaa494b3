// peat-mesh: command-line tools of the peat-mesh library.
#include <CLI/CLI.hpp>

#include "doc_commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"peat-mesh: tools for the peat mesh"};
  app.require_subcommand(1);
  int exit_code = 0;
  peat::cli::add_doc_commands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
