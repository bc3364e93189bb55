// sektorbro-ctl: the operators' command line. It talks to a running broker's HTTP API.
//
//   sektorbro-ctl [--broker URL] COMMAND [ARGS]
//
//   health                         is the broker ready; queue sizes
//   messages [STATE] [ENDPOINT]    messages, optionally by state and endpoint
//   dead-letters                   what delivery gave up on
//   show SENDER_GLN LETTER_ID      one message with its timeline (CPR masked)
//   requeue SENDER_GLN LETTER_ID   deliver a dead-lettered or refused message again
//   --json                         print the broker's JSON instead of a table
//
// The broker URL defaults to $SEKTORBRO_URL or http://127.0.0.1:8440. Exit status: 0 on
// success, 1 when the broker answered with an error, 2 on usage errors or no answer.
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

struct Answer {
  long status = 0;
  std::string body;
  std::string error;
};

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Answer call(const std::string& url, bool post) {
  Answer a;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  }
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  } else {
    a.error = curl_easy_strerror(rc);
  }
  curl_easy_cleanup(curl);
  return a;
}

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return "";
  const auto& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

void print_messages(const nlohmann::json& body) {
  std::printf("%-8s %-14s %-12s %-12s %-22s %-14s %-9s %s\n", "ID", "LETTER", "FROM", "TO", "TYPE",
              "STATE", "RECEIPT", "ATTEMPTS");
  for (const auto& m : body.value("messages", nlohmann::json::array())) {
    const auto& letter = m["letters"][0];
    std::printf("%-8s %-14s %-12s %-12s %-22s %-14s %-9s %s\n", text(m, "message_id").c_str(),
                text(letter, "id").c_str(), text(m["sender"], "endpoint").c_str(),
                text(m["receiver"], "endpoint").c_str(), text(letter, "type").c_str(),
                text(m, "state").c_str(), text(m, "receipt").c_str(), text(m, "attempts").c_str());
  }
  if (body.contains("next_after"))
    std::printf("(more: add after=%s)\n", text(body, "next_after").c_str());
}

void print_message(const nlohmann::json& m) {
  std::printf("message #%s, envelope %s\n", text(m, "message_id").c_str(),
              text(m, "envelope_id").c_str());
  std::printf("from %s (%s) to %s (%s)\n", text(m["sender"], "endpoint").c_str(),
              text(m["sender"], "gln").c_str(), text(m["receiver"], "endpoint").c_str(),
              text(m["receiver"], "gln").c_str());
  for (const auto& l : m["letters"])
    std::printf("letter %s: %s %s patient %s\n", text(l, "id").c_str(), text(l, "type").c_str(),
                text(l, "status").c_str(),
                l.contains("patient") ? text(l, "patient").c_str() : "-");
  std::printf("state %s after %s attempt(s), receipt %s\n", text(m, "state").c_str(),
              text(m, "attempts").c_str(), text(m, "receipt").c_str());
  for (const auto& e : m["timeline"])
    std::printf("  %s  %-16s %s\n", text(e, "at").c_str(), text(e, "event").c_str(),
                text(e, "detail").c_str());
}

int usage() {
  std::cerr << "usage: sektorbro-ctl [--broker URL] [--json] COMMAND [ARGS]\n"
               "commands: health | messages [STATE] [ENDPOINT] | dead-letters |\n"
               "          show SENDER_GLN LETTER_ID | requeue SENDER_GLN LETTER_ID\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker =
      std::getenv("SEKTORBRO_URL") ? std::getenv("SEKTORBRO_URL") : "http://127.0.0.1:8440";
  bool json = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--broker" && i + 1 < argc) {
      broker = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) return usage();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string& cmd = args[0];
  std::string path;
  bool post = false;
  if (cmd == "health" && args.size() == 1) {
    path = "/v1/health";
  } else if (cmd == "messages" && args.size() <= 3) {
    path = "/v1/messages?limit=100";
    if (args.size() >= 2) path += "&state=" + args[1];
    if (args.size() == 3) path += "&endpoint=" + args[2];
  } else if (cmd == "dead-letters" && args.size() == 1) {
    path = "/v1/dead-letters";
  } else if ((cmd == "show" || cmd == "requeue") && args.size() == 3) {
    path = "/v1/messages/" + args[1] + "/" + args[2] + (cmd == "requeue" ? "/requeue" : "");
    post = cmd == "requeue";
  } else {
    return usage();
  }
  const Answer a = call(broker + path, post);
  if (a.status == 0) {
    std::cerr << "sektorbro-ctl: no answer from " << broker << ": " << a.error << "\n";
    return 2;
  }
  const auto body = nlohmann::json::parse(a.body, nullptr, false);
  if (json || body.is_discarded()) {
    std::cout << a.body;
  } else if (a.status >= 400) {
    std::cerr << "sektorbro-ctl: " << a.status << ": " << text(body, "error") << "\n";
  } else if (cmd == "messages" || cmd == "dead-letters") {
    print_messages(body);
  } else if (cmd == "show") {
    print_message(body);
  } else {
    std::cout << body.dump(2) << "\n";
  }
  return a.status >= 400 ? 1 : 0;
}
