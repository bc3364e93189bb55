#include "broker/delivery/curl_transport.hpp"

#include <pthread.h>

#include <curl/curl.h>

#include <algorithm>
#include <vector>

namespace sektorbro {
namespace {

// A receipt is a few kilobytes; anything near this is not a receipt.
constexpr std::size_t kMaxResponseBytes = 1024 * 1024;
constexpr const char* kUserAgent = "sektorbro/0.1";
constexpr const char* kShuttingDown = "shutting down";
constexpr const char* kTooLarge = "response too large";

std::once_flag g_curl_init;

using DoneFn = std::function<void(TransportResponse)>;

// Runs `done`; a throwing callback must not take down the transfers of every other endpoint.
void finish(DoneFn& done, TransportResponse response) {
  try {
    done(std::move(response));
  } catch (...) {
  }
}

// One transfer in flight. Owns the easy handle and everything libcurl points into
// (CURLOPT_POSTFIELDS does not copy the body).
struct Transfer {
  OutboundRequest request;
  DoneFn done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string response_body;
  bool too_large = false;

  Transfer(OutboundRequest r, DoneFn d) : request(std::move(r)), done(std::move(d)) {}
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (transfer->response_body.size() + n > kMaxResponseBytes) {
    transfer->too_large = true;
    return 0;  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  transfer->response_body.append(data, n);
  return n;
}

// Sets up the easy handle. Returns the first failing option's code.
CURLcode configure(Transfer& t, const TlsClientOptions& tls) {
  CURL* e = t.easy;
  const long timeout_ms = static_cast<long>(std::max<std::int64_t>(t.request.timeout.count(), 1));
  // "Expect:" removes libcurl's 100-continue wait on large bodies; our peers need not send 100.
  for (const std::string& h : {"Content-Type: " + t.request.content_type, std::string("Expect:")}) {
    curl_slist* next = curl_slist_append(t.headers, h.c_str());
    if (next == nullptr) return CURLE_OUT_OF_MEMORY;
    t.headers = next;
  }
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  set(CURLOPT_URL, t.request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer (3xx → transient), not a hop
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_USERAGENT, kUserAgent);
  set(CURLOPT_POST, 1L);
  set(CURLOPT_POSTFIELDS, t.request.body.data());
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.request.body.size()));
  set(CURLOPT_HTTPHEADER, t.headers);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_WRITEFUNCTION, &write_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  // libcurl's defaults, set anyway: a receiver whose certificate or name does not check out is
  // not a receiver.
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!tls.ca_file.empty()) {
    set(CURLOPT_CAINFO, tls.ca_file.c_str());
    // Without this the system's CA directory would be trusted too.
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  if (!tls.certificate_file.empty()) {
    set(CURLOPT_SSLCERT, tls.certificate_file.c_str());
    set(CURLOPT_SSLCERTTYPE, "PEM");
    set(CURLOPT_SSLKEY, tls.key_file.c_str());
    set(CURLOPT_SSLKEYTYPE, "PEM");
  }
  return rc;
}

TransportResponse failure(const char* text) { return TransportResponse{0, {}, text}; }

}  // namespace

struct CurlTransport::Impl {
  TlsClientOptions tls;  // set before the thread starts, read-only after
  CURLM* multi = nullptr;
  std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queue;  // guarded by mu
  bool stopping = false;                        // guarded by mu
  std::thread thread;

  // Owned by the transport thread only.
  std::vector<std::unique_ptr<Transfer>> active;

  void run();
  void start(std::unique_ptr<Transfer> transfer);
  void complete(CURL* easy, CURLcode result);
  void abort_all();
};

void CurlTransport::Impl::start(std::unique_ptr<Transfer> t) {
  t->easy = curl_easy_init();
  if (t->easy == nullptr) return finish(t->done, failure("cannot create a transfer"));
  if (const CURLcode rc = configure(*t, tls); rc != CURLE_OK)
    return finish(t->done, failure(curl_easy_strerror(rc)));
  if (const CURLMcode rc = curl_multi_add_handle(multi, t->easy); rc != CURLM_OK)
    return finish(t->done, failure(curl_multi_strerror(rc)));
  active.push_back(std::move(t));
}

void CurlTransport::Impl::complete(CURL* easy, CURLcode result) {
  const auto it =
      std::find_if(active.begin(), active.end(), [easy](const auto& t) { return t->easy == easy; });
  if (it == active.end()) return;
  std::unique_ptr<Transfer> t = std::move(*it);
  active.erase(it);
  curl_multi_remove_handle(multi, easy);

  TransportResponse response;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (t->too_large) {
    // The peer answered, so its status stands; the body is dropped rather than cut short, so
    // no one parses half a receipt.
    response.http_status = static_cast<int>(status);
    response.error = kTooLarge;
  } else if (result != CURLE_OK) {
    // Text from libcurl only: never the body, which may hold health content.
    response.error = curl_easy_strerror(result);
  } else {
    response.http_status = static_cast<int>(status);
    response.body = std::move(t->response_body);
  }
  finish(t->done, std::move(response));
}

void CurlTransport::Impl::abort_all() {
  for (auto& t : active) {
    curl_multi_remove_handle(multi, t->easy);
    finish(t->done, failure(kShuttingDown));
  }
  active.clear();
  std::deque<std::unique_ptr<Transfer>> rest;
  {
    std::lock_guard lock(mu);
    rest.swap(queue);
  }
  for (auto& t : rest) finish(t->done, failure(kShuttingDown));
}

void CurlTransport::Impl::run() {
  pthread_setname_np(pthread_self(), "sb-curl");  // for profiles and top -H
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> incoming;
    {
      std::lock_guard lock(mu);
      if (stopping) break;
      incoming.swap(queue);
    }
    for (auto& t : incoming) start(std::move(t));

    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) complete(msg->easy_handle, msg->data.result);
    }
    // Woken early by curl_multi_wakeup() from post() or the destructor; libcurl shortens the
    // wait to its own next timeout.
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  abort_all();
}

CurlTransport::CurlTransport(TlsClientOptions tls) : impl_(std::make_unique<Impl>()) {
  impl_->tls = std::move(tls);
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->multi = curl_multi_init();
  if (impl_->multi == nullptr) {
    impl_->stopping = true;  // every post() fails at once
    return;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

CurlTransport::~CurlTransport() {
  if (impl_->multi == nullptr) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

// Once the destructor has begun (a `done` callback posting again during shutdown), or when
// libcurl could not be set up, the request fails at once, on the calling thread.
void CurlTransport::post(OutboundRequest request, std::function<void(TransportResponse)> done) {
  auto transfer = std::make_unique<Transfer>(std::move(request), std::move(done));
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(std::move(transfer));
    }
  }
  if (transfer != nullptr) {
    return finish(transfer->done,
                  failure(impl_->multi == nullptr ? "cannot initialise libcurl" : kShuttingDown));
  }
  curl_multi_wakeup(impl_->multi);
}

}  // namespace sektorbro
