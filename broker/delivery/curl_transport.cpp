#include "broker/delivery/curl_transport.hpp"

#include <curl/curl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
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

// One transfer in flight. Owns everything libcurl points into while it runs
// (CURLOPT_POSTFIELDS does not copy the body); the easy handle is lent to it by the pool.
struct Transfer {
  OutboundRequest request;
  DoneFn done;
  CURL* easy = nullptr;
  std::size_t slot = 0;  // its index in Impl::active
  std::string response_body;
  bool too_large = false;

  Transfer(OutboundRequest r, DoneFn d) : request(std::move(r)), done(std::move(d)) {}
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
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

// Applies `value` to `option` unless an earlier option failed; the first failure is kept.
class Options {
 public:
  explicit Options(CURL* easy) : easy_(easy) {}
  template <typename T>
  void set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = curl_easy_setopt(easy_, option, value);
  }
  CURLcode result() const { return rc_; }

 private:
  CURL* easy_;
  CURLcode rc_ = CURLE_OK;
};

// The options every transfer shares, set once when an easy handle is created. A pooled handle
// keeps them: libcurl resets only a transfer's state between transfers, not its options.
CURLcode configure_handle(CURL* e, const TlsClientOptions& tls) {
  Options o(e);
  o.set(CURLOPT_PROTOCOLS_STR, "http,https");
  o.set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer (3xx → transient), not a hop
  o.set(CURLOPT_NOSIGNAL, 1L);
  o.set(CURLOPT_USERAGENT, kUserAgent);
  o.set(CURLOPT_POST, 1L);
  o.set(CURLOPT_WRITEFUNCTION, &write_body);
  // libcurl's defaults, set anyway: a receiver whose certificate or name does not check out is
  // not a receiver.
  o.set(CURLOPT_SSL_VERIFYPEER, 1L);
  o.set(CURLOPT_SSL_VERIFYHOST, 2L);
  o.set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!tls.ca_file.empty()) {
    o.set(CURLOPT_CAINFO, tls.ca_file.c_str());
    // Without this the system's CA directory would be trusted too.
    o.set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  if (!tls.certificate_file.empty()) {
    o.set(CURLOPT_SSLCERT, tls.certificate_file.c_str());
    o.set(CURLOPT_SSLCERTTYPE, "PEM");
    o.set(CURLOPT_SSLKEY, tls.key_file.c_str());
    o.set(CURLOPT_SSLKEYTYPE, "PEM");
  }
  return o.result();
}

// The options of one transfer. Every one of them is set for every transfer, so nothing of the
// handle's previous transfer carries over. `headers` outlives the transfer (Impl's cache).
CURLcode configure_transfer(Transfer& t, curl_slist* headers) {
  const long timeout_ms = static_cast<long>(std::max<std::int64_t>(t.request.timeout.count(), 1));
  Options o(t.easy);
  o.set(CURLOPT_URL, t.request.url.c_str());
  o.set(CURLOPT_POSTFIELDS, t.request.body.data());
  o.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.request.body.size()));
  o.set(CURLOPT_HTTPHEADER, headers);
  o.set(CURLOPT_TIMEOUT_MS, timeout_ms);
  o.set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  o.set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  return o.result();
}

TransportResponse failure(const char* text) { return TransportResponse{0, {}, text}; }

}  // namespace

// At most this many idle easy handles are kept for the next transfers (one per transfer in
// flight at the busiest moment, up to this): a new handle costs its allocations (some tens of
// kilobytes of buffers) and their release, per delivery.
constexpr std::size_t kMaxIdleHandles = 1024;
// The fewest connections libcurl's cache keeps (see Impl::peak_in_flight), whatever the peak.
constexpr std::size_t kMinKeptConnections = 64;

struct CurlTransport::Impl {
  TlsClientOptions tls;  // set before the thread starts, read-only after
  CURLM* multi = nullptr;
  std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queue;  // guarded by mu
  bool stopping = false;                        // guarded by mu
  // A wakeup of the transport thread is on its way and has not been seen yet (guarded by mu):
  // the posts before it has taken the queue need no wakeup of their own.
  bool wake_pending = false;
  std::thread thread;

