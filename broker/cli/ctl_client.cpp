#include "broker/cli/ctl_client.hpp"

#include <curl/curl.h>

namespace sektorbro::ctl {

namespace {

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

CtlClient::CtlClient(Settings settings) : settings_(std::move(settings)), curl_(curl_easy_init()) {}

CtlClient::~CtlClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Answer CtlClient::call(const std::string& path, bool post) {
  Answer a;
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  const std::string url = settings_.broker + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!settings_.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.cacert.c_str());
  if (!settings_.cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, settings_.cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, settings_.key.c_str());
  }
  curl_slist* headers = nullptr;
  std::string authorization;
  if (!settings_.token.empty()) {
    authorization = "Authorization: Bearer " + settings_.token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  } else {
    a.error = error[0] ? error : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  return a;
}

std::string url_encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace sektorbro::ctl
