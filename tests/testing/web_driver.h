#pragma once

// A headless Chromium driven over the W3C WebDriver protocol through
// Debian's chromedriver, for tests of the status page in a real browser.

#include <filesystem>
#include <memory>
#include <string>

#include "tests/testing/testing.h"

namespace ingest::testing {

class Browser {
 public:
  // Why no browser can run here ("" when chromium and chromedriver are
  // installed): tests skip with it.
  static std::string Missing();

  // Starts a headless Chromium (with a DevTools port on loopback) and
  // chromedriver on a free loopback port, and opens a session attached to
  // that Chromium; `work_dir` holds the profile and both logs. Fails the
  // test (and returns an unusable browser) when either does not start.
  explicit Browser(const std::filesystem::path& work_dir);
  // Ends the session and stops chromedriver and Chromium.
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  bool ok() const { return !session_.empty(); }
  // Loads `url` and waits for the document to be ready.
  void Go(const std::string& url);
  // Runs `script` (a function body: `return ...;`) in the page; its value as
  // JSON text ("null" when the call failed, with a test failure).
  std::string Eval(const std::string& script);
  // Eval of a script that returns a string, as that string.
  std::string EvalString(const std::string& script);
  // Sets the window's size in CSS pixels (a phone's: 390 x 844).
  void Resize(int width, int height);
  // A PNG of the viewport.
  void Screenshot(const std::filesystem::path& png);

 private:
  // The answer's body; "" with a test failure on an error.
  std::string Call(const std::string& method, const std::string& path, const std::string& body);

  std::unique_ptr<Subprocess> browser_;
  std::unique_ptr<Subprocess> driver_;
  int port_ = 0;
  std::string session_;
};

}  // namespace ingest::testing
