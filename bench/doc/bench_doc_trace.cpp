// Applies a 259,778-edit text trace with the C++ engine and with @automerge/automerge (Node)
// and prints apply/save/load times, saved size, peak RSS and the C++/JS ratios.
//   bench_doc_trace [--seed N] [--no-node] [--no-many]
// Each engine runs in its own child process so that peak RSS (VmHWM) is its own.
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "peat/doc/document.hpp"
#include "peat/doc/sync/sync.hpp"
#include "trace.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using peat::bench::Edit;

// Wall and process CPU time of one phase: wall time alone misleads when other jobs share the
// cores, CPU time alone hides waiting.
struct Phase {
  Clock::time_point t0 = Clock::now();
  std::clock_t c0 = std::clock();
  double wall_ms = 0, cpu_ms = 0;
  void stop() {
    wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    cpu_ms = 1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  }
};

long vm_hwm_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Trace file: 6 bytes per edit: u32 LE position, u8 delete count, u8 inserted char.
void write_trace(const std::string& path, const std::vector<Edit>& trace) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& e : trace) {
    const char rec[6] = {static_cast<char>(e.pos),       static_cast<char>(e.pos >> 8),
                         static_cast<char>(e.pos >> 16), static_cast<char>(e.pos >> 24),
                         static_cast<char>(e.del),       e.ch};
    out.write(rec, 6);
  }
}

std::vector<Edit> read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Edit> out(bytes.size() / 6);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto* r = reinterpret_cast<const unsigned char*>(bytes.data() + 6 * i);
    out[i].pos = r[0] | (r[1] << 8) | (r[2] << 16) | (static_cast<std::uint32_t>(r[3]) << 24);
    out[i].del = r[4];
    out[i].ch = static_cast<char>(r[5]);
  }
  return out;
}

// Child process: apply, save, load with the C++ engine; prints one JSON line.
int run_cpp(const std::string& trace_path, bool one_change_per_edit) {
  const auto trace = read_trace(trace_path);
  const std::string expected = peat::bench::apply_to_string(trace);
  peat::doc::CommitOptions opts;
  opts.time = 0;

  peat::doc::Document doc(peat::Bytes(16, 0x42));
  auto text = doc.put_object(peat::doc::kRoot, "text", peat::doc::ObjType::kText);
  if (!text) {
    std::cerr << text.error().to_string() << "\n";
    return 1;
  }
  doc.commit(opts);

  Phase apply;
  char ch[2] = {0, 0};
  for (const auto& e : trace) {
    ch[0] = e.ch;
    auto s =
        doc.splice_text(*text, e.pos, e.del, e.del ? std::string_view{} : std::string_view(ch, 1));
    if (!s) {
      std::cerr << "splice failed: " << s.error().to_string() << "\n";
      return 1;
    }
    if (one_change_per_edit) doc.commit(opts);
  }
  doc.commit(opts);
  apply.stop();
  const bool apply_ok = doc.text(*text) == expected;

  Phase save;
  const peat::Bytes saved = doc.save();
  save.stop();
  if (one_change_per_edit) {  // for the Node side: npm loads and syncs the same history
    std::ofstream out(trace_path + ".many.automerge", std::ios::binary);
    out.write(reinterpret_cast<const char*>(saved.data()),
              static_cast<std::streamsize>(saved.size()));
  }

  Phase load;
  auto loaded = peat::doc::Document::load(saved, peat::Bytes(16, 0x43));
  load.stop();
  if (!loaded) {
    std::cerr << "load failed: " << loaded.error().to_string() << "\n";
    return 1;
  }
  const bool load_ok = loaded->text(*text) == expected;
  const long hwm_kb = vm_hwm_kb();
  const std::size_t changes = loaded->changes_info().size();

  // With one change per edit: a sync session of the whole history to an empty peer.
  nlohmann::json sync_result = nullptr;
  if (one_change_per_edit) {
    peat::doc::Document empty(peat::Bytes(16, 0x44));
    peat::doc::sync::State full_state, empty_state;
    int messages = 0;
    std::size_t bytes = 0;
    Phase sync;
    for (int round = 0; round < 10; ++round) {
      auto m1 = peat::doc::sync::generate_sync_message(doc, full_state);
      if (m1) {
        ++messages;
        bytes += m1->size();
        if (!peat::doc::sync::receive_sync_message(empty, empty_state, *m1)) return 1;
      }
      auto m2 = peat::doc::sync::generate_sync_message(empty, empty_state);
      if (m2) {
        ++messages;
        bytes += m2->size();
        if (!peat::doc::sync::receive_sync_message(doc, full_state, *m2)) return 1;
      }
      if (!m1 && !m2) break;
    }
    sync.stop();
    sync_result = {{"sync_ms", sync.wall_ms},
                   {"sync_cpu_ms", sync.cpu_ms},
                   {"messages", messages},
                   {"bytes", bytes},
                   {"ok", empty.get_heads() == doc.get_heads()}};
  }

  nlohmann::json j = {{"apply_ms", apply.wall_ms},
                      {"apply_cpu_ms", apply.cpu_ms},
                      {"save_ms", save.wall_ms},
                      {"save_cpu_ms", save.cpu_ms},
                      {"load_ms", load.wall_ms},
                      {"load_cpu_ms", load.cpu_ms},
                      {"size", saved.size()},
                      {"hwm_kb", hwm_kb},
                      {"changes", changes},
                      {"sync", sync_result},
                      {"ok", apply_ok && load_ok && (sync_result.is_null() || sync_result["ok"])}};
  std::cout << j.dump() << std::endl;
  return 0;
}

