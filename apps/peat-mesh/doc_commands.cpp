#include "doc_commands.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/doc/document.hpp"

namespace peat::cli {
namespace {

struct DocArgs {
  std::string file;
  std::string other;
  std::string out;
};

// Reading and writing files never throws; failures become one-line messages.
std::optional<Bytes> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return std::nullopt;
  }
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  return data;
}

// The CLI never authors changes (merge only copies existing ones), so a fixed actor will do.
Bytes cli_actor() {
  return Bytes(16, 0);
}

std::optional<doc::Document> load(const std::string& path) {
  std::string error;
  auto data = read_file(path, error);
  if (!data) {
    std::cerr << "peat-mesh: " << error << "\n";
    return std::nullopt;
  }
  if (data->empty()) {
    std::cerr << "peat-mesh: " << path << " is empty, not an Automerge document\n";
    return std::nullopt;
  }
  auto d = doc::Document::load(*data, cli_actor());
  if (!d) {
    std::cerr << "peat-mesh: " << path << " is not a valid Automerge document ("
              << d.error().to_string() << ")\n";
    return std::nullopt;
  }
  return std::move(*d);
}

int dump(const DocArgs& a) {
  auto d = load(a.file);
  if (!d) return 1;
  std::cout << doc::to_json(*d) << "\n";
  return 0;
}

int info(const DocArgs& a) {
  auto d = load(a.file);
  if (!d) return 1;
  const auto changes = d->changes_info();
  std::map<Bytes, std::size_t> per_actor;
  std::size_t ops = 0;
  for (const auto& c : changes) {
    ++per_actor[c.actor];
    ops += static_cast<std::size_t>(c.max_op - c.start_op + 1);
  }
  const auto heads = d->get_heads();
  std::cout << "actors: " << per_actor.size() << "\n";
  for (const auto& [actor, n] : per_actor) {
    std::cout << "  " << to_hex(actor) << " (" << n << (n == 1 ? " change" : " changes") << ")\n";
  }
  std::cout << "heads: " << heads.size() << "\n";
  for (const auto& h : heads) std::cout << "  " << to_hex(h) << "\n";
  std::cout << "changes: " << changes.size() << "\n";
  std::cout << "ops: " << ops << "\n";
  std::cout << "ops stored: " << d->op_count() << "\n";
  return 0;
}

int merge(const DocArgs& a) {
  auto left = load(a.file);
  if (!left) return 1;
  auto right = load(a.other);
  if (!right) return 1;
  if (auto s = left->merge(*right); !s) {
    std::cerr << "peat-mesh: cannot merge " << a.other << " into " << a.file << " ("
              << s.error().to_string() << ")\n";
    return 1;
  }
  const Bytes saved = left->save();
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(saved.data()),
            static_cast<std::streamsize>(saved.size()));
  out.close();
  if (!out) {
    std::cerr << "peat-mesh: cannot write " << a.out << "\n";
    return 1;
  }
  std::cout << "merged " << left->get_heads().size() << " head(s), " << left->changes_info().size()
            << " changes, " << saved.size() << " bytes -> " << a.out << "\n";
  return 0;
}

}  // namespace

void add_doc_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DocArgs>();
  auto* doc_cmd = app.add_subcommand("doc", "Inspect and merge Automerge document files");
  doc_cmd->require_subcommand(1);

  auto* dump_cmd = doc_cmd->add_subcommand("dump", "Print the document as JSON");
  dump_cmd->add_option("FILE", args->file, "Automerge file")->required();
  dump_cmd->callback([args, &exit_code] { exit_code = dump(*args); });

  auto* info_cmd =
      doc_cmd->add_subcommand("info", "Print actors, heads and the number of changes and ops");
  info_cmd->add_option("FILE", args->file, "Automerge file")->required();
  info_cmd->callback([args, &exit_code] { exit_code = info(*args); });

  auto* merge_cmd = doc_cmd->add_subcommand("merge", "Merge two documents into a new file");
  merge_cmd->add_option("A", args->file, "first Automerge file")->required();
  merge_cmd->add_option("B", args->other, "second Automerge file")->required();
  merge_cmd->add_option("-o,--output", args->out, "output file")->required();
  merge_cmd->callback([args, &exit_code] { exit_code = merge(*args); });
}

}  // namespace peat::cli
