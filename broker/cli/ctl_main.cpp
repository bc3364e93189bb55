// sektorbro-ctl: the operators' command line. It talks to a running broker's HTTP API.
//
//   sektorbro-ctl [--broker URL] COMMAND [ARGS]
//
//   health                         is the broker ready; queue sizes
//   messages [STATE] [ENDPOINT]    messages, optionally by state and endpoint
//   dead-letters                   what delivery gave up on
//   show LETTER_ID                 the message(s) holding that letter, with timeline and deadline
//   show SENDER_GLN LETTER_ID      one message with its timeline (CPR masked)
//   overdue [ENDPOINT]             replies owed past their deadline
//   deadlines [VIEW] [ENDPOINT]    VIEW: open (default), due-soon, overdue, answered-late, all
//   stats [certificates|mentor-responses] [FROM] [TO] [--csv]
//                                  per unit and month: received, on time, late, open, late
//                                  share, median and p90 days to answer (months as YYYY-MM)
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
  if (v.is_null()) return "-";
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

// Pads to `width` characters (not bytes): form codes such as "LÆ125" are UTF-8.
std::string pad(const std::string& s, std::size_t width) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return s + std::string(width > chars ? width - chars : 0, ' ');
}

void print_deadlines(const nlohmann::json& body) {
  std::printf("now %s\n", text(body, "now").c_str());
  std::printf("%-14s %-16s %-13s %-12s %-7s %-6s %-10s %-20s %-8s %s\n", "LETTER", "KIND", "FROM",
              "OWED BY", "FORM", "AGE", "DUE", "STATE", "OVERDUE", "REMINDERS");
  for (const auto& d : body.value("deadlines", nlohmann::json::array())) {
    std::string state = text(d, "state");
    if (d.contains("days_late")) state += " +" + text(d, "days_late") + "d";
    std::printf("%-14s %-16s %-13s %-12s %s %-6s %-10s %-20s %-8s %s\n",
                text(d["request"], "letter_id").c_str(), text(d, "kind").c_str(),
                text(d, "owed_to").c_str(), text(d, "owed_by").c_str(),
                pad(d.contains("form") ? text(d, "form") : "-", 7).c_str(),
                (text(d, "age_days") + "d").c_str(), text(d, "due").c_str(), state.c_str(),
                d.value("overdue", false) ? "yes" : "no", text(d, "reminders_sent").c_str());
  }
}

std::string share(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", v.get<double>() * 100);
  return buf;
}

void print_stats(const nlohmann::json& body, bool mentor) {
  std::printf("%-14s %-8s %8s %8s %6s %6s %8s %6s %7s %5s%s\n", mentor ? "JOBCENTER" : "UNIT",
              "MONTH", "RECEIVED", "ON TIME", "LATE", "OPEN", "OVERDUE", "LATE%", "MEDIAN", "P90",
              mentor ? "  LEAD-MEDIAN AFTER-DISCHARGE" : "");
  for (const auto& r : body.value("rows", nlohmann::json::array())) {
    std::printf("%-14s %-8s %8s %8s %6s %6s %8s %6s %7s %5s",
                text(r, mentor ? "jobcenter" : "unit").c_str(), text(r, "month").c_str(),
                text(r, "received").c_str(), text(r, "answered_on_time").c_str(),
                text(r, "answered_late").c_str(), text(r, "open").c_str(),
                text(r, "overdue").c_str(), share(r["late_share"]).c_str(),
                text(r, "median_days_to_answer").c_str(), text(r, "p90_days_to_answer").c_str());
    if (mentor)
      std::printf("  %11s %15s", text(r, "median_lead_time_days").c_str(),
                  text(r, "notices_after_discharge").c_str());
    std::printf("\n");
  }
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
  if (m.contains("deadline")) {
    const auto& d = m["deadline"];
    std::printf("deadline: %s owed by %s, due %s, %s%s\n", text(d, "kind").c_str(),
                text(d, "owed_by").c_str(), text(d, "due").c_str(), text(d, "state").c_str(),
                d.value("overdue", false) ? " (OVERDUE)" : "");
  }
  for (const auto& e : m["timeline"])
    std::printf("  %s  %-18s %s\n", text(e, "at").c_str(), text(e, "event").c_str(),
                text(e, "detail").c_str());
}

int usage() {
  std::cerr << "usage: sektorbro-ctl [--broker URL] [--json] COMMAND [ARGS]\n"
               "commands: health | messages [STATE] [ENDPOINT] | dead-letters |\n"
               "          show [SENDER_GLN] LETTER_ID | requeue SENDER_GLN LETTER_ID |\n"
               "          overdue [ENDPOINT] | deadlines [VIEW] [ENDPOINT] |\n"
               "          stats [certificates|mentor-responses] [FROM] [TO] [--csv]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker =
      std::getenv("SEKTORBRO_URL") ? std::getenv("SEKTORBRO_URL") : "http://127.0.0.1:8440";
  bool json = false;
  bool csv = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--broker" && i + 1 < argc) {
      broker = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else if (a == "--csv") {
      csv = true;
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
  } else if (cmd == "show" && args.size() == 2) {
    path = "/v1/letters/" + args[1];
  } else if ((cmd == "overdue" && args.size() <= 2) || (cmd == "deadlines" && args.size() <= 3)) {
    const std::string view = cmd == "overdue" ? "overdue" : (args.size() >= 2 ? args[1] : "open");
    const std::string endpoint =
        cmd == "overdue" ? (args.size() == 2 ? args[1] : "") : (args.size() == 3 ? args[2] : "");
    path =
        "/v1/deadlines?limit=1000&view=" + view + (endpoint.empty() ? "" : "&endpoint=" + endpoint);
  } else if (cmd == "stats" && args.size() <= 4) {
    const std::string what = args.size() >= 2 ? args[1] : "certificates";
    if (what != "certificates" && what != "mentor-responses") return usage();
    path = "/v1/stats/" + what + "?format=" + (csv ? "csv" : "json");
    if (args.size() >= 3) path += "&from=" + args[2];
    if (args.size() >= 4) path += "&to=" + args[3];
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
  } else if (cmd == "show" && args.size() == 2) {
    const auto& found = body["messages"];
    if (found.empty()) {
      std::cerr << "sektorbro-ctl: no letter " << args[1] << "\n";
      return 1;
    }
    for (const auto& m : found) {
      const Answer one =
          call(broker + "/v1/messages/" + text(m["sender"], "gln") + "/" + args[1], false);
      const auto detail = nlohmann::json::parse(one.body, nullptr, false);
      if (!detail.is_discarded()) print_message(detail);
    }
  } else if (cmd == "show") {
    print_message(body);
  } else if (cmd == "overdue" || cmd == "deadlines") {
    print_deadlines(body);
  } else if (cmd == "stats") {
    print_stats(body, args.size() >= 2 && args[1] == "mentor-responses");
  } else {
    std::cout << body.dump(2) << "\n";
  }
  return a.status >= 400 ? 1 : 0;
}
