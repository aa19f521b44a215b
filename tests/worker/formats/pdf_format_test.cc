#include <gmock/gmock.h>

#include <fstream>

#include "tests/testing/pdf_fixture.h"
#include "tests/testing/testing.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

ExtractLimits Limits() {
  ExtractLimits limits;
  limits.pdf_helper = (testing::BinDir() / "ingest-pdf-extract").string();
  limits.pdf_wall_seconds = 30;
  return limits;
}

TEST(ExtractPdfTest, PagesAndOutlineWithPageNumbers) {
  TempDir dir;
  auto path = dir.path() / "manual.pdf";
  testing::WritePdf(path,
                    {"Preface\nWelcome to the manual.", "Chapter One\nInstall the unit.", "Details of step two.",
                     "Chapter Two\nCalibrate the sensor."},
                    {{"Preface", 1, 1}, {"Chapter One", 1, 2}, {"Step Two", 2, 3}, {"Chapter Two", 1, 4}});
  Result<ExtractedDocument> doc = ExtractPdf(path.string(), Limits(), 0, 0);
  ASSERT_OK(doc);
  EXPECT_EQ(doc->page_count, 4u);
  ASSERT_EQ(doc->page_starts.size(), 4u);
  EXPECT_THAT(doc->text.substr(doc->page_starts[3]), HasSubstr("Calibrate the sensor."));
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[2].title(), "Step Two");
  EXPECT_EQ(doc->sections[2].level(), 2u);
  EXPECT_EQ(doc->sections[2].page_start(), 3u);
  EXPECT_EQ(doc->sections[2].offset(), doc->page_starts[2]);
  EXPECT_EQ(PageAt(doc->page_starts, 1, doc->text.find("Install")), 2u);
}

TEST(ExtractPdfTest, PageRangeMatchesTheWholeDocumentText) {
  TempDir dir;
  auto path = dir.path() / "range.pdf";
  testing::WritePdf(path, {"one", "two", "three", "four"});
  Result<ExtractedDocument> whole = ExtractPdf(path.string(), Limits(), 0, 0);
  Result<ExtractedDocument> part = ExtractPdf(path.string(), Limits(), 2, 3);
  ASSERT_OK(whole);
  ASSERT_OK(part);
  EXPECT_EQ(part->first_page, 2u);
  EXPECT_EQ(part->text, whole->text.substr(whole->page_starts[1], whole->page_starts[3] - 1 - whole->page_starts[1]));
  EXPECT_EQ(*PdfPageCount(path.string(), Limits()), 4u);
}

TEST(ExtractPdfTest, WithoutOutlineHeadingsComeFromTheText) {
  TempDir dir;
  auto path = dir.path() / "plain.pdf";
  testing::WritePdf(path, {"INTRODUCTION\n\nThis manual explains things.", "1. Safety\n\nRead this first."});
  Result<ExtractedDocument> doc = ExtractPdf(path.string(), Limits(), 0, 0);
  ASSERT_OK(doc);
  ASSERT_FALSE(doc->sections.empty());
  EXPECT_EQ(doc->sections[0].title(), "INTRODUCTION");
}

TEST(ExtractPdfTest, CorruptAndTruncatedPdfsFailAsDataLoss) {
  TempDir dir;
  auto good = dir.path() / "good.pdf";
  testing::WritePdf(good, {"some text on a page"});
  std::string bytes = testing::ReadAll(good);
  auto truncated = dir.path() / "truncated.pdf";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  auto garbage = dir.path() / "garbage.pdf";
  std::ofstream(garbage, std::ios::binary) << "%PDF-1.4\n" << std::string(5000, '\x7f') << "\n%%EOF\n";
  for (const auto& p : {truncated, garbage}) {
    Result<ExtractedDocument> doc = ExtractPdf(p.string(), Limits(), 0, 0);
    ASSERT_FALSE(doc.ok()) << p;
    EXPECT_EQ(doc.status().code(), StatusCode::kDataLoss) << doc.status().ToString();
  }
}

TEST(ExtractPdfTest, WallClockLimitKillsTheHelper) {
  TempDir dir;
  auto path = dir.path() / "slow.pdf";
  std::vector<std::string> pages(200, std::string(2000, 'x'));
  testing::WritePdf(path, pages);
  ExtractLimits limits = Limits();
  limits.pdf_wall_seconds = 0;  // already past: the helper is killed at once
  Result<ExtractedDocument> doc = ExtractPdf(path.string(), limits, 0, 0);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace ingest