  // libcurl's event interface (curl_multi_socket_action): the transport thread waits in
  // epoll_wait on the sockets libcurl names and on `wake_fd` (an eventfd written by post() and
  // the destructor), and libcurl acts only on the transfer whose socket is ready. (The polling
  // interface, curl_multi_perform, visits every transfer in flight on every wakeup, and polls
  // each one's socket again.)
  int epoll_fd = -1;
  int wake_fd = -1;
  // What the epoll set holds for each socket, indexed by its number (transport thread only, and
  // the destructor's thread once that one has ended). When libcurl stops watching a socket
  // (CURL_POLL_REMOVE: a kept-alive connection back in its cache) the socket stays in the set,
  // "parked": the next transfer on that connection wants the same readiness again, and then no
  // epoll_ctl is needed (two system calls per delivery otherwise). A parked socket that becomes
  // ready (its peer closed it) leaves the set; libcurl checks a cached connection before reuse.
  // Only connection sockets are parked: those opened and closed through our callbacks
  // (CURLOPT_OPENSOCKETFUNCTION, CURLOPT_CLOSESOCKETFUNCTION), so a socket leaves the set before
  // it is closed and a new socket with the same number is never taken for one in the set. Other
  // sockets libcurl watches (its resolver's) leave the set at once.
  struct Watch {
    bool ours = false;  // opened by on_open, not yet closed by on_close
    bool in_set = false;
    bool wanted = false;  // libcurl watches it (not parked)
    std::uint32_t events = 0;
  };
  std::vector<Watch> watches;
  // When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT) (its timer callback);
  // none: no timer. Transport thread only (libcurl calls back from calls made there).
  std::optional<std::chrono::steady_clock::time_point> timer_due;

  // Owned by the transport thread only.
  std::vector<std::unique_ptr<Transfer>> active;  // Transfer::slot is the index
  std::vector<CURL*> idle;                        // configured easy handles, not in `multi`
  // The most transfers ever in flight at once: libcurl's connection cache keeps 4 times as many
  // connections (CURLMOPT_MAXCONNECTS). Left to itself libcurl sizes the cache by the transfers
  // in flight NOW, so after each burst of deliveries it closed the kept-alive connections the
  // next burst then opened again (strace under the side-by-side load: a connect for every ~30
  // deliveries).
  std::size_t peak_in_flight = 0;
  // The header list per content type (a handful at most: one per dialect), kept while any
  // transfer may use it, so no list is built per transfer.
  std::vector<std::pair<std::string, curl_slist*>> header_lists;

  ~Impl();
  bool set_up_events();
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* user, void* socketp);
  static curl_socket_t on_open(void* user, curlsocktype purpose, curl_sockaddr* address);
  static int on_close(void* user, curl_socket_t s);
  Watch& watch(curl_socket_t s);
  void unwatch(curl_socket_t s);
  static int on_timer(CURLM* multi, long timeout_ms, void* user);
  void wake() const;
  void run();
  void start(std::unique_ptr<Transfer> transfer);
  void complete(Transfer* transfer, CURLcode result);
  void abort_all();
  CURL* take_handle();
  void give_back(CURL* easy);
  curl_slist* headers_for(const std::string& content_type);
  std::unique_ptr<Transfer> release(Transfer* t);
};

CurlTransport::Impl::~Impl() {
  for (auto& [type, list] : header_lists) curl_slist_free_all(list);
  if (epoll_fd >= 0) ::close(epoll_fd);
  if (wake_fd >= 0) ::close(wake_fd);
}

CurlTransport::Impl::Watch& CurlTransport::Impl::watch(curl_socket_t s) {
  const auto i = static_cast<std::size_t>(s);
  if (i >= watches.size()) watches.resize(i + 1);
  return watches[i];
}

// Takes `s` out of the epoll set.
void CurlTransport::Impl::unwatch(curl_socket_t s) {
  Watch& w = watch(s);
  if (w.in_set) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s, nullptr);
  w = Watch{};
}

// CURLMOPT_SOCKETFUNCTION: what libcurl wants to wait for on socket `s`.
int CurlTransport::Impl::on_socket(CURL* /*easy*/, curl_socket_t s, int what, void* user,
                                   void* /*socketp*/) {
  auto* impl = static_cast<Impl*>(user);
  Watch& w = impl->watch(s);
  if (what == CURL_POLL_REMOVE) {
    if (w.ours) {
      w.wanted = false;  // parked (see Watch)
    } else {
      impl->unwatch(s);
    }
    return 0;
  }
  epoll_event ev{};
  ev.events =
      ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
  ev.data.fd = s;
  w.wanted = true;
  if (w.in_set && w.events == ev.events) return 0;
  int op = w.in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(impl->epoll_fd, op, s, &ev) != 0) {
    op = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;  // the set knew better: the other op
    if (::epoll_ctl(impl->epoll_fd, op, s, &ev) != 0) {
      w.in_set = false;
      w.wanted = false;
      return -1;  // libcurl fails the transfer
    }
  }
  w.in_set = true;
  w.events = ev.events;
  return 0;
}

