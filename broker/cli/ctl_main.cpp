// sektorbro-ctl: the operators' command line over a running broker's operators' API.
// `sektorbro-ctl --help` and `sektorbro-ctl help COMMAND` print the usage; CtlSettings says
// where the broker URL and credentials come from. Exit status: 0 on success, 1 when the broker
// answered with an error (or a requeue of many was partly refused), 2 on usage or settings
// errors or when the broker did not answer.
#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "broker/cli/ctl_client.hpp"
#include "broker/cli/ctl_settings.hpp"

namespace sektorbro::ctl {
namespace {

struct CommandHelp {
  const char* name;
  const char* synopsis;
  const char* text;
};

const CommandHelp kCommands[] = {
    {"health", "health", "Is the broker ready; its clock; queue sizes and commit counters."},
    {"messages",
     "messages [STATE] [ENDPOINT] [--from TIME] [--to TIME] [--envelope ID] [--receipt-missing]\n"
     "         [--limit N] [--before ID | --after ID] [--all]",
     "Messages newest first, optionally by STATE (pending, delivered, refused, dead-lettered)\n"
     "and ENDPOINT (sender or receiver). A page holds --limit messages (default 100, at most\n"
     "1000); the line \"more: …\" under a full page is the command for the next (older) page.\n"
     "--after ID lists oldest first from that id instead. --all follows every page.\n"
     "Search (served from the broker's indexes): --from/--to TIME received in [from, to), an\n"
     "instant with a zone (2026-11-20T09:30:00Z); --envelope ID; --receipt-missing: delivered\n"
     "messages whose receipt never came after the last resend."},
    {"dead-letters", "dead-letters [ENDPOINT] [--limit N] [--before ID | --after ID] [--all]",
     "What delivery gave up on, paged like messages."},
    {"show", "show [SENDER_GLN] LETTER_ID",
     "A message with its timeline, receipts and deadline (CPR numbers masked). Without the\n"
     "sender's GLN, every message holding a letter with that id (ids are unique per sender)."},
    {"requeue", "requeue SENDER_GLN LETTER_ID | requeue --dead-letters [ENDPOINT]",
     "Deliver a dead-lettered or refused message again (the acting role only). With\n"
     "--dead-letters: every dead letter (of ENDPOINT), with progress on stderr and a summary\n"
     "line; exit status 1 if any was refused."},
    {"overdue", "overdue [ENDPOINT] [--limit N] [--offset N]",
     "Replies owed past their deadline: owing unit, form, age, due date, reminders sent."},
    {"deadlines", "deadlines [VIEW] [ENDPOINT] [--limit N] [--offset N]",
     "Replies owed. VIEW: open (default), due-soon, overdue, answered-late, all."},
    {"stats", "stats [certificates|mentor-responses] [FROM] [TO] [--csv]",
     "Per unit (or jobcenter) and month: received, on time, late, open, overdue, late share,\n"
     "median and 90th-percentile days to answer; mentor responses add discharge-notice lead\n"
     "times. Months as YYYY-MM (default: the last twelve)."},
    {"help", "help [COMMAND]", "This text, or one command's."},
};

const char* kGeneral =
    "usage: sektorbro-ctl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "options (each also from the environment or the configuration file):\n"
    "  --broker URL       the broker's operators' API      SEKTORBRO_URL     broker\n"
    "                     (default http://127.0.0.1:8440)\n"
    "  --cacert FILE      CA bundle that verifies https    SEKTORBRO_CACERT  cacert\n"
    "  --cert FILE        operator client certificate      SEKTORBRO_CERT    cert\n"
    "  --key FILE         its private key                  SEKTORBRO_KEY     key\n"
    "  --token TOKEN      operator bearer token            SEKTORBRO_TOKEN   token\n"
    "  --token-file FILE  the token, from a file           SEKTORBRO_TOKEN_FILE token_file\n"
    "  --config FILE      configuration file               SEKTORBRO_CONFIG\n"
    "                     (default ~/.config/sektorbro/ctl.conf: key = value lines)\n"
    "  --json             print the broker's JSON\n"
    "  --csv              stats as CSV\n"
    "  -h, --help         this text; COMMAND --help for one command\n"
    "A flag wins over the environment, the environment over the file.\n"
    "\n"
    "commands:\n";

void print_help(std::ostream& out) {
  out << kGeneral;
  for (const auto& c : kCommands) out << "  " << c.synopsis << "\n";
  out << "\nexit status: 0 done, 1 the broker refused, 2 usage, settings or no answer\n";
}

bool print_command_help(const std::string& name, std::ostream& out) {
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    out << "usage: sektorbro-ctl [OPTIONS] " << c.synopsis << "\n\n" << c.text << "\n";
    return true;
  }
  return false;
}

int usage_error(const std::string& why) {
  std::cerr << "sektorbro-ctl: " << why << "\n(sektorbro-ctl --help for the usage)\n";
  return 2;
}

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const auto& v = j[key];
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Pads to `width` characters (not bytes): form codes such as "LÆ125" are UTF-8.
std::string pad(const std::string& s, std::size_t width) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return s + std::string(width > chars ? width - chars : 0, ' ');
}

