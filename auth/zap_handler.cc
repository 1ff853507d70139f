#include "auth/zap_handler.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "auth/curve_keys.h"

namespace cw {
namespace {

// Raw 32-byte public key -> the name of its file (without .pub). Unreadable
// files are logged at start-up only (`report`), not at every handshake.
std::map<std::string, std::string> load_allowed_keys(const std::string& dir, bool report = false) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> keys;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() != ".pub") continue;
    try {
      keys.emplace(decode_key(read_public_key(entry.path().string())), entry.path().stem().string());
    } catch (const std::exception& e) {
      if (report) spdlog::warn("ignoring {}: {}", entry.path().string(), e.what());
    }
  }
  if (error && report) spdlog::warn("cannot read the allowed keys in {}: {}", dir, error.message());
  return keys;
}

// One refusal per (domain, key) is logged: a refused client reconnects
// every few seconds, and a log line each time would bury everything else.
constexpr std::size_t kMaxLoggedRefusals = 1024;

struct DomainCounts {
  uint64_t accepted = 0;
  uint64_t refused = 0;
};

}  // namespace

struct ZapHandler::Rep {
  std::map<std::string, std::string> directories;
  void* raw_socket = nullptr;  // closed by ~ZapHandler, after the thread ends
  zmq::socket_ref socket;
  std::atomic<bool> stop{false};
  std::thread thread;
  mutable std::mutex mu;
  std::map<std::string, DomainCounts> counts;
  std::set<std::string> logged_refusals;

  // ZAP request: version, request id, domain, address, identity, mechanism,
  // credentials (CURVE: the client's 32-byte public key).
  void answer(std::vector<zmq::message_t>& request) {
    std::string request_id = request.size() > 1 ? request[1].to_string() : "";
    std::string status = "400", text = "malformed request", user;
    if (request.size() >= 7 && request[0].to_string() == "1.0") {
      const std::string domain = request[2].to_string(), address = request[3].to_string();
      const std::string mechanism = request[5].to_string(), key = request[6].to_string();
      const auto dir = directories.find(domain);
      if (dir == directories.end() || mechanism != "CURVE") {
        text = "unknown domain or mechanism";
      } else {
        const auto keys = load_allowed_keys(dir->second);
        const auto found = keys.find(key);
        std::lock_guard<std::mutex> lock(mu);
        if (found != keys.end()) {
          status = "200", text = "OK", user = found->second;
          ++counts[domain].accepted;
          spdlog::debug("{} client {} at {} let in", domain, user, address);
        } else {
          text = "key not allowed";
          ++counts[domain].refused;
          char z85[41] = {};
          if (key.size() == 32) zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(key.data()), 32);
          if (logged_refusals.size() < kMaxLoggedRefusals && logged_refusals.insert(domain + z85).second)
            spdlog::warn("refused a {} client at {}: its public key {} is not in {}", domain, address, z85, dir->second);
        }
      }
    }
    std::vector<zmq::const_buffer> reply = {zmq::str_buffer("1.0"), zmq::buffer(request_id), zmq::buffer(status),
                                            zmq::buffer(text), zmq::buffer(user), zmq::str_buffer("")};
    zmq::send_multipart(socket, reply);
  }

  void loop() {
    std::vector<zmq::message_t> request;
    while (!stop) {
      zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 1, std::chrono::milliseconds(100));
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        request.clear();
        if (!zmq::recv_multipart(socket, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
        answer(request);
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;
        if (e.num() != EINTR) spdlog::error("authentication handler: {}", e.what());
      }
    }
  }
};

ZapHandler::ZapHandler(void* context, std::map<std::string, std::string> directories) : rep_(std::make_unique<Rep>()) {
  rep_->directories = std::move(directories);
  rep_->raw_socket = zmq_socket(context, ZMQ_REP);
  const int linger = 0;
  if (!rep_->raw_socket || zmq_setsockopt(rep_->raw_socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
      zmq_bind(rep_->raw_socket, "inproc://zeromq.zap.01") != 0) {
    const std::string reason = zmq_strerror(zmq_errno());
    if (rep_->raw_socket) zmq_close(rep_->raw_socket);
    throw std::runtime_error("cannot start the authentication handler: " + reason);
  }
  rep_->socket = zmq::socket_ref(zmq::from_handle, rep_->raw_socket);
  for (const auto& [domain, dir] : rep_->directories) {
    const std::size_t n = load_allowed_keys(dir, /*report=*/true).size();
    rep_->counts[domain];
    if (n == 0) {
      spdlog::warn("no public keys (.pub) in {}: nobody may use the {} socket until one is added", dir, domain);
    } else {
      spdlog::info("{} socket: {} allowed keys in {}", domain, n, dir);
    }
  }
  rep_->thread = std::thread([rep = rep_.get()] { rep->loop(); });
}

ZapHandler::~ZapHandler() {
  rep_->stop = true;
  rep_->thread.join();
  zmq_close(rep_->raw_socket);
}

nlohmann::json ZapHandler::status() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [domain, dir] : rep_->directories) {
    const std::size_t keys = load_allowed_keys(dir).size();
    std::lock_guard<std::mutex> lock(rep_->mu);
    const auto it = rep_->counts.find(domain);
    const DomainCounts counts = it == rep_->counts.end() ? DomainCounts{} : it->second;
    out[domain] = {{"keys_dir", dir}, {"keys", keys}, {"accepted", counts.accepted}, {"refused", counts.refused}};
  }
  return out;
}

}  // namespace cw
