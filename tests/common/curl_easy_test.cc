#include "common/curl_easy.h"

#include <dlfcn.h>

#include <string>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* sink) {
  static_cast<std::string*>(sink)->append(data, size * count);
  return size * count;
}

// libcurl is opened on first use, not linked (common/curl_easy.cc): these
// transfers of a local file go through our forwarders with an argument of
// every kind (long, pointer, function, curl_off_t), each of which would
// change the outcome if it arrived wrong.
TEST(CurlEasyTest, TheLibraryOpenedOnFirstUseTakesEveryKindOfOptionAndAnswersInfo) {
  // Nothing has loaded it yet: the test binary does not link it either.
  EXPECT_EQ(dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD), nullptr);
  testing::TempDir dir;
  const std::string content(10000, 'x');
  const std::string url = "file://" + dir.Write("page.txt", content).string();
  Result<CurlEasy> curl = NewCurlEasy();
  ASSERT_OK(curl);
  CURL* h = curl->get();
  std::string received;
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_URL, url.c_str()), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "file"), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Collect), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_WRITEDATA, &received), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, curl_off_t{9000}), CURLE_OK);
  ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  EXPECT_EQ(received.size(), 1000u) << "the curl_off_t offset arrived as another value";
  curl_off_t downloaded = 0;
  ASSERT_EQ(curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &downloaded), CURLE_OK);
  EXPECT_EQ(downloaded, 1000);

  // A long: without the body, nothing is written.
  received.clear();
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, curl_off_t{0}), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_NOBODY, 1L), CURLE_OK);
  ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  EXPECT_EQ(received, "");
  EXPECT_STREQ(curl_easy_strerror(CURLE_FILESIZE_EXCEEDED), "Maximum file size exceeded");
  CurlList headers;
  AppendCurlList(headers, "X-Test: 1");
  EXPECT_NE(headers.get(), nullptr);
  EXPECT_NE(dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD), nullptr);
}

}  // namespace
}  // namespace ingest
