#include "control/etcd_client.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/json_writer.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

// A request etcd answers at once (range, txn, lease) gets this long: a
// range of several MB on a loaded machine takes well under a second.
constexpr long kRequestTimeoutMs = 15000;
// An endpoint that does not accept a connection within this is skipped:
// on a LAN, a live etcd accepts in milliseconds.
constexpr long kConnectTimeoutMs = 2000;
// Half-open connections (a partitioned etcd) are found by TCP keepalive:
// idle 5 s, then probes 2 s apart.
constexpr long kKeepIdleSeconds = 5;
constexpr long kKeepIntervalSeconds = 2;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Base64(absl::string_view bytes) {
  return absl::Base64Escape(bytes);
}

// yaml-cpp: indexing a const map by a key it lacks gives a node that
// throws when asked its type; IsDefined() is safe on it, so every helper
// asks that first.
bool IsScalar(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar();
}

std::string Unbase64(const YAML::Node& node) {
  std::string out;
  if (IsScalar(node)) absl::Base64Unescape(node.Scalar(), &out);
  return out;
}

// The gateway writes int64 fields as strings and leaves out zero values.
int64_t Int64(const YAML::Node& node) {
  if (!IsScalar(node)) return 0;
  try {
    return std::stoll(node.Scalar());
  } catch (...) {
    return 0;
  }
}

bool Bool(const YAML::Node& node) {
  return IsScalar(node) && node.Scalar() == "true";
}

EtcdKeyValue KeyValueOf(const YAML::Node& kv) {
  EtcdKeyValue out;
  out.key = Unbase64(kv["key"]);
  out.value = Unbase64(kv["value"]);
  out.create_revision = Int64(kv["create_revision"]);
  out.mod_revision = Int64(kv["mod_revision"]);
  out.version = Int64(kv["version"]);
  out.lease = Int64(kv["lease"]);
  return out;
}

absl::StatusOr<YAML::Node> ParseJson(absl::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(
        absl::StrCat("etcd sent a reply that is not JSON: ", e.msg));
  }
}

// etcd's refusal {"error": "...", "code": N}; gRPC codes are absl's.
absl::Status ErrorOf(const YAML::Node& reply, absl::string_view fallback) {
  YAML::Node error = reply["error"];
  std::string message =
      fallback.empty() ? "etcd refused the request" : std::string(fallback);
  int64_t code = 0;
  if (IsScalar(error)) {
    message = absl::StrCat("etcd: ", error.Scalar());
    code = Int64(reply["code"]);
  } else if (error.IsDefined() && error.IsMap()) {  // in a stream
    message = absl::StrCat("etcd: ", IsScalar(error["message"])
                                         ? error["message"].Scalar()
                                         : "stream error");
    code = Int64(error["grpc_code"]);
    if (code == 0) code = Int64(error["code"]);
  }
  if (code <= 0 || code > 16)
    code = static_cast<int64_t>(absl::StatusCode::kUnknown);
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string PrefixRangeEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::StatusOr<bool> ParseEtcdOption(const std::vector<std::string>& args,
                                     size_t& i, EtcdOptions& options) {
  const std::string& arg = args[i];
  if (arg != "--etcd" && arg != "--etcd-prefix" && arg != "--etcd-cacert" &&
      arg != "--etcd-cert" && arg != "--etcd-key") {
    return false;
  }
  if (i + 1 == args.size()) {
    return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
  }
  const std::string& value = args[++i];
  if (arg == "--etcd") {
    for (absl::string_view url :
         absl::StrSplit(value, ',', absl::SkipEmpty())) {
      if (!absl::StartsWith(url, "http://") &&
          !absl::StartsWith(url, "https://")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--etcd expects http:// or https:// URLs, got '", url, "'"));
      }
      std::string endpoint(url);
      while (absl::EndsWith(endpoint, "/")) endpoint.pop_back();
      options.endpoints.push_back(endpoint);
    }
  } else if (arg == "--etcd-prefix") {
    std::string prefix = value;
    while (absl::EndsWith(prefix, "/")) prefix.pop_back();
    if (prefix.empty()) {
      return absl::InvalidArgumentError(
          "--etcd-prefix expects a key prefix such as /sgate");
    }
    options.prefix = prefix;
  } else if (arg == "--etcd-cacert") {
    options.cacert = value;
  } else if (arg == "--etcd-cert") {
    options.cert = value;
  } else {
    options.key = value;
  }
  return true;
}

absl::Status ValidateEtcdOptions(const EtcdOptions& options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("--etcd URL is required");
  }
  bool tls =
      !options.cacert.empty() || !options.cert.empty() || !options.key.empty();
  for (const std::string& url : options.endpoints) {
    if (tls && !absl::StartsWith(url, "https://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--etcd-cacert/--etcd-cert/--etcd-key need https:// endpoints, "
          "got ",
          url));
    }
  }
  if (options.cert.empty() != options.key.empty()) {
    return absl::InvalidArgumentError("--etcd-cert and --etcd-key go together");
  }
  return absl::OkStatus();
}