// CURLOPT_OPENSOCKETFUNCTION: a socket for a connection, as libcurl would open it.
curl_socket_t CurlTransport::Impl::on_open(void* user, curlsocktype /*purpose*/,
                                           curl_sockaddr* address) {
  const int s = ::socket(address->family, address->socktype, address->protocol);
  if (s < 0) return CURL_SOCKET_BAD;
  auto* impl = static_cast<Impl*>(user);
  impl->unwatch(s);  // a number last used by a socket closed behind our back: forget it
  impl->watch(s).ours = true;
  return s;
}

// CURLOPT_CLOSESOCKETFUNCTION: libcurl closes a socket of a connection.
int CurlTransport::Impl::on_close(void* user, curl_socket_t s) {
  static_cast<Impl*>(user)->unwatch(s);
  return ::close(s);
}

// CURLMOPT_TIMERFUNCTION: when to call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) next.
int CurlTransport::Impl::on_timer(CURLM* /*multi*/, long timeout_ms, void* user) {
  auto* impl = static_cast<Impl*>(user);
  if (timeout_ms < 0) {
    impl->timer_due.reset();
  } else {
    impl->timer_due = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  }
  return 0;
}

bool CurlTransport::Impl::set_up_events() {
  epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd < 0 || wake_fd < 0) return false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) return false;
  return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &on_socket) == CURLM_OK &&
         curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, static_cast<void*>(this)) == CURLM_OK &&
         curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &on_timer) == CURLM_OK &&
         curl_multi_setopt(multi, CURLMOPT_TIMERDATA, static_cast<void*>(this)) == CURLM_OK &&
         curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(kMinKeptConnections)) ==
             CURLM_OK;
}

void CurlTransport::Impl::wake() const {
  const std::uint64_t one = 1;
  // Only fails when the counter is near 2^64: then a wakeup is pending anyway.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
}

CURL* CurlTransport::Impl::take_handle() {
  if (!idle.empty()) {
    CURL* e = idle.back();
    idle.pop_back();
    return e;
  }
  CURL* e = curl_easy_init();
  if (e != nullptr &&
      (configure_handle(e, tls) != CURLE_OK ||
       curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &on_open) != CURLE_OK ||
       curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, static_cast<void*>(this)) != CURLE_OK ||
       curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &on_close) != CURLE_OK ||
       curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this)) != CURLE_OK)) {
    curl_easy_cleanup(e);
    return nullptr;
  }
  return e;
}