std::optional<nlohmann::json> run_child(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  if (rc != 0) {
    std::cerr << "child failed (" << rc << "): " << cmd << "\n";
    return std::nullopt;
  }
  // The last line holding a JSON object is the result.
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '{') last = line;
  }
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "bench_doc_trace";
}

void row(const char* name, const nlohmann::json& j) {
  auto v = [&](const char* k) { return j[k].get<double>(); };
  std::printf("%-33s %8.0f/%-7.0f %6.0f/%-6.0f %6.0f/%-6.0f %9llu %8.1f %5s\n", name, v("apply_ms"),
              v("apply_cpu_ms"), v("save_ms"), v("save_cpu_ms"), v("load_ms"), v("load_cpu_ms"),
              static_cast<unsigned long long>(j["size"].get<std::uint64_t>()), v("hwm_kb") / 1024.0,
              j["ok"].get<bool>() ? "yes" : "NO");
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  bool node = true, many = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--phase" && i + 2 < argc) {
      const std::string phase = argv[i + 1];
      return run_cpp(argv[i + 2], phase == "cpp-many");
    }
    if (a == "--seed" && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else if (a == "--no-node") {
      node = false;
    } else if (a == "--no-many") {
      many = false;
    } else {
      std::cerr << "usage: bench_doc_trace [--seed N] [--no-node] [--no-many]\n";
      return 2;
    }
  }

  const auto trace = peat::bench::make_trace(seed);
  const std::string final_text = peat::bench::apply_to_string(trace);
  char tmpl[] = "/tmp/peat-trace-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return 1;
  close(fd);
  const std::string path = tmpl;
  write_trace(path, trace);
  std::printf("trace: %zu edits (%zu inserts, %zu deletes), seed %llu, final text %zu chars\n\n",
              trace.size(), peat::bench::kTraceInserts, peat::bench::kTraceDeletes,
              static_cast<unsigned long long>(seed), final_text.size());

  std::map<std::string, nlohmann::json> results;
  if (auto j = run_child(self_exe() + " --phase cpp " + path)) results["cpp"] = *j;
  if (many) {
    if (auto j = run_child(self_exe() + " --phase cpp-many " + path)) results["cpp-many"] = *j;
  }
  if (node) {
    std::string cmd = std::string(PEAT_NODE_EXECUTABLE) + " " + PEAT_BENCH_NODE_SCRIPT + " " +
                      path + " " + std::to_string(final_text.size());
    if (results.count("cpp-many")) cmd += " " + path + ".many.automerge";
    if (auto j = run_child(cmd)) results["js"] = *j;
  }
  std::remove(path.c_str());
  std::remove((path + ".many.automerge").c_str());

  std::printf("%-33s %16s %13s %13s %9s %8s %5s\n", "engine", "apply wall/cpu ms", "save w/c ms",
              "load w/c ms", "size B", "peak MB", "same");
  if (results.count("cpp")) row("C++ peat::doc (one change)", results["cpp"]);
  if (results.count("cpp-many")) row("C++ peat::doc (change per edit)", results["cpp-many"]);
  if (results.count("js")) row("npm @automerge/automerge 3.5.0", results["js"]);
  if (results.count("cpp-many") && results["cpp-many"]["sync"].is_object()) {
    const auto& sy = results["cpp-many"]["sync"];
    std::printf(
        "\nC++ sync of the %llu-change history to an empty C++ peer: %.0f ms wall, %.0f ms "
        "cpu, %d messages, %llu bytes, converged: %s\n",
        static_cast<unsigned long long>(results["cpp-many"]["changes"].get<std::uint64_t>()),
        sy["sync_ms"].get<double>(), sy["sync_cpu_ms"].get<double>(), sy["messages"].get<int>(),
        static_cast<unsigned long long>(sy["bytes"].get<std::uint64_t>()),
        sy["ok"].get<bool>() ? "yes" : "NO");
  }
  if (results.count("js") && results["js"]["many"].is_object()) {
    const auto& m = results["js"]["many"];
    std::printf(
        "npm with the C++-saved %llu-change history: load %.0f ms wall / %.0f ms cpu (same "
        "text: %s); sync to an empty npm peer %.0f ms wall, %.0f ms cpu, %d messages, %llu "
        "bytes, converged: %s\n",
        static_cast<unsigned long long>(m["changes"].get<std::uint64_t>()),
        m["load_ms"].get<double>(), m["load_cpu_ms"].get<double>(),
        m["load_ok"].get<bool>() ? "yes" : "NO", m["sync_ms"].get<double>(),
        m["sync_cpu_ms"].get<double>(), m["messages"].get<int>(),
        static_cast<unsigned long long>(m["bytes"].get<std::uint64_t>()),
        m["sync_ok"].get<bool>() ? "yes" : "NO");
  }
  if (results.count("cpp") && results.count("js")) {
    const auto& c = results["cpp"];
    const auto& j = results["js"];
    auto ratio = [&](const char* k) { return c[k].get<double>() / j[k].get<double>(); };
    std::printf(
        "\nC++/JS ratios, one change (wall, cpu): apply %.3f, %.3f; save %.3f, %.3f; "
        "load %.3f, %.3f; size %.3f; peak RSS %.3f\n",
        ratio("apply_ms"), ratio("apply_cpu_ms"), ratio("save_ms"), ratio("save_cpu_ms"),
        ratio("load_ms"), ratio("load_cpu_ms"), ratio("size"), ratio("hwm_kb"));
  }
  const bool all_ok = results.count("cpp") && (!many || results.count("cpp-many")) &&
                      (!node || results.count("js"));
  for (const auto& [k, v] : results) {
    if (!v["ok"].get<bool>()) return 1;
  }
  return all_ok ? 0 : 1;
}
