#include "mesh/node_test_support.hpp"

namespace peat::mesh::testing {

std::pair<std::string, std::string> firmware_form(const std::string& firmware,
                                                  const std::string& version) {
  const std::string boundary = "node-test-7f3a91";
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"fw.bin\"" +
                     "\r\nContent-Type: application/octet-stream\r\n\r\n" + firmware + "\r\n--" +
                     boundary + "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n" +
                     version + "\r\n--" + boundary + "--\r\n";
  return {body, "multipart/form-data; boundary=" + boundary};
}

class CapturedLog::Sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

CapturedLog::CapturedLog() : sink_(std::make_shared<Sink>()), previous_(spdlog::default_logger()) {
  auto logger = std::make_shared<spdlog::logger>("captured", sink_);
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

CapturedLog::~CapturedLog() {
  spdlog::set_default_logger(previous_);
}

std::vector<std::string> CapturedLog::lines() const {
  return sink_->copy();
}

std::optional<std::string> CapturedLog::after(const std::string& prefix) const {
  for (const auto& line : sink_->copy()) {
    auto at = line.find(prefix);
    if (at != std::string::npos) return line.substr(at + prefix.size());
  }
  return std::nullopt;
}

}  // namespace peat::mesh::testing
