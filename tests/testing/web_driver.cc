#include "tests/testing/web_driver.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/proto_json.h"

namespace ingest::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kChromeDriver[] = "/usr/bin/chromedriver";

bool ParseValue(const std::string& json, google::protobuf::Value* value) {
  return google::protobuf::util::JsonStringToMessage(json, value).ok();
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
  const std::string capabilities =
      R"({"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":")" +
      std::string(kChromium) +
      R"(","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--hide-scrollbars",)"
      R"("--no-first-run","--window-size=1200,1000","--user-data-dir=)" +
      (work_dir / "profile").string() + R"("]}}}})";
  const std::string value = Call("POST", "/session", capabilities);
  google::protobuf::Value parsed;
  if (!value.empty() && ParseValue(value, &parsed)) {
    const auto& fields = parsed.struct_value().fields();
    if (auto it = fields.find("sessionId"); it != fields.end()) session_ = it->second.string_value();
  }
  EXPECT_FALSE(session_.empty()) << "chromedriver gave no session: " << value << "\n"
                                 << ReadAll(work_dir / "chromedriver.err");
}

Browser::~Browser() {
  if (!session_.empty()) Call("DELETE", "/session/" + session_, "");
  if (driver_) {
    driver_->Signal(SIGTERM);
    driver_->Wait(Scaled(10s));
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
  google::protobuf::Value parsed;
  if (!ParseValue(answer->body, &parsed) || !parsed.struct_value().fields().contains("value")) {
    ADD_FAILURE() << "WebDriver " << method << " " << path << ": " << answer->status << " " << answer->body;
    return "";
  }
  std::string value;
  (void)google::protobuf::util::MessageToJsonString(parsed.struct_value().fields().at("value"), &value);
  if (answer->status != 200) {
    ADD_FAILURE() << "WebDriver " << method << " " << path << ": " << answer->status << " " << value;
    return "";
  }
  return value;
}

void Browser::Go(const std::string& url) {
  if (!ok()) return;
  Call("POST", "/session/" + session_ + "/url", "{\"url\":" + JsonQuote(url) + "}");
}

std::string Browser::Eval(const std::string& script) {
  if (!ok()) return "null";
  std::string value =
      Call("POST", "/session/" + session_ + "/execute/sync", "{\"script\":" + JsonQuote(script) + ",\"args\":[]}");
  return value.empty() ? "null" : value;
}

std::string Browser::EvalString(const std::string& script) {
  google::protobuf::Value parsed;
  if (!ParseValue(Eval(script), &parsed)) return "";
  return parsed.string_value();
}

void Browser::Resize(int width, int height) {
  if (!ok()) return;
  Call("POST", "/session/" + session_ + "/window/rect",
       "{\"width\":" + std::to_string(width) + ",\"height\":" + std::to_string(height) + "}");
}

void Browser::Screenshot(const std::filesystem::path& png) {
  if (!ok()) return;
  google::protobuf::Value parsed;
  ASSERT_TRUE(ParseValue(Call("GET", "/session/" + session_ + "/screenshot", ""), &parsed));
  const std::string& base64 = parsed.string_value();
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
