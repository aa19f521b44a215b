// A corpus of every supported format plus every kind of bad file, through
// the real coordinator and workers: the good documents go through A..F, each
// bad one fails alone with its error class, and the workers survive.

#include <unistd.h>

#include <set>

#include "tests/integration/job_fixture.h"
#include "tests/testing/pdf_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadAll;

class FormatsTest : public testing::JobTest {
 protected:
  void SetUp() override {
    corpus_ = dir_.path() / "corpus";
    std::filesystem::create_directories(corpus_);
  }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(corpus_ / name, std::ios::binary) << bytes;
  }

  void WriteGoodDocuments() {
    std::vector<std::string> pages;
    for (int p = 1; p <= 6; ++p) {
      pages.push_back("Page " + std::to_string(p) +
                      " of the Field Manual.\nThe Control Unit stores profiles. "
                      "Calibrate the Sensor Array before use.");
    }
    testing::WritePdf(
        corpus_ / "manual.pdf", pages,
        {{"Setup", 1, 1}, {"Wiring", 2, 2}, {"Calibration", 1, 3}, {"Profiles", 2, 4}, {"Maintenance", 1, 6}});
    testing::WritePdf(corpus_ / "plain.pdf", {"INTRODUCTION\nA PDF without bookmarks.", "1. Safety\nRead this first."});
    Write("guide.html",
          "<!doctype html><html><head><title>Guide</title><script>var token='x';</script></head><body>"
          "<h1>Overview</h1><p>The guide &amp; its tables.</p><h2>Steps</h2><table><tr><td>1</td><td>Plug</td></tr>"
          "</table></body></html>");
    Write("readme.md",
          "# Readme\n\nIntro text.\n\n```\ncode  block\n```\n\n## Usage\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
    Write("crlf.txt", "WINDOWS NOTES\r\n\r\nLine one.\r\nLine two.\r\n");
    std::string utf16 = "\xFF\xFE";
    for (char c : std::string("UTF-16 text survives.")) utf16 += std::string{c, '\0'};
    Write("utf16.txt", utf16);
    Write("name with spaces & $(x) \xC3\xBC.md", "# Odd Name\n\nStill processed.\n");
    Write("francais.md", "# R\xC3\xA9sum\xC3\xA9\n\nLe coordinateur a red\xC3\xA9marr\xC3\xA9 deux fois.\n");
    std::string headings;
    for (int i = 0; i < 100000; ++i) headings += "# h" + std::to_string(i) + "\n";
    Write("headings.md", headings);
    std::string line;
    while (line.size() < (50u << 20)) line += "word ";
    Write("longline.txt", line);
  }

  void WriteBadDocuments() {
    testing::WritePdf(dir_.path() / "ok.pdf", {"text that will be cut off"});
    std::string pdf = ReadAll(dir_.path() / "ok.pdf");
    Write("truncated.pdf", pdf.substr(0, pdf.size() / 3));
    Write("garbage.pdf", "%PDF-1.4\n" + std::string(4000, '\x7f') + "\n%%EOF\n");
    Write("binary.txt", std::string("\x7f"
                                    "ELF\x02\x01\x01\0\0\0",
                                    10));
    Write("empty.md", "");
    Write("blank.txt", "   \n\n  \n");
    std::ofstream(dir_.path() / "secret.txt") << "outside the root";
    std::filesystem::create_symlink(dir_.path() / "secret.txt", corpus_ / "escape.txt");
    Write("huge.txt", std::string(70u << 20, 'a'));
    // 1 GB without writing 1 GB: a sparse file reads as NUL bytes.
    { std::ofstream(corpus_ / "sparse.log"); }
    std::filesystem::resize_file(corpus_ / "sparse.log", uintmax_t{1} << 30);
    Write("unreadable.md", "# secret\n");
    std::filesystem::permissions(corpus_ / "unreadable.md", std::filesystem::perms::none);
  }

  std::map<std::string, DocumentRecord> Documents(const std::filesystem::path& job) {
    Result<Manifest> manifest = LoadManifest(job / "manifest.json");
    EXPECT_OK(manifest);
    std::map<std::string, DocumentRecord> docs;
    for (const auto& [id, doc] : manifest->documents()) docs[doc.path()] = doc;
    return docs;
  }
};

