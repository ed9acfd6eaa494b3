// Test driver for the Node interop scripts.
//   interop_automerge_peer dump FILE        -> {"heads":[...],"changes":N,"doc":<to_json>}
//   interop_automerge_peer gen SEED OUT     -> random multi-actor document: OUT (save()) and
//                                              OUT.changes (every change chunk); prints dump
//   interop_automerge_peer peer [N]         -> sync peer on stdin/stdout (see sync_with_cpp.mjs);
//                                              N (0-255) picks its actor
// Peer framing: 4-byte big-endian length, then a payload whose first byte is the command:
//   'L' doc bytes (empty: new document) -> 'K' | 'X' error; also resets the sync state
//   'E' 8-byte BE seed [4-byte BE n]    -> 'K' (n changes of random local edits, default 1)
//   'V'                                 -> 'K'; from now on act as a V1-only peer (no trailer
//                                          sent, trailers received are ignored)
//   'R' sync message                    -> 'K' | 'X' error
//   'G'                                 -> 'S' message | 'N' (nothing to send)
//   'D'                                 -> 'D' dump JSON
//   'P' / 'T' state bytes               -> 'P': 'K' + encoded state; 'T': restore it, 'K' | 'X'
//   'Q'                                 -> exits
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "peat/common/random.hpp"
#include "peat/doc/document.hpp"
#include "peat/doc/sync/sync.hpp"
#include "random_edits.hpp"