void CurlTransport::Impl::give_back(CURL* easy) {
  if (idle.size() < kMaxIdleHandles) {
    idle.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

curl_slist* CurlTransport::Impl::headers_for(const std::string& content_type) {
  for (const auto& [type, list] : header_lists)
    if (type == content_type) return list;
  // "Expect:" removes libcurl's 100-continue wait on large bodies; our peers need not send 100.
  curl_slist* list = nullptr;
  for (const std::string& h : {"Content-Type: " + content_type, std::string("Expect:")}) {
    curl_slist* next = curl_slist_append(list, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      return nullptr;
    }
    list = next;
  }
  header_lists.emplace_back(content_type, list);
  return list;
}

// Takes `t` out of `active` (swap with the last) and hands over its ownership.
std::unique_ptr<Transfer> CurlTransport::Impl::release(Transfer* t) {
  const std::size_t slot = t->slot;
  std::unique_ptr<Transfer> owned = std::move(active[slot]);
  if (slot + 1 != active.size()) {
    active[slot] = std::move(active.back());
    active[slot]->slot = slot;
  }
  active.pop_back();
  return owned;
}

void CurlTransport::Impl::start(std::unique_ptr<Transfer> t) {
  curl_slist* headers = headers_for(t->request.content_type);
  if (headers == nullptr) return finish(t->done, failure(curl_easy_strerror(CURLE_OUT_OF_MEMORY)));
  t->easy = take_handle();
  if (t->easy == nullptr) return finish(t->done, failure("cannot create a transfer"));
  if (const CURLcode rc = configure_transfer(*t, headers); rc != CURLE_OK) {
    curl_easy_cleanup(t->easy);  // half set up: not worth keeping
    return finish(t->done, failure(curl_easy_strerror(rc)));
  }
  if (const CURLMcode rc = curl_multi_add_handle(multi, t->easy); rc != CURLM_OK) {
    curl_easy_cleanup(t->easy);
    return finish(t->done, failure(curl_multi_strerror(rc)));
  }
  t->slot = active.size();
  active.push_back(std::move(t));
  if (active.size() > peak_in_flight) {
    peak_in_flight = active.size();
    curl_multi_setopt(
        multi, CURLMOPT_MAXCONNECTS,
        static_cast<long>(std::max<std::size_t>(4 * peak_in_flight, kMinKeptConnections)));
  }
}

void CurlTransport::Impl::complete(Transfer* transfer, CURLcode result) {
  std::unique_ptr<Transfer> t = release(transfer);
  curl_multi_remove_handle(multi, t->easy);

  TransportResponse response;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  give_back(t->easy);
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
    curl_easy_cleanup(t->easy);
    finish(t->done, failure(kShuttingDown));
  }
  active.clear();
  std::deque<std::unique_ptr<Transfer>> rest;
  {
    std::lock_guard lock(mu);
    rest.swap(queue);
  }
  for (auto& t : rest) finish(t->done, failure(kShuttingDown));
  for (CURL* e : idle) curl_easy_cleanup(e);
  idle.clear();
}

void CurlTransport::Impl::run() {
  pthread_setname_np(pthread_self(), "sb-curl");  // for profiles and top -H
  std::deque<std::unique_ptr<Transfer>> incoming;
  std::array<epoll_event, 64> events;
  int running = 0;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) break;
      incoming.swap(queue);
      wake_pending = false;  // a post from now on writes wake_fd again
    }
    for (auto& t : incoming) start(std::move(t));  // libcurl sets its timer to "now" for each
    incoming.clear();

    // Until libcurl's timer is due (rounded up, so a timer under a millisecond does not spin),
    // at most a second: a safety net, as a timeout action when none is due does nothing.
    int wait_ms = 1000;
    if (timer_due) {
      const auto left = *timer_due - std::chrono::steady_clock::now();
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(
          std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0, wait_ms));
    }
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms);
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
      if (fd == wake_fd) {
        std::uint64_t count = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd, &count, sizeof count);
        continue;
      }
      if (static_cast<std::size_t>(fd) < watches.size() &&
          !watches[static_cast<std::size_t>(fd)].wanted) {
        unwatch(fd);  // parked, and its peer closed it or spoke out of turn: see Watch
        continue;
      }
      const int mask = ((ev & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                       ((ev & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0) |
                       ((ev & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, fd, mask, &running);
    }
    if (timer_due && std::chrono::steady_clock::now() >= *timer_due) {
      timer_due.reset();  // the action may set the next one
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }

    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      void* transfer = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &transfer);
      // `msg` is not valid after the handle leaves the multi: read the result first.
      const CURLcode result = msg->data.result;
      if (transfer != nullptr) complete(static_cast<Transfer*>(transfer), result);
    }
  }
  abort_all();
}

CurlTransport::CurlTransport(TlsClientOptions tls) : impl_(std::make_unique<Impl>()) {
  impl_->tls = std::move(tls);
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->multi = curl_multi_init();
  if (impl_->multi != nullptr && !impl_->set_up_events()) {
    curl_multi_cleanup(impl_->multi);
    impl_->multi = nullptr;
  }
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
  impl_->wake();
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

// Once the destructor has begun (a `done` callback posting again during shutdown), or when
// libcurl could not be set up, the request fails at once, on the calling thread.
void CurlTransport::post(OutboundRequest request, std::function<void(TransportResponse)> done) {
  auto transfer = std::make_unique<Transfer>(std::move(request), std::move(done));
  bool wake = false;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(std::move(transfer));
      wake = !impl_->wake_pending;
      impl_->wake_pending = true;
    }
  }
  if (transfer != nullptr) {
    return finish(transfer->done,
                  failure(impl_->multi == nullptr ? "cannot initialise libcurl" : kShuttingDown));
  }
  // One wakeup per batch of posts the transport thread has not yet taken.
  if (wake) impl_->wake();
}

}  // namespace sektorbro
