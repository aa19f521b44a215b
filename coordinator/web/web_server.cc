#include "coordinator/web/web_server.h"

#include <absl/time/clock.h>
#include <httplib.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <regex>

#include "common/cron.h"
#include "common/host_port.h"
#include "common/manifest.h"
#include "common/proto_json.h"
#include "coordinator/admin/auth.h"
#include "coordinator/admin/run_registry.h"
#include "coordinator/http/http_endpoint.h"
#include "coordinator/notify/failure_report.h"
#include "coordinator/run/run_view.h"
#include "coordinator/web/web_pages.h"

namespace ingest {
namespace {

constexpr char kSessionCookie[] = "ingestfleet_session";
constexpr auto kSessionLifetime = std::chrono::hours(12);
constexpr size_t kMaxSessions = 1000;
// Runs on one page of `/`; /api/runs takes page_size like ListRuns.
constexpr int kRunsPerPage = 25;

// Pages and API answers are about now: never cached. The policy allows
// the page's own stylesheet and script only, so a value that escaped
// escaping still could not run.
const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string CookieValue(const httplib::Request& request, std::string_view name) {
  const std::string header = request.get_header_value("Cookie");
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string_view pair = std::string_view(header).substr(at, end - at);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return "";
}

// Where the sign-in form may lead: a path of this site, never elsewhere.
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || next.rfind("//", 0) == 0 || next.find('\\') != std::string::npos) return "/";
  return next;
}

}  // namespace

// What the handlers share. Thread-safe: cpp-httplib calls them from its pool.
struct WebState {
  WebState(RunRegistry& r, TokenAuth a) : registry(r), auth(std::move(a)) {}

  RunRegistry& registry;
  const TokenAuth auth;
  // The schedule, parsed once: loading a zone reads tzdata.
  const Result<CronExpression> cron = CronExpression::Parse(registry.config().schedule.cron);
  const Result<absl::TimeZone> zone = LoadZone(registry.config().schedule.timezone);
  // Served over TLS: the session cookie is marked Secure.
  bool secure = false;

  std::mutex sessions_mu;
  std::map<std::string, std::chrono::steady_clock::time_point> sessions;  // Guarded by sessions_mu: id -> expiry

  // The failures last read from a job's manifest, reused while the file
  // and the run's status are unchanged: a live page reloads, and a large
  // job's manifest is tens of MB. What the page shows is kept, not the
  // manifest.
  std::mutex failures_mu;
  std::string failures_key;            // Guarded by failures_mu: path, mtime, size, status
  admin::RunFailures failures_of_key;  // Guarded by failures_mu.

  std::string NewSession() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "";
    std::string id;
    for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(sessions_mu);
    std::erase_if(sessions, [now](const auto& s) { return s.second <= now; });
    if (sessions.size() >= kMaxSessions) {
      // The one closest to expiring makes room.
      auto oldest = std::min_element(sessions.begin(), sessions.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      sessions.erase(oldest);
    }
    sessions[id] = now + kSessionLifetime;
    return id;
  }

  bool HasSession(const std::string& id) {
    if (id.empty()) return false;
    std::lock_guard<std::mutex> lock(sessions_mu);
    auto it = sessions.find(id);
    return it != sessions.end() && it->second > std::chrono::steady_clock::now();
  }

  void EndSession(const std::string& id) {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.erase(id);
  }

  // ---- The data of the pages and of /api/, the same for both.

