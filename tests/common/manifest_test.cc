#include "common/manifest.h"

#include <sstream>

#include "common/atomic_file.h"
#include "common/proto_json.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

Manifest SampleManifest() {
  Manifest m = NewManifest("job_2026-11-22T02-00-00", "dev");
  PassRecord& a = PassEntry(m, Pass::PASS_A);
  a.set_status(kPassSuccess);
  ArtifactRecord* art = a.add_artifacts();
  art->set_path("passA_toc.json");
  art->set_sha256(std::string(64, 'a'));
  art->set_bytes(123);
  art->set_records(4);
  DocumentRecord& doc = (*m.mutable_documents())["doc_1"];
  doc.set_source("rules");
  doc.set_path("a.md");
  doc.set_status(kDocFailed);
  doc.set_error_class("permission_denied");
  RunRecord* run = m.add_runs();
  run->set_run_id("run_20261122_020000_1");
  run->set_trigger("schedule");
  return m;
}

TEST(ManifestTest, StatusIsReadWithoutParsingTheDocuments) {
  TempDir dir;
  Manifest m = SampleManifest();
  // Nested "status" keys and quotes, braces and commas inside strings come
  // before the job's own status.
  DocumentRecord& doc = (*m.mutable_documents())["doc_2"];
  doc.set_path(R"(odd "status": "completed", {[ \ name.md)");
  doc.set_status(kDocProcessed);
  for (const char* status : {kJobRunning, kJobCompleted, kJobPartial}) {
    m.set_status(status);
    ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
    Result<std::string> read = ReadManifestStatus(dir.path() / "manifest.json");
    ASSERT_OK(read);
    EXPECT_EQ(*read, status);
  }
}

TEST(ManifestTest, TheStatusAfterSeveralBlocksOfDocumentsIsFound) {
  Manifest m = SampleManifest();
  for (int i = 0; i < 5000; ++i) {  // about a megabyte: the status is read in blocks of 256 KiB
    DocumentRecord& doc = (*m.mutable_documents())["doc_" + std::to_string(i)];
    doc.set_path("a \"status\": \"quoted\" \\ \n \"status\": \"newline\" " + std::to_string(i) + ".md");
    doc.set_status(kDocProcessed);
  }
  m.set_status(kJobCompleted);
  TempDir dir;
  ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
  ASSERT_GT(std::filesystem::file_size(dir.path() / "manifest.json"), 3u << 18);
  Result<std::string> read = ReadManifestStatus(dir.path() / "manifest.json");
  ASSERT_OK(read);
  EXPECT_EQ(*read, kJobCompleted);
}

TEST(ManifestTest, TheStatusOfAManifestLaidOutByAnotherToolIsFoundToo) {
  Manifest m = SampleManifest();
  m.set_status(kJobPartial);
  (*m.mutable_documents())["doc_2"].set_path("x\n \"status\": \"completed\"");
  TempDir dir;
  const auto path = dir.path() / "manifest.json";
  const std::string compact = ToJson(m);
  std::string two_spaces;  // two spaces of indent a level, as Python's json.dump(indent=2)
  std::istringstream lines(ManifestJson(m));
  for (std::string line; std::getline(lines, line);) {
    const size_t indent = line.find_first_not_of(' ');
    two_spaces += std::string(indent, ' ') + line + "\n";
  }
  for (const std::string& text : {compact, two_spaces}) {
    ASSERT_OK(WriteFileAtomic(path, text));
    Result<std::string> read = ReadManifestStatus(path);
    ASSERT_OK(read) << text.substr(0, 200);
    EXPECT_EQ(*read, kJobPartial);
  }
}

TEST(ManifestTest, StatusOfAMalformedManifestIsAnErrorNamingTheFile) {
  TempDir dir;
  const auto path = dir.path() / "manifest.json";
  for (const char* text : {"", "{\"job_id\": \"x\"}", "{\"status\": 3}", "{\"status\"", "{\"a\": \"unterminated",
                           "[{\"status\": \"completed\"}]", "{\"nested\": {\"status\": \"completed\"}}"}) {
    ASSERT_OK(WriteFileAtomic(path, text));
    Result<std::string> read = ReadManifestStatus(path);
    EXPECT_FALSE(read.ok()) << text;
    EXPECT_THAT(read.status().message(), HasSubstr("manifest.json")) << text;
  }
  EXPECT_EQ(ReadManifestStatus(dir.path() / "missing.json").status().code(), StatusCode::kNotFound);
}

