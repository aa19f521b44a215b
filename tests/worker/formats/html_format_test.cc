#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/formats/formats.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ExtractHtmlTest, TitleHeadingsReadingTextOnly) {
  std::string html =
      "<!doctype html><html><head><title>User Manual</title><style>p{color:red}</style>"
      "<script>var secret = 1;</script></head><body><nav>Home</nav><h1>Setup</h1><p>Plug   the\n cable &amp; wait"
      "&nbsp;&mdash; done.</p><h2>Calibration</h2><table><tr><th>Step</th><th>Action</th></tr>"
      "<tr><td>1</td><td>Press</td></tr></table><pre>  keep   spacing</pre></body></html>";
  ExtractedDocument doc = ExtractHtml(html, 100);
  EXPECT_EQ(doc.title, "User Manual");
  ASSERT_EQ(doc.sections.size(), 2u);
  EXPECT_EQ(doc.sections[0].title(), "Setup");
  EXPECT_EQ(doc.sections[1].title(), "Calibration");
  EXPECT_EQ(doc.sections[1].level(), 2u);
  EXPECT_EQ(doc.text.substr(doc.sections[0].offset(), 5), "Setup");
  EXPECT_THAT(doc.text, HasSubstr("Plug the cable & wait\xC2\xA0\xE2\x80\x94 done."));
  EXPECT_THAT(doc.text, HasSubstr("Step | Action\n1 | Press"));
  EXPECT_THAT(doc.text, HasSubstr("  keep   spacing"));
  EXPECT_THAT(doc.text, Not(HasSubstr("secret")));
  EXPECT_THAT(doc.text, Not(HasSubstr("color")));
}

TEST(ExtractHtmlTest, DeepNestingDoesNotExhaustTheStack) {
  std::string html = "<html><body>";
  for (int i = 0; i < 20000; ++i) html += "<div>";
  html += "deep text";
  ExtractedDocument doc = ExtractHtml(html, 100);
  EXPECT_THAT(doc.text, HasSubstr("deep text"));
}

}  // namespace
}  // namespace ingest
