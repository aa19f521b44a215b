#include "tests/testing/web_driver.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <thread>

#include "common/proto_json.h"
#include "common/utf8.h"

namespace ingest::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kChromeDriver[] = "/usr/bin/chromedriver";

// The string value of the first `"key":` in `json`, decoded; nullopt when
// it is missing or not a string. WebDriver's answers are read with this
// alone: every script's value comes back as JSON text in a string.
std::optional<std::string> JsonStringField(std::string_view json, std::string_view key) {
  // Appended, not concatenated: GCC 12 warns falsely (-Wrestrict) on "\"" + key.
  std::string quoted = "\"";
  quoted.append(key);
  quoted.push_back('"');
  size_t at = json.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  at = json.find_first_not_of(" \t\r\n", at + quoted.size());
  if (at == std::string_view::npos || json[at] != ':') return std::nullopt;
  at = json.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string_view::npos || json[at] != '"') return std::nullopt;
  std::string out;
  for (size_t i = at + 1; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') return out;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= json.size()) break;
    switch (json[i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        if (i + 4 >= json.size()) return std::nullopt;
        uint32_t cp = std::stoul(std::string(json.substr(i + 1, 4)), nullptr, 16);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < json.size() && json[i + 1] == '\\' && json[i + 2] == 'u') {
          const uint32_t low = std::stoul(std::string(json.substr(i + 3, 4)), nullptr, 16);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendCodePoint(cp, &out);
        break;
      }
      default:  // \" \\ \/
        out.push_back(json[i]);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string Browser::Missing() {
  for (const char* program : {kChromium, kChromeDriver}) {
    if (::access(program, X_OK) != 0) {
      return std::string(program) +
             " is not installed (Debian packages chromium and chromium-driver; scripts/setup.sh)";
    }
  }
  return "";
}

Browser::Browser(const std::filesystem::path& work_dir) {
  std::filesystem::create_directories(work_dir / "profile");
  // Chromium is this process's own child, not chromedriver's: a test that
  // dies takes it along (Subprocess), where chromedriver's would be left.
  browser_ = std::make_unique<Subprocess>(
      std::vector<std::string>{kChromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--hide-scrollbars", "--no-first-run", "--window-size=1200,1000",
                               "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                               "--user-data-dir=" + (work_dir / "profile").string(), "about:blank"},
      work_dir / "chromium.out", work_dir / "chromium.err");
  const std::string devtools = WaitForLine(work_dir / "chromium.err", "DevTools listening on ws://", Scaled(60s));
  const std::string debugger = devtools.substr(0, devtools.find('/'));
  if (debugger.empty()) {
    ADD_FAILURE() << "chromium did not start: " << ReadAll(work_dir / "chromium.err");
    return;
  }
  port_ = FreeLoopbackPort();
  if (port_ <= 0) {
    ADD_FAILURE() << "no free loopback port for chromedriver";
    return;
  }
  driver_ = std::make_unique<Subprocess>(
      std::vector<std::string>{kChromeDriver, "--port=" + std::to_string(port_), "--allowed-ips=127.0.0.1"},
      work_dir / "chromedriver.out", work_dir / "chromedriver.err");
  const auto deadline = std::chrono::steady_clock::now() + Scaled(30s);
  httplib::Client client("127.0.0.1", port_);
  while (std::chrono::steady_clock::now() < deadline && driver_->running()) {
    if (auto status = client.Get("/status"); status && status->status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  const std::string answer =
      Call("POST", "/session",
           R"({"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"debuggerAddress":")" +
               debugger + R"("}}}})");
  session_ = JsonStringField(answer, "sessionId").value_or("");
  EXPECT_FALSE(session_.empty()) << "chromedriver gave no session: " << answer << "\n"
                                 << ReadAll(work_dir / "chromedriver.err");
}

Browser::~Browser() {
  if (!session_.empty()) Call("DELETE", "/session/" + session_, "");
  for (auto* process : {&driver_, &browser_}) {
    if (*process) {
      (*process)->Signal(SIGTERM);
      (*process)->Wait(Scaled(10s));
    }
  }
}

std::string Browser::Call(const std::string& method, const std::string& path, const std::string& body) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(Scaled(120s)).count());
  httplib::Result answer = method == "POST"     ? client.Post(path, body, "application/json")
                           : method == "DELETE" ? client.Delete(path)
                                                : client.Get(path);
  if (!answer) {
    ADD_FAILURE() << "WebDriver " << method << " " << path << ": no answer (" << httplib::to_string(answer.error())
                  << ")";
    return "";
  }
  if (answer->status != 200) {
    ADD_FAILURE() << "WebDriver " << method << " " << path << ": " << answer->status << " " << answer->body;
    return "";
  }
  return answer->body;
}

void Browser::Go(const std::string& url) {
  if (!ok()) return;
  Call("POST", "/session/" + session_ + "/url", "{\"url\":" + JsonQuote(url) + "}");
}

std::string Browser::Eval(const std::string& script) {
  if (!ok()) return "null";
  // The value comes back as JSON text in a string, whatever its type.
  std::string wrapped = "var value = (function () { ";
  wrapped += script;
  wrapped += " })(); return value === undefined ? 'null' : JSON.stringify(value);";
  const std::string answer =
      Call("POST", "/session/" + session_ + "/execute/sync", "{\"script\":" + JsonQuote(wrapped) + ",\"args\":[]}");
  return JsonStringField(answer, "value").value_or("null");
}

std::string Browser::EvalString(const std::string& script) {
  std::string answer = "{\"value\":";
  answer += Eval(script);
  answer += "}";
  return JsonStringField(answer, "value").value_or("");
}

void Browser::Resize(int width, int height) {
  if (!ok()) return;
  Call("POST", "/session/" + session_ + "/window/rect",
       "{\"width\":" + std::to_string(width) + ",\"height\":" + std::to_string(height) + "}");
}

void Browser::Screenshot(const std::filesystem::path& png) {
  if (!ok()) return;
  const std::string base64 =
      JsonStringField(Call("GET", "/session/" + session_ + "/screenshot", ""), "value").value_or("");
  ASSERT_FALSE(base64.empty());
  std::string bytes(base64.size() / 4 * 3, '\0');
  const int decoded =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                      reinterpret_cast<const unsigned char*>(base64.data()), static_cast<int>(base64.size()));
  ASSERT_GT(decoded, 0);
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  for (size_t i = base64.size(); i > 0 && base64[i - 1] == '='; --i) ++padding;
  bytes.resize(static_cast<size_t>(decoded) - padding);
  std::filesystem::create_directories(png.parent_path());
  std::ofstream(png, std::ios::binary) << bytes;
}

}  // namespace ingest::testing