void print_messages_header() {
  std::printf("%-8s %-14s %-12s %-12s %-22s %-14s %-9s %s\n", "ID", "LETTER", "FROM", "TO", "TYPE",
              "STATE", "RECEIPT", "ATTEMPTS");
}

void print_messages_rows(const nlohmann::json& body) {
  for (const auto& m : body.value("messages", nlohmann::json::array())) {
    const auto& letter = m["letters"][0];
    std::printf("%-8s %-14s %-12s %-12s %-22s %-14s %-9s %s\n", text(m, "message_id").c_str(),
                text(letter, "id").c_str(), text(m["sender"], "endpoint").c_str(),
                text(m["receiver"], "endpoint").c_str(), text(letter, "type").c_str(),
                text(m, "state").c_str(), text(m, "receipt").c_str(), text(m, "attempts").c_str());
  }
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

// The parsed command line.
struct Invocation {
  Flags flags;
  bool json = false, csv = false, help = false, all = false, dead_letters = false;
  std::optional<std::string> limit, after, before, offset;
  std::optional<std::string> from, to, envelope;  // messages: search (issue 10)
  bool receipt_missing = false;
  std::vector<std::string> args;
};

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Reports an error via the return value: empty on success.
std::string parse_command_line(int argc, char** argv, Invocation& inv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::optional<std::string>& into) -> std::string {
      if (i + 1 >= argc) return a + " needs a value";
      into = argv[++i];
      return "";
    };
    std::string err;
    if (a == "--broker") {
      err = value(inv.flags.broker);
    } else if (a == "--cacert") {
      err = value(inv.flags.cacert);
    } else if (a == "--cert") {
      err = value(inv.flags.cert);
    } else if (a == "--key") {
      err = value(inv.flags.key);
    } else if (a == "--token") {
      err = value(inv.flags.token);
    } else if (a == "--token-file") {
      err = value(inv.flags.token_file);
    } else if (a == "--config") {
      err = value(inv.flags.config);
    } else if (a == "--limit") {
      err = value(inv.limit);
    } else if (a == "--after") {
      err = value(inv.after);
    } else if (a == "--before") {
      err = value(inv.before);
    } else if (a == "--offset") {
      err = value(inv.offset);
    } else if (a == "--from") {
      err = value(inv.from);
    } else if (a == "--to") {
      err = value(inv.to);
    } else if (a == "--envelope") {
      err = value(inv.envelope);
    } else if (a == "--receipt-missing") {
      inv.receipt_missing = true;
    } else if (a == "--json") {
      inv.json = true;
    } else if (a == "--csv") {
      inv.csv = true;
    } else if (a == "--all") {
      inv.all = true;
    } else if (a == "--dead-letters") {
      inv.dead_letters = true;
    } else if (a == "-h" || a == "--help") {
      inv.help = true;
    } else if (a.rfind("after=", 0) == 0) {  // the form earlier versions printed
      inv.after = a.substr(6);
    } else if (a.rfind("limit=", 0) == 0) {
      inv.limit = a.substr(6);
    } else if (a.rfind("offset=", 0) == 0) {
      inv.offset = a.substr(7);
    } else if (a.size() > 1 && a[0] == '-') {
      return "unknown option " + a;
    } else {
      inv.args.push_back(a);
    }
    if (!err.empty()) return err;
  }
  for (const auto* v : {&inv.limit, &inv.after, &inv.before, &inv.offset})
    if (*v && !is_number(**v)) return "--limit, --after, --before and --offset take a number";
  if (inv.after && inv.before) return "give --before or --after, not both";
  return "";
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Answers the broker gave that are not a success: prints them; returns the exit status.
int report_failure(const Answer& a, const std::string& broker) {
  if (a.status == 0) {
    std::cerr << "sektorbro-ctl: no answer from " << broker << ": " << a.error << "\n";
    return 2;
  }
  const auto body = nlohmann::json::parse(a.body, nullptr, false);
  std::cerr << "sektorbro-ctl: " << a.status << ": "
            << (body.is_discarded() ? a.body : text(body, "error")) << "\n";
  if (a.status == 401)
    std::cerr << "(give an operator's credentials: --token, --token-file or --cert/--key)\n";
  return 1;
}

