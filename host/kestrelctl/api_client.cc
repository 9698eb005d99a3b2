#include "kestrelctl/api_client.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>

namespace kestrel::ctl {

std::string ApiReply::error_message() const {
  if (json && json->has("error")) return json->getValue<std::string>("error");
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

ApiClient::ApiClient(const std::string& base_url, std::string token) : base_url_(base_url), token_(std::move(token)) {
  Poco::URI uri;
  try {
    uri = Poco::URI(base_url);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("--api '" + base_url + "' is not a URL: " + e.displayText());
  }
  if (uri.getScheme() != "http" || uri.getHost().empty())
    throw std::invalid_argument("--api '" + base_url + "' must be an http:// URL such as http://127.0.0.1:8000");
  host_ = uri.getHost();
  port_ = uri.getPort();
  prefix_ = uri.getPath();
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

ApiReply ApiClient::call(const std::string& method, const std::string& path, const std::string& body) const {
  ApiReply reply;
  try {
    Poco::Net::HTTPClientSession session(host_, port_);
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, prefix_ + path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token_.empty()) request.set("Authorization", "Bearer " + token_);
    request.set("Accept", "application/json");
    if (!body.empty() || method == "POST") {
      request.setContentType("application/json");
      request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    std::ostream& out = session.sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Poco::StreamCopier::copyToString(in, reply.body);
    reply.status = static_cast<int>(response.getStatus());
  } catch (const Poco::Exception& e) {
    throw ConnectError("cannot reach the App API at " + base_url_ + ": " + e.displayText());
  }
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(reply.body);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) reply.json = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    // Not JSON (e.g. /metrics or a proxy's error page): json stays null.
  }
  return reply;
}

}  // namespace kestrel::ctl
