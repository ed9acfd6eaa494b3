// Support for the in-process node tests: the HTTP client of tests/support, a temporary
// folder, and a log sink that keeps every line spdlog writes (to read what the node logged).
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/scratch_dir.hpp"

namespace peat::mesh::testing {

// Blocking HTTP/1.1 requests to 127.0.0.1 (tests/support/http_client.hpp).
using peat::test::http_request;
using peat::test::HttpReply;

// multipart/form-data body with a "firmware" file part and a "version" text part, and its
// Content-Type header value.
std::pair<std::string, std::string> firmware_form(const std::string& firmware,
                                                  const std::string& version);

using TempDir = peat::test::ScratchDir;

// Installs itself as the default logger's only sink for its lifetime.
class CapturedLog {
 public:
  CapturedLog();
  ~CapturedLog();
  std::vector<std::string> lines() const;
  // The rest of the first line that contains `prefix`, after it.
  std::optional<std::string> after(const std::string& prefix) const;

 private:
  class Sink;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace peat::mesh::testing