  Result<admin::ListRunsResponse> Runs(const httplib::Request& request, int default_page_size) {
    admin::ListRunsRequest list;
    list.set_page_size(default_page_size);
    if (request.has_param("page_size")) {
      const std::string text = request.get_param_value("page_size");
      int size = 0;
      if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) {
        return InvalidArgument("page_size '" + text + "' is not a number");
      }
      size = std::stoi(text);
      list.set_page_size(size);
    }
    list.set_page_token(request.get_param_value("page_token"));
    const std::string status = request.get_param_value("status");
    list.set_state(StateOfWord(status));
    if (!status.empty() && list.state() == admin::RUN_STATE_UNSPECIFIED) {
      return InvalidArgument("status '" + status +
                             "' is not one of running, queued, completed, partial, failed, cancelled");
    }
    return registry.List(list);
  }

  // The failed documents of the run's job as its manifest has them now.
  Result<admin::RunFailures> Failures(const admin::Run& run) {
    admin::RunFailures failures;
    const std::filesystem::path path = std::filesystem::path(run.job_dir()) / kManifestFileName;
    struct stat st {};
    // A queued run, or a job whose manifest is not written yet: nothing failed so far.
    if (run.job_dir().empty() || ::stat(path.c_str(), &st) != 0) {
      failures.set_run_id(run.run_id());
      return failures;
    }
    const std::string& status = run.summary().status();
    const std::string key =
        fmt::format("{}\n{}.{}\n{}\n{}", path.string(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size, status);
    {
      std::lock_guard<std::mutex> lock(failures_mu);
      if (key == failures_key) {
        failures = failures_of_key;
        failures.set_run_id(run.run_id());
        return failures;
      }
    }
    INGEST_ASSIGN_OR_RETURN(const Manifest manifest, LoadManifest(path));
    *failures.mutable_changes() = manifest.changes();
    for (const FailureGroup& group : GroupFailures(manifest)) {
      admin::FailureGroup* out = failures.add_groups();
      out->set_pass(group.pass);
      out->set_error_class(group.error_class.empty() ? "unknown" : group.error_class);
      for (const DocumentRecord* doc : group.documents) *out->add_documents() = *doc;
    }
    if (status == kJobFailed || status == kJobCancelled || status == kJobPartial) {
      failures.set_resume_command(ResumeCommand(manifest, status, registry.config().file, run.job_dir()));
    }
    {
      std::lock_guard<std::mutex> lock(failures_mu);
      failures_key = key;
      failures_of_key = failures;
    }
    failures.set_run_id(run.run_id());
    return failures;
  }

  admin::Schedule Schedule() {
    const Config& config = registry.config();
    admin::Schedule schedule;
    schedule.set_env(config.env);
    schedule.set_cron(config.schedule.cron);
    schedule.set_timezone(config.schedule.timezone);
    schedule.set_scheduled_here(registry.starts_runs());
    if (cron.ok() && zone.ok()) {
      const absl::Time next = cron->Next(absl::Now(), *zone);
      if (next != absl::InfiniteFuture()) {
        *schedule.mutable_next_run() = TimestampOf(absl::ToChronoTime(next));
        schedule.set_next_run_local(absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", next, *zone));
      }
    }
    admin::ListRunsRequest newest;
    newest.set_page_size(1);
    if (Result<admin::ListRunsResponse> runs = registry.List(newest); runs.ok() && !runs->runs().empty()) {
      *schedule.mutable_last_run() = runs->runs(0);
    }
    newest.set_state(admin::RUN_STATE_COMPLETED);
    if (Result<admin::ListRunsResponse> runs = registry.List(newest); runs.ok() && !runs->runs().empty()) {
      *schedule.mutable_last_success() = runs->runs(0);
    }
    return schedule;
  }
};

namespace {

void SendJson(httplib::Response& response, const google::protobuf::Message& message) {
  response.set_content(ToJson(message), "application/json");
}

void SendApiError(httplib::Response& response, const Status& status) {
  response.status = HttpStatusOf(status.code());
  response.set_content("{\"error\":" + JsonQuote(status.message()) + "}", "application/json");
}

void SendPageError(httplib::Response& response, const PageFrame& frame, const Status& status) {
  response.status = HttpStatusOf(status.code());
  response.set_content(RenderErrorPage(frame, response.status, status.message()), "text/html; charset=utf-8");
}

void SendPage(httplib::Response& response, const std::string& html) {
  response.set_content(html, "text/html; charset=utf-8");
}

// Registers the routes on `server`; `state` must outlive it.
void AddRoutes(httplib::Server& server, WebState& state) {
  auto frame = [&state](const httplib::Request& request) {
    return PageFrame{state.registry.config().env,
                     state.auth.enabled() && state.HasSession(CookieValue(request, kSessionCookie))};
  };

  // Every path but the sign-in form and the static files needs a token.
  server.set_pre_routing_handler([&state](const httplib::Request& request, httplib::Response& response) {
    if (!state.auth.enabled() || request.path == "/login" || request.path.rfind("/static/", 0) == 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string header = request.get_header_value("Authorization");
    if (!header.empty()) {
      if (state.auth.Check(header, Access::kRead).ok()) return httplib::Server::HandlerResponse::Unhandled;
    } else if (state.HasSession(CookieValue(request, kSessionCookie))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.status = 401;
    response.set_header("WWW-Authenticate", "Bearer realm=\"ingestfleet\"");
    if (request.path.rfind("/api/", 0) == 0) {
      response.set_content(header.empty()
                               ? "{\"error\":\"a token is needed: Authorization: Bearer <admin read token>\"}"
                               : "{\"error\":\"the token is not valid here\"}",
                           "application/json");
    } else {
      std::string next = request.path;
      if (!request.params.empty()) next = request.target;
      response.set_content(RenderLoginPage(next, !header.empty()), "text/html; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  server.Get("/static/style.css", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(StyleSheet()), "text/css; charset=utf-8");
  });
  server.Get("/static/live.js", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(LiveScript()), "text/javascript; charset=utf-8");
  });

  server.Get("/login", [&state](const httplib::Request& request, httplib::Response& response) {
    if (!state.auth.enabled()) {
      response.set_redirect("/", 303);
      return;
    }
    SendPage(response, RenderLoginPage(SafeNext(request.get_param_value("next")), false));
  });
  server.Post("/login", [&state](const httplib::Request& request, httplib::Response& response) {
    const std::string next = SafeNext(request.get_param_value("next"));
    if (!state.auth.enabled()) {
      response.set_redirect(next, 303);
      return;
    }
    const std::string token = request.get_param_value("token");
    const std::string session =
        !token.empty() && state.auth.Check("Bearer " + token, Access::kRead).ok() ? state.NewSession() : "";
    if (session.empty()) {
      response.status = 401;
      SendPage(response, RenderLoginPage(next, true));
      return;
    }
    response.set_header("Set-Cookie",
                        fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kSessionCookie, session,
                                    std::chrono::seconds(kSessionLifetime).count(), state.secure ? "; Secure" : ""));
    response.set_redirect(next, 303);
  });
  server.Post("/logout", [&state](const httplib::Request& request, httplib::Response& response) {
    state.EndSession(CookieValue(request, kSessionCookie));
    response.set_header("Set-Cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kSessionCookie));
    response.set_redirect("/login", 303);
  });

  // ---- Pages.
  server.Get("/", [&state, frame](const httplib::Request& request, httplib::Response& response) {
    Result<admin::ListRunsResponse> runs = state.Runs(request, kRunsPerPage);
    if (!runs.ok()) return SendPageError(response, frame(request), runs.status());
    SendPage(response, RenderRunsPage(frame(request), *runs, StateOfWord(request.get_param_value("status")),
                                      std::chrono::system_clock::now()));
  });
  server.Get(R"(/runs/([A-Za-z0-9_.-]+))",
             [&state, frame](const httplib::Request& request, httplib::Response& response) {
               Result<admin::Run> run = state.registry.Get(RunId{request.matches[1]});
               if (!run.ok()) return SendPageError(response, frame(request), run.status());
               Result<admin::RunFailures> failures = state.Failures(*run);
               if (!failures.ok()) return SendPageError(response, frame(request), failures.status());
               Result<admin::Report> report = run->report_path().empty() ? Result<admin::Report>(admin::Report())
                                                                         : state.registry.Report(RunId{run->run_id()});
               SendPage(response, RenderRunPage(frame(request), *run, *failures, report.ok() ? report->markdown() : "",
                                                std::chrono::system_clock::now()));
             });
  server.Get("/workers", [&state, frame](const httplib::Request& request, httplib::Response& response) {
    SendPage(response, RenderWorkersPage(frame(request), state.registry.Workers(), std::chrono::system_clock::now()));
  });
  server.Get("/schedule", [&state, frame](const httplib::Request& request, httplib::Response& response) {
    SendPage(response, RenderSchedulePage(frame(request), state.Schedule(), std::chrono::system_clock::now()));
  });

  // ---- The JSON the pages are made from.
  server.Get("/api/runs", [&state](const httplib::Request& request, httplib::Response& response) {
    Result<admin::ListRunsResponse> runs = state.Runs(request, 0);
    if (!runs.ok()) return SendApiError(response, runs.status());
    SendJson(response, *runs);
  });
  server.Get(R"(/api/runs/([A-Za-z0-9_.-]+))", [&state](const httplib::Request& request, httplib::Response& response) {
    Result<admin::Run> run = state.registry.Get(RunId{request.matches[1]});
    if (!run.ok()) return SendApiError(response, run.status());
    SendJson(response, *run);
  });
  server.Get(R"(/api/runs/([A-Za-z0-9_.-]+)/failures)",
             [&state](const httplib::Request& request, httplib::Response& response) {
               Result<admin::Run> run = state.registry.Get(RunId{request.matches[1]});
               Result<admin::RunFailures> failures = run.ok() ? state.Failures(*run) : run.status();
               if (!failures.ok()) return SendApiError(response, failures.status());
               SendJson(response, *failures);
             });
  server.Get(R"(/api/runs/([A-Za-z0-9_.-]+)/report)",
             [&state](const httplib::Request& request, httplib::Response& response) {
               Result<admin::Report> report = state.registry.Report(RunId{request.matches[1]});
               if (!report.ok()) return SendApiError(response, report.status());
               SendJson(response, *report);
             });
  server.Get("/api/workers", [&state](const httplib::Request&, httplib::Response& response) {
    SendJson(response, state.registry.Workers());
  });
  server.Get("/api/schedule",
             [&state](const httplib::Request&, httplib::Response& response) { SendJson(response, state.Schedule()); });

  server.set_error_handler([&state](const httplib::Request& request, httplib::Response& response) {
    if (response.status != 404 || !response.body.empty()) return;
    if (request.path.rfind("/api/", 0) == 0) {
      response.set_content("{\"error\":" + JsonQuote("no such path: " + request.path) + "}", "application/json");
    } else {
      response.set_content(
          RenderErrorPage(PageFrame{state.registry.config().env}, 404, "There is no page at " + request.path + "."),
          "text/html; charset=utf-8");
    }
  });
}

}  // namespace

WebServer::WebServer() = default;
WebServer::~WebServer() { Stop(); }

Result<std::unique_ptr<WebServer>> WebServer::Start(const Config& config, RunRegistry& registry) {
  INGEST_ASSIGN_OR_RETURN(TokenAuth auth, TokenAuth::Load(config.admin));
  std::string listen = config.web.listen;
  auto [host, port] = SplitHostPort(listen);
  if (!auth.enabled() && !IsLoopbackHost(host)) {
    spdlog::warn("web: no admin.token_file, so the status page listens on loopback only (127.0.0.1:{}), not on {}",
                 port, listen);
    listen = "127.0.0.1:" + port;
  }
  std::unique_ptr<WebServer> server(new WebServer());
  server->state_ = std::make_unique<WebState>(registry, std::move(auth));
  // admin.tls serves the page over HTTPS too (with the same client CA, if
  // any): its token and cookie are worth the same as the API's.
  const AdminConfig& admin = config.admin;
  std::unique_ptr<httplib::Server> routes;
  if (admin.tls_cert.empty()) {
    routes = std::make_unique<httplib::Server>();
  } else {
    auto tls =
        std::make_unique<httplib::SSLServer>(admin.tls_cert.c_str(), admin.tls_key.c_str(),
                                             admin.tls_client_ca.empty() ? nullptr : admin.tls_client_ca.c_str());
    if (!tls->is_valid()) {
      return InvalidArgument("web: keys 'admin.tls.cert' / 'key'" +
                             std::string(admin.tls_client_ca.empty() ? "" : " / 'client_ca'") + " (" +
                             admin.tls_cert.string() + ", " + admin.tls_key.string() +
                             "): not a readable certificate and matching key");
    }
    routes = std::move(tls);
    server->state_->secure = true;
  }
  routes->set_default_headers(kSecurityHeaders);
  AddRoutes(*routes, *server->state_);
  INGEST_ASSIGN_OR_RETURN(server->endpoint_, HttpEndpoint::Start(std::move(routes), listen, "web.listen"));
  spdlog::info("web: status page on {}://{}/ ({})", server->state_->secure ? "https" : "http", server->address(),
               server->state_->auth.enabled() ? "admin tokens required" : "no token");
  return server;
}

Result<std::unique_ptr<WebServer>> WebServer::StartIfListening(const Config& config, RunRegistry& registry) {
  if (config.web.listen.empty()) return std::unique_ptr<WebServer>();
  return Start(config, registry);
}

const std::string& WebServer::address() const { return endpoint_->address(); }

void WebServer::Stop() {
  if (endpoint_) endpoint_->Stop();
}

}  // namespace ingest