// The curl handles: one for requests, kept (with its connection) between
// them, and a multi handle for the watch stream, whose wait Interrupt()
// can wake.
struct EtcdClient::Connection {
  CURL* request = nullptr;
  CURLM* multi = nullptr;

  Connection() {
    InitCurlOnce();
    request = curl_easy_init();
    multi = curl_multi_init();
  }
  ~Connection() {
    if (request != nullptr) curl_easy_cleanup(request);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

EtcdClient::EtcdClient(EtcdOptions options)
    : options_(std::move(options)),
      connection_(std::make_unique<Connection>()) {}

EtcdClient::~EtcdClient() = default;

namespace {

// What every request and watch shares: TLS files, timeouts, keepalive.
void SetCommonOptions(CURL* curl, const EtcdOptions& o, const std::string& url,
                      const std::string& body, curl_slist* headers,
                      char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, kKeepIdleSeconds);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, kKeepIntervalSeconds);
  // No proxy from the environment: etcd is reached directly.
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  if (!o.cacert.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, o.cacert.c_str());
  if (!o.cert.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, o.cert.c_str());
  if (!o.key.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, o.key.c_str());
}

// curl's own words, or its error buffer's more precise ones, and what a
// TLS failure most likely means.
std::string CurlError(CURLcode code, const char* buffer, bool tls) {
  std::string error =
      buffer[0] != '\0' ? std::string(buffer) : curl_easy_strerror(code);
  if (!tls) return error;
  if (code == CURLE_PEER_FAILED_VERIFICATION) {
    error +=
        " (etcd's certificate is not signed by --etcd-cacert, or does "
        "not name this host)";
  } else if (absl::StrContains(error, "alert bad certificate") ||
             absl::StrContains(error, "alert certificate required") ||
             absl::StrContains(error, "alert handshake failure")) {
    error +=
        " (etcd refused the client certificate: --etcd-cert and "
        "--etcd-key must be signed by a CA etcd trusts)";
  } else if (code == CURLE_SSL_CERTPROBLEM ||
             code == CURLE_SSL_CACERT_BADFILE) {
    error += " (check the --etcd-cert/--etcd-key/--etcd-cacert files)";
  } else if (code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
             code == CURLE_GOT_NOTHING || code == CURLE_SSL_CONNECT_ERROR) {
    // Under TLS 1.3 a refused client certificate often shows only as a
    // connection closed after the handshake.
    error +=
        " (etcd closed the TLS connection: if it requires client "
        "certificates, --etcd-cert and --etcd-key must be signed by a "
        "CA it trusts)";
  }
  return error;
}

// A request that reached etcd: its body, or etcd's refusal.
absl::StatusOr<std::string> Answer(long http_status, std::string body) {
  if (http_status == 200) return body;
  absl::StatusOr<YAML::Node> reply = ParseJson(body);
  if (!reply.ok() || !reply->IsMap()) {
    return absl::UnavailableError(absl::StrCat(
        "etcd answered HTTP ", http_status, ": ", body.substr(0, 200)));
  }
  return ErrorOf(*reply, absl::StrCat("etcd answered HTTP ", http_status));
}

}  // namespace