// The command line that shows the next page, as the operator typed it plus --after/--offset.
std::string next_page_command(const Invocation& inv, const std::string& option,
                              const std::string& value) {
  std::string cmd = "sektorbro-ctl";
  for (const auto& a : inv.args) cmd += " " + a;
  if (inv.limit) cmd += " --limit " + *inv.limit;
  if (inv.from) cmd += " --from " + *inv.from;
  if (inv.to) cmd += " --to " + *inv.to;
  if (inv.envelope) cmd += " --envelope " + *inv.envelope;
  if (inv.receipt_missing) cmd += " --receipt-missing";
  return cmd + " " + option + " " + value;
}

int list_messages(CtlClient& client, const Invocation& inv, bool dead) {
  const auto& args = inv.args;
  std::string base = dead ? "/v1/dead-letters?" : "/v1/messages?";
  base += "limit=" + (inv.limit ? *inv.limit : std::string("100"));
  if (!dead && args.size() >= 2) base += "&state=" + url_encode(args[1]);
  const std::size_t endpoint_at = dead ? 1 : 2;
  if (args.size() > endpoint_at) base += "&endpoint=" + url_encode(args[endpoint_at]);
  if (inv.from) base += "&from=" + url_encode(*inv.from);
  if (inv.to) base += "&to=" + url_encode(*inv.to);
  if (inv.envelope) base += "&envelope=" + url_encode(*inv.envelope);
  if (inv.receipt_missing) base += "&receipt=missing";
  // Newest first, paged on with before=; with --after, oldest first from that id (issue 12,
  // item 14).
  const bool forward = inv.after.has_value();
  const std::string param = forward ? "after" : "before";
  const std::string next_key = forward ? "next_after" : "next_before";
  std::string from = forward ? *inv.after : (inv.before ? *inv.before : "");
  bool first = true;
  for (;;) {
    const Answer a = client.get(base + (from.empty() ? "" : "&" + param + "=" + from));
    if (a.status != 200) return report_failure(a, client.broker());
    const auto body = nlohmann::json::parse(a.body, nullptr, false);
    if (inv.json) {
      std::cout << a.body << (a.body.ends_with("\n") ? "" : "\n");
    } else {
      if (first) print_messages_header();
      print_messages_rows(body);
    }
    first = false;
    if (!body.contains(next_key)) return 0;
    from = text(body, next_key.c_str());
    if (!inv.all) {
      if (!inv.json) std::printf("more: %s\n", next_page_command(inv, "--" + param, from).c_str());
      return 0;
    }
  }
}