TEST_F(FormatsTest, GoodDocumentsGoThroughAndBadOnesFailAloneWithTheirClass) {
  WriteGoodDocuments();
  WriteBadDocuments();
  worker_flags_ = {"--max-document-mb", "64", "--pdf-timeout-s", "60"};
  chunk_chars_ = 4000;  // the 50 MB line still makes ~13,000 chunks
  testing::RunOutcome run = Run({}, 2);
  ASSERT_EQ(run.exit_code, 3) << run.stderr_text;
  RunSummary summary = Summary(run);
  std::filesystem::path job = summary.job_dir();
  std::map<std::string, DocumentRecord> docs = Documents(job);

  std::map<std::string, std::string> expected_failures = {
      {"truncated.pdf", "corrupt"},     {"garbage.pdf", "corrupt"},        {"binary.txt", "invalid_document"},
      {"empty.md", "invalid_document"}, {"blank.txt", "invalid_document"}, {"escape.txt", "permission_denied"},
      {"huge.txt", "too_large"},        {"sparse.log", "invalid_document"}};
  // Root reads any file; the permission case only holds for other users.
  if (::geteuid() != 0) expected_failures["unreadable.md"] = "permission_denied";
  for (const auto& [path, error_class] : expected_failures) {
    ASSERT_EQ(docs.count(path), 1u) << path;
    EXPECT_EQ(docs[path].status(), kDocFailed) << path;
    EXPECT_EQ(docs[path].error_class(), error_class) << path << ": " << docs[path].error();
    EXPECT_EQ(docs[path].failed_pass(), "A") << path;
  }
  for (const auto& [path, doc] : docs) {
    if (expected_failures.count(path) == 0) {
      EXPECT_EQ(doc.status(), kDocProcessed) << path << ": " << doc.error();
    }
  }
  EXPECT_EQ(summary.documents().failed(), expected_failures.size());

  // Every pass succeeded over the good documents.
  Result<Manifest> manifest = LoadManifest(job / "manifest.json");
  ASSERT_OK(manifest);
  for (Pass p : kAllPasses) EXPECT_EQ(PassEntry(*manifest, p).status(), kPassSuccess) << PassLetter(p);

  // PDF: outline sections with pages, chunks whose pages cover the document.
  std::string toc = ReadAll(job / "passA_toc.json");
  EXPECT_THAT(toc, HasSubstr("{\"title\":\"Profiles\",\"level\":2,\"page_start\":4"));
  EXPECT_THAT(toc, HasSubstr("\"path\":\"plain.pdf\",\"format\":\"pdf\",\"sections\":[{\"title\":\"INTRODUCTION\""));
  EXPECT_THAT(toc, HasSubstr("{\"title\":\"Steps\",\"level\":2"));
  EXPECT_THAT(toc, HasSubstr("\"title\":\"Guide\""));
  std::string manual_id;
  for (const auto& [id, doc] : manifest->documents()) {
    if (doc.path() == "manual.pdf") manual_id = id;
  }
  std::set<uint32_t> pages;
  std::istringstream chunks(ReadAll(job / "passC_chunks.json"));
  std::string line;
  std::string all_text;
  while (std::getline(chunks, line)) {
    if (line.size() < 3) continue;
    if (line.back() == ',') line.pop_back();
    ChunkRecord c;
    ASSERT_OK(FromJson(line, &c));
    if (c.source_id() == manual_id) pages.insert(c.page());
    all_text += c.text() + "\n";
  }
  EXPECT_EQ(pages, (std::set<uint32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_THAT(all_text, HasSubstr("UTF-16 text survives."));
  EXPECT_THAT(all_text, HasSubstr("code  block"));
  EXPECT_THAT(all_text, HasSubstr("1 | 2"));
  EXPECT_THAT(all_text, HasSubstr("The guide & its tables."));
  EXPECT_THAT(all_text, Not(HasSubstr("token")));
  EXPECT_THAT(all_text, Not(HasSubstr("\r")));
  EXPECT_THAT(all_text, Not(HasSubstr("outside the root")));
}

}  // namespace
}  // namespace ingest