absl::StatusOr<std::string> EtcdClient::Post(const std::string& path,
                                             const std::string& body) {
  CURL* curl = connection_->request;
  if (curl == nullptr)
    return absl::ResourceExhaustedError("curl_easy_init failed");
  std::vector<std::string> failures;
  for (size_t attempt = 0; attempt < options_.endpoints.size(); ++attempt) {
    size_t index = (endpoint_ + attempt) % options_.endpoints.size();
    const std::string url = options_.endpoints[index] + path;
    const bool tls = absl::StartsWith(url, "https://");
    curl_slist* headers =
        curl_slist_append(nullptr, "Content-Type: application/json");
    char error_buffer[CURL_ERROR_SIZE] = {};
    std::string reply;
    curl_easy_reset(curl);  // keeps the open connections
    SetCommonOptions(curl, options_, url, body, headers, error_buffer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    CURLcode code = curl_easy_perform(curl);
    long http_status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    curl_slist_free_all(headers);
    if (code == CURLE_OK) {
      endpoint_ = index;
      return Answer(http_status, std::move(reply));
    }
    failures.push_back(absl::StrCat(options_.endpoints[index], ": ",
                                    CurlError(code, error_buffer, tls)));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot reach etcd: ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<EtcdRange> EtcdClient::Range(const std::string& key,
                                            const std::string& range_end,
                                            int64_t revision, int64_t page) {
  EtcdRange range;
  range.revision = revision;
  std::string from = key;
  while (true) {
    JsonWriter j;
    j.BeginObject();
    j.Field("key", Base64(from));
    if (!range_end.empty()) j.Field("range_end", Base64(range_end));
    if (!range_end.empty() && page > 0) j.Field("limit", page);
    if (range.revision > 0) j.Field("revision", range.revision);
    j.EndObject();
    absl::StatusOr<std::string> body = Post("/v3/kv/range", j.str());
    if (!body.ok()) return body.status();
    absl::StatusOr<YAML::Node> reply = ParseJson(*body);
    if (!reply.ok()) return reply.status();
    if (range.revision == 0) {
      range.revision = Int64((*reply)["header"]["revision"]);
    }
    const YAML::Node kvs = (*reply)["kvs"];
    if (kvs.IsDefined() && kvs.IsSequence()) {
      for (const YAML::Node& kv : kvs) range.kvs.push_back(KeyValueOf(kv));
    }
    if (!Bool((*reply)["more"]) || range.kvs.empty()) return range;
    // The next page starts just after the last key read.
    from = range.kvs.back().key + std::string(1, '\0');
  }
}

absl::StatusOr<EtcdTxnResult> EtcdClient::Txn(const EtcdTxn& txn) {
  JsonWriter j;
  j.BeginObject();
  j.Key("compare");
  j.BeginArray();
  for (const EtcdTxn::Compare& c : txn.compares) {
    j.BeginObject();
    j.Field("key", Base64(c.key));
    j.Field("result", "EQUAL");
    if (c.target == EtcdTxn::Compare::Target::kModRevision) {
      j.Field("target", "MOD");
      j.Field("mod_revision", c.mod_revision);
    } else {
      j.Field("target", "VALUE");
      j.Field("value", Base64(c.value));
    }
    j.EndObject();
  }
  j.EndArray();
  j.Key("success");
  j.BeginArray();
  for (const EtcdTxn::Operation& op : txn.operations) {
    j.BeginObject();
    j.Key(op.is_delete ? "request_delete_range" : "request_put");
    j.BeginObject();
    j.Field("key", Base64(op.key));
    if (!op.is_delete) {
      j.Field("value", Base64(op.value));
      if (op.lease != 0) j.Field("lease", op.lease);
    }
    j.EndObject();
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  absl::StatusOr<std::string> body = Post("/v3/kv/txn", j.str());
  if (!body.ok()) return body.status();
  absl::StatusOr<YAML::Node> reply = ParseJson(*body);
  if (!reply.ok()) return reply.status();
  EtcdTxnResult result;
  result.succeeded = Bool((*reply)["succeeded"]);
  result.revision = Int64((*reply)["header"]["revision"]);
  return result;
}

absl::StatusOr<int64_t> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  JsonWriter j;
  j.BeginObject();
  j.Field("TTL", ttl_seconds);
  j.EndObject();
  absl::StatusOr<std::string> body = Post("/v3/lease/grant", j.str());
  if (!body.ok()) return body.status();
  absl::StatusOr<YAML::Node> reply = ParseJson(*body);
  if (!reply.ok()) return reply.status();
  if (const YAML::Node error = (*reply)["error"]; error.IsDefined()) {
    return ErrorOf(*reply, "");
  }
  int64_t id = Int64((*reply)["ID"]);
  if (id == 0) return absl::UnavailableError("etcd granted no lease");
  return id;
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAlive(int64_t id) {
  JsonWriter j;
  j.BeginObject();
  j.Field("ID", id);
  j.EndObject();
  // A stream in gRPC; one request, one {"result": ...} line here.
  absl::StatusOr<std::string> body = Post("/v3/lease/keepalive", j.str());
  if (!body.ok()) return body.status();
  absl::StatusOr<YAML::Node> reply = ParseJson(*body);
  if (!reply.ok()) return reply.status();
  if ((*reply)["error"].IsDefined()) return ErrorOf(*reply, "");
  return Int64((*reply)["result"]["TTL"]);  // absent: expired
}

absl::Status EtcdClient::LeaseRevoke(int64_t id) {
  JsonWriter j;
  j.BeginObject();
  j.Field("ID", id);
  j.EndObject();
  return Post("/v3/lease/revoke", j.str()).status();
}

absl::Status EtcdClient::Compact(int64_t revision) {
  JsonWriter j;
  j.BeginObject();
  j.Field("revision", revision);
  j.Field("physical", true);
  j.EndObject();
  return Post("/v3/kv/compaction", j.str()).status();
}

void EtcdClient::Interrupt() {
  interrupted_ = true;
  if (connection_->multi != nullptr) curl_multi_wakeup(connection_->multi);
}

namespace {

// The watch stream's bytes, cut into lines (one JSON message each) and
// handed on as responses.
struct WatchStream {
  const std::function<bool(const EtcdWatchResponse&)>* on_response;
  std::string pending;
  absl::Status status;  // why the stream was cut short
  bool done = false;    // on_response said stop, or the watch was canceled

  // False to make curl stop.
  bool Feed(absl::string_view bytes) {
    pending.append(bytes.data(), bytes.size());
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos;
         start = end + 1) {
      if (!Handle(absl::string_view(pending).substr(start, end - start))) {
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  }

  bool Handle(absl::string_view line) {
    if (line.empty()) return true;
    absl::StatusOr<YAML::Node> message = ParseJson(line);
    if (!message.ok()) {
      status = message.status();
      return false;
    }
    if ((*message)["error"].IsDefined()) {
      status = ErrorOf(*message, "");
      return false;
    }
    const YAML::Node result = (*message)["result"];
    EtcdWatchResponse response;
    response.revision = Int64(result["header"]["revision"]);
    response.created = Bool(result["created"]);
    response.canceled = Bool(result["canceled"]);
    response.compact_revision = Int64(result["compact_revision"]);
    if (IsScalar(result["cancel_reason"])) {
      response.cancel_reason = result["cancel_reason"].Scalar();
    }
    if (const YAML::Node events = result["events"];
        events.IsDefined() && events.IsSequence()) {
      for (const YAML::Node& e : events) {
        EtcdWatchResponse::Event event;
        event.deleted = IsScalar(e["type"]) && e["type"].Scalar() == "DELETE";
        event.kv = KeyValueOf(e["kv"]);
        response.events.push_back(std::move(event));
      }
    }
    if (!(*on_response)(response) || response.canceled) {
      done = true;
      return false;
    }
    return true;
  }
};

size_t FeedWatch(char* data, size_t size, size_t count, void* stream) {
  bool more = static_cast<WatchStream*>(stream)->Feed(
      absl::string_view(data, size * count));
  return more ? size * count : 0;  // 0 makes curl stop the transfer
}

}  // namespace

absl::Status EtcdClient::Watch(
    const std::string& key, const std::string& range_end,
    int64_t start_revision,
    const std::function<bool(const EtcdWatchResponse&)>& on_response) {
  CURLM* multi = connection_->multi;
  if (multi == nullptr)
    return absl::ResourceExhaustedError("curl_multi_init failed");
  JsonWriter j;
  j.BeginObject();
  j.Key("create_request");
  j.BeginObject();
  j.Field("key", Base64(key));
  if (!range_end.empty()) j.Field("range_end", Base64(range_end));
  if (start_revision > 0) j.Field("start_revision", start_revision);
  j.EndObject();
  j.EndObject();
  const std::string body = j.str();

  std::vector<std::string> failures;
  for (size_t attempt = 0; attempt < options_.endpoints.size(); ++attempt) {
    if (interrupted_) return absl::CancelledError("interrupted");
    size_t index = (endpoint_ + attempt) % options_.endpoints.size();
    const std::string url = options_.endpoints[index] + "/v3/watch";
    const bool tls = absl::StartsWith(url, "https://");
    CURL* curl = curl_easy_init();
    if (curl == nullptr)
      return absl::ResourceExhaustedError("curl_easy_init failed");
    curl_slist* headers =
        curl_slist_append(nullptr, "Content-Type: application/json");
    char error_buffer[CURL_ERROR_SIZE] = {};
    WatchStream stream{&on_response, "", absl::OkStatus(), false};
    SetCommonOptions(curl, options_, url, body, headers, error_buffer);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, FeedWatch);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &stream);
    curl_multi_add_handle(multi, curl);
    int running = 1;
    CURLcode code = CURLE_OK;
    bool reached = false;  // etcd sent at least one byte
    while (running > 0 && !interrupted_) {
      if (curl_multi_perform(multi, &running) != CURLM_OK) break;
      if (running == 0) break;
      // Wakes on data, on Interrupt(), or every second at the latest.
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (int left = 0; CURLMsg* m = curl_multi_info_read(multi, &left);) {
      if (m->msg == CURLMSG_DONE) code = m->data.result;
    }
    long http_status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    reached = http_status != 0;
    curl_multi_remove_handle(multi, curl);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (interrupted_) return absl::CancelledError("interrupted");
    if (stream.done) return absl::OkStatus();
    if (!stream.status.ok()) return stream.status;
    if (reached) {
      endpoint_ = index;
      if (http_status != 200) {
        return Answer(http_status, stream.pending).status();
      }
      return absl::UnavailableError(absl::StrCat(
          "the watch stream from ", options_.endpoints[index], " ended: ",
          code == CURLE_OK ? "closed by etcd"
                           : CurlError(code, error_buffer, tls)));
    }
    failures.push_back(absl::StrCat(options_.endpoints[index], ": ",
                                    CurlError(code, error_buffer, tls)));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot reach etcd: ", absl::StrJoin(failures, "; ")));
}

}  // namespace sgate::control