namespace {

using peat::Bytes;
using peat::doc::Document;

std::string dump(Document& d) {
  std::string out = "{\"heads\":[";
  const auto heads = d.get_heads();
  for (std::size_t i = 0; i < heads.size(); ++i) {
    if (i) out += ",";
    out += "\"" + peat::to_hex(heads[i]) + "\"";
  }
  out += "],\"changes\":" + std::to_string(d.changes_info().size());
  out += ",\"doc\":" + peat::doc::to_json(d) + "}";
  return out;
}

bool read_file(const std::string& path, Bytes& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

bool write_file(const std::string& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

Bytes actor_for(std::uint64_t seed, std::uint8_t index) {
  Bytes a(16);
  peat::SeededRng rng(seed * 31 + index);
  rng.fill(a);
  a[0] = index;
  return a;
}

int cmd_dump(const std::string& path) {
  Bytes data;
  if (!read_file(path, data)) {
    std::cerr << "cannot read " << path << "\n";
    return 2;
  }
  auto d = Document::load(data, actor_for(0, 0xee));
  if (!d) {
    std::cerr << d.error().to_string() << "\n";
    return 1;
  }
  std::cout << dump(*d) << "\n";
  return 0;
}

// Three actors edit concurrently from a common base, merge, and edit again.
int cmd_gen(std::uint64_t seed, const std::string& out) {
  peat::SeededRng rng(seed);
  Document a(actor_for(seed, 1));
  peat::interop::random_edits(a, rng, 12);
  Document b = a.fork(actor_for(seed, 2));
  Document c = a.fork(actor_for(seed, 3));
  for (int round = 0; round < 3; ++round) {
    peat::interop::random_edits(a, rng, 6);
    peat::interop::random_edits(b, rng, 6);
    peat::interop::random_edits(c, rng, 6);
  }
  if (auto s = a.merge(b); !s) {
    std::cerr << s.error().to_string() << "\n";
    return 1;
  }
  if (auto s = a.merge(c); !s) {
    std::cerr << s.error().to_string() << "\n";
    return 1;
  }
  peat::interop::random_edits(a, rng, 8);
  Bytes changes;
  for (const auto& ch : a.get_changes({})) changes.insert(changes.end(), ch.begin(), ch.end());
  if (!write_file(out, a.save()) || !write_file(out + ".changes", changes)) {
    std::cerr << "cannot write " << out << "\n";
    return 2;
  }
  std::cout << dump(a) << "\n";
  return 0;
}

bool read_frame(Bytes& payload) {
  unsigned char len[4];
  if (std::fread(len, 1, 4, stdin) != 4) return false;
  const std::size_t n = (std::size_t{len[0]} << 24) | (std::size_t{len[1]} << 16) |
                        (std::size_t{len[2]} << 8) | len[3];
  payload.resize(n);
  return n == 0 || std::fread(payload.data(), 1, n, stdin) == n;
}

void write_frame(char kind, const Bytes& body) {
  const std::size_t n = body.size() + 1;
  const unsigned char len[4] = {static_cast<unsigned char>(n >> 24),
                                static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  std::fwrite(len, 1, 4, stdout);
  std::fputc(kind, stdout);
  if (!body.empty()) std::fwrite(body.data(), 1, body.size(), stdout);
  std::fflush(stdout);
}

void reply_status(const peat::Status& s) {
  if (s) {
    write_frame('K', {});
  } else {
    write_frame('X', peat::to_bytes(s.error().to_string()));
  }
}

int cmd_peer(std::uint8_t index) {
  const Bytes me = actor_for(7, index);
  Document doc(me);
  peat::doc::sync::State state;
  bool v1_only = false;
  Bytes frame;
  while (read_frame(frame)) {
    if (frame.empty()) return 3;
    const char kind = static_cast<char>(frame[0]);
    const peat::ByteView body = peat::ByteView(frame).subspan(1);
    switch (kind) {
      case 'L': {
        state = peat::doc::sync::State{};  // a new document starts a new session
        if (body.empty()) {
          doc = Document(me);
          write_frame('K', {});
          break;
        }
        auto loaded = Document::load(body, me);
        if (loaded) doc = std::move(*loaded);
        reply_status(loaded ? peat::Status{} : peat::Status{loaded.error()});
        break;
      }
      case 'E': {
        std::uint64_t seed = 0;
        std::uint32_t changes = 1;
        for (std::size_t i = 0; i < 8 && i < body.size(); ++i) seed = (seed << 8) | body[i];
        if (body.size() >= 12) {
          changes = 0;
          for (std::size_t i = 8; i < 12; ++i) changes = (changes << 8) | body[i];
        }
        peat::SeededRng rng(seed);
        for (std::uint32_t i = 0; i < changes; ++i) {
          peat::interop::random_edits(doc, rng, changes == 1 ? 10 : 2);
        }
        write_frame('K', {});
        break;
      }
      case 'V':
        v1_only = true;
        write_frame('K', {});
        break;
      case 'R': {
        auto m = peat::doc::sync::decode_message(body);
        if (!m) {
          reply_status(m.error());
          break;
        }
        if (v1_only) m->trailer.reset();
        reply_status(peat::doc::sync::receive_message(doc, state, *m));
        break;
      }
      case 'G': {
        auto m = peat::doc::sync::generate_message(doc, state);
        if (m && v1_only) m->trailer.reset();
        write_frame(m ? 'S' : 'N', m ? peat::doc::sync::encode_message(*m) : Bytes{});
        break;
      }
      case 'D':
        write_frame('D', peat::to_bytes(dump(doc)));
        break;
      case 'P':
        write_frame('K', peat::doc::sync::encode_state(state));
        break;
      case 'T': {
        auto s = peat::doc::sync::decode_state(body);
        if (s) state = std::move(*s);
        reply_status(s ? peat::Status{} : peat::Status{s.error()});
        break;
      }
      case 'Q':
        return 0;
      default:
        write_frame('X', peat::to_bytes(std::string("unknown command ") + kind));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "dump" && argc == 3) return cmd_dump(argv[2]);
  if (cmd == "gen" && argc == 4) return cmd_gen(std::stoull(argv[2]), argv[3]);
  if (cmd == "peer" && argc <= 3) {
    return cmd_peer(static_cast<std::uint8_t>(argc == 3 ? std::stoul(argv[2]) : 0xc0));
  }
  std::cerr << "usage: interop_automerge_peer dump FILE | gen SEED OUT | peer [N]\n";
  return 2;
}