int list_deadlines(CtlClient& client, const Invocation& inv) {
  const auto& args = inv.args;
  const bool overdue = args[0] == "overdue";
  const std::string view = overdue ? "overdue" : (args.size() >= 2 ? args[1] : "open");
  const std::string endpoint =
      overdue ? (args.size() == 2 ? args[1] : "") : (args.size() == 3 ? args[2] : "");
  const std::string limit = inv.limit ? *inv.limit : "1000";
  std::string path = "/v1/deadlines?limit=" + limit + "&view=" + url_encode(view);
  if (!endpoint.empty()) path += "&endpoint=" + url_encode(endpoint);
  const long offset = inv.offset ? std::stol(*inv.offset) : 0;
  if (offset > 0) path += "&offset=" + std::to_string(offset);
  const Answer a = client.get(path);
  if (a.status != 200) return report_failure(a, client.broker());
  const auto body = nlohmann::json::parse(a.body, nullptr, false);
  if (inv.json) {
    std::cout << a.body << "\n";
    return 0;
  }
  print_deadlines(body);
  const auto shown = body.value("deadlines", nlohmann::json::array()).size();
  if (shown == std::stoul(limit))
    std::printf("more: %s\n",
                next_page_command(inv, "--offset", std::to_string(offset + long(shown))).c_str());
  return 0;
}

// requeue --dead-letters [ENDPOINT]: lists every dead letter first (ids do not move while the
// list is read), then requeues them one by one with progress on stderr.
int requeue_dead_letters(CtlClient& client, const Invocation& inv) {
  std::vector<std::pair<std::string, std::string>> todo;  // sender GLN, letter id
  std::string base = "/v1/dead-letters?limit=1000";
  if (inv.args.size() == 2) base += "&endpoint=" + url_encode(inv.args[1]);
  std::string after = "0";  // oldest first, so the ids ahead do not move while it reads
  for (;;) {
    const Answer a = client.get(base + "&after=" + after);
    if (a.status != 200) return report_failure(a, client.broker());
    const auto body = nlohmann::json::parse(a.body, nullptr, false);
    for (const auto& m : body.value("messages", nlohmann::json::array()))
      todo.emplace_back(text(m["sender"], "gln"), text(m["letters"][0], "id"));
    if (!body.contains("next_after")) break;
    after = text(body, "next_after");
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const std::size_t step = std::max<std::size_t>(1, todo.size() / 10);
  std::size_t requeued = 0, refused = 0, failed = 0;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const auto& [gln, letter] = todo[i];
    const Answer a =
        client.post("/v1/messages/" + url_encode(gln) + "/" + url_encode(letter) + "/requeue");
    if (a.status == 200) {
      ++requeued;
    } else {
      if (tty) std::cerr << "\n";
      const auto body = nlohmann::json::parse(a.body, nullptr, false);
      std::cerr << "letter " << letter << " from " << gln << ": "
                << (a.status == 0 ? "no answer: " + a.error
                                  : std::to_string(a.status) + " " + text(body, "error"))
                << "\n";
      (a.status == 0 || a.status >= 500 ? failed : refused) += 1;
      if (a.status == 401 || a.status == 403) break;  // the next ones would be refused alike
    }
    const std::size_t done = i + 1;
    if (tty) {
      std::cerr << "\rrequeueing " << done << "/" << todo.size() << std::flush;
    } else if (done % step == 0 || done == todo.size()) {
      std::cerr << "requeueing " << done << "/" << todo.size() << "\n";
    }
  }
  if (tty && !todo.empty()) std::cerr << "\n";
  const std::size_t skipped = todo.size() - requeued - refused - failed;
  std::printf("requeue: %zu of %zu dead letters requeued, %zu refused, %zu failed", requeued,
              todo.size(), refused, failed);
  if (skipped) std::printf(", %zu not tried", skipped);
  std::printf("\n");
  return requeued == todo.size() ? 0 : 1;
}

