// EtcdServer (see etcd_server.h).
#include "etcd_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "kestrel/test/ports.h"

namespace kestrel {
namespace test {

EtcdServer::EtcdServer() : dir_("etcd"), client_port_(free_loopback_port()), peer_port_(free_loopback_port()) {
  while (peer_port_ == client_port_) peer_port_ = free_loopback_port();
}

EtcdServer::~EtcdServer() { stop(); }

std::string EtcdServer::client_url() const { return "http://127.0.0.1:" + std::to_string(client_port_); }

bool EtcdServer::healthy() const {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", client_port_);
    session.setTimeout(Poco::Timespan(1, 0));
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, "/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
    return resp.getStatus() == Poco::Net::HTTPResponse::HTTP_OK && body.find("true") != std::string::npos;
  } catch (const Poco::Exception&) {
    return false;
  }
}

void EtcdServer::start() {
  if (process_ && process_->running()) return;
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  ++starts_;
  process_ = std::make_unique<ChildProcess>(
      "etcd",
      std::vector<std::string>{"--name", "test", "--data-dir", dir_.file("data"), "--listen-client-urls",
                               client_url(), "--advertise-client-urls", client_url(), "--listen-peer-urls", peer,
                               "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=" + peer,
                               "--initial-cluster-state", "new"},
      dir_.file("etcd-" + std::to_string(starts_) + ".out"), dir_.file("etcd-" + std::to_string(starts_) + ".log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!healthy()) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      const std::string log = process_->stderr_text();
      stop();
      throw std::runtime_error("etcd did not become healthy on " + client_url() + ": " +
                               log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void EtcdServer::stop() {
  if (!process_) return;
  process_->kill();
  process_->wait_for(std::chrono::seconds(10));
  process_.reset();
}

}  // namespace test
}  // namespace kestrel