TEST(ManifestTest, WithoutDocumentsLoadsEverythingElseAsTheFullLoadDoes) {
  TempDir dir;
  Manifest m = SampleManifest();
  m.set_status(kJobCompleted);
  m.set_carried_from("job_2026-11-21T02-00-00");
  m.mutable_metrics()->set_chunks(7);
  for (int i = 0; i < 3000; ++i) {  // several blocks of documents, with quotes, escapes and braces in names
    const std::string id = "doc_" + std::to_string(i);
    DocumentRecord& doc = (*m.mutable_documents())[id];
    doc.set_path("odd \"passes\": {\"A\": [\\ " + std::to_string(i) + ".md");
    doc.set_status(kDocProcessed);
    (*m.mutable_source_sha_map())[id] = std::string(64, 'b');
  }
  (*m.mutable_sources())["rules"].set_status("processed");
  ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
  Result<Manifest> loaded = LoadManifestWithoutDocuments(dir.path() / "manifest.json");
  ASSERT_OK(loaded);
  Manifest expected = m;
  expected.clear_documents();
  expected.clear_source_sha_map();
  EXPECT_EQ(ToJson(*loaded), ToJson(expected));
}

TEST(ManifestTest, WithoutDocumentsIsAsStrictAsTheFullLoadOutsideTheDocuments) {
  TempDir dir;
  const auto path = dir.path() / "manifest.json";
  Manifest m = SampleManifest();
  ASSERT_OK(SaveManifest(path, m));
  const std::string good = *ReadFile(path);
  const auto with = [&good](std::string_view from, std::string_view to) {
    std::string text = good;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  for (const std::string& text :
       {with("\"env\"", "\"environment\""), with("\"SUCCESS\"", "\"DONE\""), with("\"records\": 4", "\"records\": {}"),
        good.substr(0, good.size() / 2), std::string("[") + good + "]", good + "{}", std::string("")}) {
    ASSERT_OK(WriteFileAtomic(path, text));
    Result<Manifest> loaded = LoadManifestWithoutDocuments(path);
    EXPECT_FALSE(loaded.ok()) << text;
    EXPECT_THAT(loaded.status().message(), HasSubstr("manifest.json")) << text;
  }
  EXPECT_EQ(LoadManifestWithoutDocuments(dir.path() / "missing.json").status().code(), StatusCode::kNotFound);
}

TEST(ManifestTest, WithoutDocumentsTakesTheWhitespaceTheFullLoadTakes) {
  // protobuf's JSON parser takes a vertical tab and a form feed as
  // whitespace (found by fuzz_manifest: a manifest ending in "}\v").
  TempDir dir;
  const auto path = dir.path() / "manifest.json";
  Manifest m = SampleManifest();
  ASSERT_OK(SaveManifest(path, m));
  std::string text = *ReadFile(path);
  text.insert(text.find("\"env\""), "\f\v");
  text.insert(0, "\v");
  text += "\v\f";
  ASSERT_OK(WriteFileAtomic(path, text));
  ASSERT_OK(LoadManifest(path));
  Result<Manifest> loaded = LoadManifestWithoutDocuments(path);
  ASSERT_OK(loaded);
  Manifest expected = m;
  expected.clear_documents();
  expected.clear_source_sha_map();
  EXPECT_EQ(ToJson(*loaded), ToJson(expected));
}

TEST(ManifestTest, RoundTripsThroughTheFile) {
  TempDir dir;
  Manifest m = SampleManifest();
  ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
  Result<Manifest> loaded = LoadManifest(dir.path() / "manifest.json");
  ASSERT_OK(loaded);
  EXPECT_EQ(ToJson(*loaded), ToJson(m));
  EXPECT_EQ(PassEntry(*loaded, Pass::PASS_A).artifacts(0).records(), 4u);
}

TEST(ManifestTest, ACancelledJobWithAQuarantinedDocumentLoadsForResume) {
  TempDir dir;
  Manifest m = SampleManifest();
  m.set_status(kJobCancelled);
  PassEntry(m, Pass::PASS_C).set_status(kPassCancelled);
  (*m.mutable_documents())["doc_2"].set_status(kDocQuarantined);
  ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
  EXPECT_OK(LoadManifest(dir.path() / "manifest.json"));
}

TEST(ManifestTest, SerializesDeterministically) {
  Manifest m = SampleManifest();
  for (int i = 0; i < 50; ++i) (*m.mutable_documents())["doc_" + std::to_string(i)].set_status(kDocProcessed);
  EXPECT_EQ(ToPrettyJson(m), ToPrettyJson(m));
  Manifest copy;
  ASSERT_OK(FromJson(ToPrettyJson(m), &copy));
  EXPECT_EQ(ToPrettyJson(copy), ToPrettyJson(m));
}

TEST(ManifestTest, IsWrittenByteForByteAsProtobufsPrinterWritesIt) {
  Manifest m = SampleManifest();
  // Every member kind: maps of messages and of strings, empty and full,
  // keys needing escapes, doubles, 64-bit numbers, repeated strings.
  for (int i = 0; i < 30; ++i) {
    DocumentRecord& doc = (*m.mutable_documents())["doc_" + std::to_string(i * 7919 % 1000)];
    doc.set_source("s");
    doc.set_path("dir/\"quoted\" \\ caf\xC3\xA9 \xE2\x80\xA8 " + std::to_string(i) + ".md");
    doc.set_bytes(uint64_t{1} << (i + 20));
    doc.set_status(i % 3 == 0 ? kDocFailed : kDocProcessed);
    if (i % 3 == 0) {
      doc.set_error_class("parse");
      doc.set_error("line 3: \t\"unexpected\" <tag>");
      doc.set_failed_pass("C");
    } else {
      doc.set_checksum(std::string(64, 'e'));
    }
    (*m.mutable_source_sha_map())["doc_" + std::to_string(i)] = std::string(64, 'f');
  }
  PassRecord& c = PassEntry(m, Pass::PASS_C);
  c.mutable_metrics()->set_duration_s(0.1 + 1.0 / 3.0);
  c.add_errors("a: corrupt: \x01 control");
  (*m.mutable_sources())["rules"].set_status("processed");
  (*m.mutable_sources())["empty"];
  m.mutable_runs(0)->add_flags("--config");
  m.mutable_runs(0)->add_flags("x.yaml");
  EXPECT_EQ(ManifestJson(m), ToPrettyJson(m));
  // Documents are printed field by field (AppendDocumentJson): a new field
  // must be printed there too.
  EXPECT_EQ(DocumentRecord::descriptor()->field_count(), 8);
  Manifest bare = NewManifest("job_2026-11-22T02-00-00", "dev");
  EXPECT_EQ(ManifestJson(bare), ToPrettyJson(bare));
  // The file: its maps of documents are printed indented already, past the
  // indenter, full and empty.
  TempDir dir;
  for (const Manifest* manifest : {&m, &bare}) {
    ASSERT_OK(SaveManifest(dir.path() / "manifest.json", *manifest));
    Result<std::string> written = ReadFile(dir.path() / "manifest.json");
    ASSERT_OK(written);
    EXPECT_EQ(*written, ToPrettyJson(*manifest));
  }
}

TEST(ManifestTest, ALargeManifestIsWrittenInBlocksAsTheSameBytes) {
  Manifest m = SampleManifest();
  for (int i = 0; i < 6000; ++i) {  // a few megabytes: fed to the file in several blocks
    DocumentRecord& doc = (*m.mutable_documents())["doc_" + std::to_string(i)];
    doc.set_source("corpus");
    doc.set_path("dir/{\"braces\": [1]} " + std::to_string(i) + ".md");
    doc.set_checksum(std::string(64, 'c'));
    doc.set_status(kDocProcessed);
  }
  TempDir dir;
  ASSERT_OK(SaveManifest(dir.path() / "manifest.json", m));
  Result<std::string> written = ReadFile(dir.path() / "manifest.json");
  ASSERT_OK(written);
  EXPECT_GT(written->size(), 1u << 20);
  EXPECT_TRUE(*written == ToPrettyJson(m)) << "differs from protobuf's printer";
}

TEST(ManifestTest, RefusesUnknownFields) {
  TempDir dir;
  std::string json = ToJson(SampleManifest());
  json.insert(1, "\"surprise\":1,");
  auto path = dir.Write("manifest.json", json);
  Result<Manifest> loaded = LoadManifest(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("surprise"));
}

TEST(ManifestTest, RefusesUnknownStatusAndMissingPass) {
  TempDir dir;
  Manifest bad_status = SampleManifest();
  PassEntry(bad_status, Pass::PASS_C).set_status("DONE");
  auto p1 = dir.Write("m1.json", ToJson(bad_status));
  EXPECT_THAT(LoadManifest(p1).status().message(), HasSubstr("passes.C.status: unknown status 'DONE'"));

  Manifest missing = SampleManifest();
  missing.mutable_passes()->erase("F");
  auto p2 = dir.Write("m2.json", ToJson(missing));
  EXPECT_THAT(LoadManifest(p2).status().message(), HasSubstr("passes.F is missing"));
}

TEST(ManifestTest, TruncatedFileIsInvalidArgument) {
  TempDir dir;
  std::string json = ToJson(SampleManifest());
  auto path = dir.Write("manifest.json", json.substr(0, json.size() / 2));
  EXPECT_EQ(LoadManifest(path).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadManifest(dir.path() / "none.json").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ingest

namespace ingest {
namespace {

TEST(JsonTextTest, QuotesEscapesAndNestsMembers) {
  EXPECT_EQ(JsonQuote("a \"b\" \\ c\n\t\x01 é"), "\"a \\\"b\\\" \\\\ c\\n\\t\\u0001 é\"");
  EXPECT_EQ(JsonObject({{"k", JsonQuote("v")}, {"n", "1"}, {"list", JsonArray({"1", JsonQuote("x")})}}),
            "{\"k\":\"v\",\"n\":1,\"list\":[1,\"x\"]}");
  EXPECT_EQ(JsonArray({}), "[]");
  EXPECT_EQ(JsonObject({}), "{}");
}

}  // namespace
}  // namespace ingest