int run(int argc, char** argv) {
  Invocation inv;
  if (const std::string err = parse_command_line(argc, argv, inv); !err.empty())
    return usage_error(err);
  if (inv.args.empty() || inv.args[0] == "help") {
    if (inv.args.size() >= 2) {
      if (!print_command_help(inv.args[1], std::cout))
        return usage_error("no command '" + inv.args[1] + "'");
      return 0;
    }
    if (inv.args.empty() && !inv.help) {
      print_help(std::cerr);
      return 2;
    }
    print_help(std::cout);
    return 0;
  }
  const std::string cmd = inv.args[0];
  if (inv.help) {
    if (!print_command_help(cmd, std::cout)) return usage_error("no command '" + cmd + "'");
    return 0;
  }
  auto settings = resolve_settings(
      inv.flags,
      [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
      },
      read_whole_file);
  if (!settings) return usage_error(settings.error().detail);
  if (!settings->config_file.empty() && !settings->token.empty()) {
    struct stat st {};
    if (stat(settings->config_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      std::cerr << "sektorbro-ctl: warning: " << settings->config_file
                << " can be read by others (chmod 600 it: it may hold a token)\n";
  }
  CtlClient client(*settings);
  const auto& args = inv.args;
  const std::size_t n = args.size();

  if (cmd == "messages" && n <= 3) return list_messages(client, inv, false);
  if (cmd == "dead-letters" && n <= 2) return list_messages(client, inv, true);
  if ((cmd == "overdue" && n <= 2) || (cmd == "deadlines" && n <= 3))
    return list_deadlines(client, inv);
  if (cmd == "requeue" && inv.dead_letters && n <= 2) return requeue_dead_letters(client, inv);

  std::string path;
  bool post = false;
  if (cmd == "health" && n == 1) {
    path = "/v1/health";
  } else if (cmd == "show" && n == 2) {
    path = "/v1/letters/" + url_encode(args[1]);
  } else if (cmd == "stats" && n <= 4) {
    const std::string what = n >= 2 ? args[1] : "certificates";
    if (what != "certificates" && what != "mentor-responses")
      return usage_error("stats shows certificates or mentor-responses");
    path = "/v1/stats/" + what + "?format=" + (inv.csv ? "csv" : "json");
    if (n >= 3) path += "&from=" + url_encode(args[2]);
    if (n >= 4) path += "&to=" + url_encode(args[3]);
  } else if ((cmd == "show" || cmd == "requeue") && n == 3) {
    path = "/v1/messages/" + url_encode(args[1]) + "/" + url_encode(args[2]) +
           (cmd == "requeue" ? "/requeue" : "");
    post = cmd == "requeue";
  } else {
    bool known = false;
    for (const auto& c : kCommands) known = known || cmd == c.name;
    if (!known) return usage_error("no command '" + cmd + "'");
    std::cerr << "sektorbro-ctl: wrong arguments for " << cmd << "\n";
    print_command_help(cmd, std::cerr);
    return 2;
  }
  const Answer a = post ? client.post(path) : client.get(path);
  if (a.status == 0 || a.status >= 400) return report_failure(a, client.broker());
  const auto body = nlohmann::json::parse(a.body, nullptr, false);
  if (inv.json || body.is_discarded()) {
    std::cout << a.body;
    if (!a.body.ends_with("\n")) std::cout << "\n";
  } else if (cmd == "show" && n == 2) {
    const auto& found = body["messages"];
    if (found.empty()) {
      std::cerr << "sektorbro-ctl: no letter " << args[1] << "\n";
      return 1;
    }
    for (const auto& m : found) {
      const Answer one = client.get("/v1/messages/" + url_encode(text(m["sender"], "gln")) + "/" +
                                    url_encode(args[1]));
      if (one.status != 200) return report_failure(one, client.broker());
      print_message(nlohmann::json::parse(one.body, nullptr, false));
    }
  } else if (cmd == "show") {
    print_message(body);
  } else if (cmd == "stats") {
    print_stats(body, n >= 2 && args[1] == "mentor-responses");
  } else if (cmd == "requeue") {
    std::printf("requeued: message #%s (letter %s from %s)\n", text(body, "requeued").c_str(),
                args[2].c_str(), args[1].c_str());
  } else {
    std::cout << body.dump(2) << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace sektorbro::ctl

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int status = sektorbro::ctl::run(argc, argv);
  curl_global_cleanup();
  return status;
}
