#include "common/config.h"

#include <map>

#include "common/curve_keys.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

EnvLookup FakeEnv(const std::map<std::string, std::string>& vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr char kMinimal[] = R"(env: dev
sources:
  - name: rules
    kind: files
    root: ./uploads/rules
)";

TEST(InterpolateTest, ExpandsLikeDockerCompose) {
  EnvLookup env = FakeEnv({{"HOST", "db"}, {"EMPTY", ""}});
  EXPECT_EQ(*Interpolate("${HOST}:5432", env), "db:5432");
  EXPECT_EQ(*Interpolate("$HOST/x", env), "db/x");
  EXPECT_EQ(*Interpolate("${PORT:-5432}", env), "5432");
  EXPECT_EQ(*Interpolate("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(*Interpolate("${EMPTY-fallback}", env), "");
  EXPECT_EQ(*Interpolate("cost $$5", env), "cost $5");
  EXPECT_EQ(*Interpolate("${HOST:?needed}", env), "db");
}

TEST(InterpolateTest, UnsetVariableWithoutDefaultIsAnError) {
  EnvLookup env = FakeEnv({});
  Result<std::string> r = Interpolate("${SLACK_WEBHOOK_URL}", env);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("SLACK_WEBHOOK_URL is not set"));
  Result<std::string> q = Interpolate("${TOKEN:?set TOKEN to the admin token}", env);
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), HasSubstr("set TOKEN to the admin token"));
  EXPECT_FALSE(Interpolate("${UNTERMINATED", env).ok());
}

TEST(LoadConfigTest, AppliesDefaultsAndResolvesPathsAgainstTheFile) {
  TempDir dir;
  auto file = dir.Write("conf/ingest.yaml", kMinimal);
  Result<Config> config = LoadConfig(file, FakeEnv({}));
  ASSERT_OK(config);
  EXPECT_EQ(config->env, "dev");
  EXPECT_EQ(config->sources.at(0).root, dir.path() / "conf/uploads/rules");
  EXPECT_EQ(config->artifact_root, dir.path() / "conf/artifacts");
  EXPECT_EQ(config->fleet.heartbeat_ms, 1000u);
  EXPECT_EQ(config->passes.chunk_chars, 1200u);
  EXPECT_EQ(config->sources.at(0).include, std::vector<std::string>{"**/*"});
}

TEST(LoadConfigTest, ReadsTheFullSpecExample) {
  TempDir dir;
  auto file = dir.Write("ingest.yaml", R"(env: prod-eu
artifact_root: ${ROOT:-/srv/artifacts}
schedule: { cron: "0 2 * * *", timezone: "Europe/Paris" }
fleet:
  bind: "tcp://*:5555"
  heartbeat_ms: 250
  liveness: 5
  curve: { secret_key_file: keys/server.key, authorized_keys_file: keys/workers }
retry: { attempts: 5, backoff_initial_ms: 100, backoff_max_ms: 1000, jitter: false }
run: { max_failed_fraction: 0.05, quarantine_after: 2 }
sources:
  - name: rules
    kind: files
    root: /data/rules
    include: ["**/*.md", "**/*.pdf"]
    exclude: ["drafts/**"]
    check_frequency: "30 1 * * 1-5"
    priority: P0
  - name: policy-page
    kind: http
    url: "https://example.org/policy"
    rate_limit: { requests_per_minute: 30 }
passes:
  B: { split_threshold_mb: 5, split_pages: 100 }
  C: { chunk_chars: 900, overlap_chars: 90 }
notifications:
  on: [failed, partial]
  slack: { webhook_url: "${SLACK}" }
  email: { smtp_url: "smtp://mail:587", starttls: required, from: a@b.c, to: [x@y.z] }
admin: { listen: "0.0.0.0:50051", token_file: /run/secrets/token }
metrics: { listen: "0.0.0.0:9090", pushgateway_url: "http://pushgateway:9091" }
web: { listen: "0.0.0.0:8080" }
retention: { compress_after_days: 3, delete_after_days: 10, keep_last_jobs: 2 }
)");
  std::filesystem::create_directories(dir.path() / "keys");
  Result<CurveKeyPair> server = GenerateCurveKeyPair();
  Result<CurveKeyPair> worker = GenerateCurveKeyPair();
  ASSERT_OK(server);
  ASSERT_OK(worker);
  ASSERT_OK(WriteCurveKeyPair(dir.path() / "keys/server", *server));
  dir.Write("keys/workers", "# fleet workers\n" + worker->public_key + " worker-1\n\n");
  Result<Config> config = LoadConfig(file, FakeEnv({{"SLACK", "https://hooks.example/x"}}));
  ASSERT_OK(config);
  EXPECT_EQ(config->artifact_root, "/srv/artifacts");
  EXPECT_EQ(config->fleet.curve_secret_key_file, dir.path() / "keys/server.key");
  EXPECT_EQ(config->fleet.curve_public_key, server->public_key);
  EXPECT_EQ(config->fleet.curve_authorized_keys, std::vector<std::string>{worker->public_key});
  EXPECT_EQ(std::filesystem::status(dir.path() / "keys/server.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(config->retry.attempts, 5u);
  EXPECT_FALSE(config->retry.jitter);
  EXPECT_DOUBLE_EQ(config->run.max_failed_fraction, 0.05);
  EXPECT_EQ(config->sources.at(1).requests_per_minute, 30u);
  EXPECT_EQ(config->passes.overlap_chars, 90u);
  EXPECT_EQ(config->notifications.slack_webhook_url, "https://hooks.example/x");
  ASSERT_TRUE(config->notifications.email.has_value());
  EXPECT_EQ(config->notifications.email->to, std::vector<std::string>{"x@y.z"});
  EXPECT_EQ(config->metrics.listen, "0.0.0.0:9090");
  EXPECT_EQ(config->metrics.pushgateway_url, "http://pushgateway:9091");
  EXPECT_EQ(config->web.listen, "0.0.0.0:8080");
}

TEST(InterpolateTest, AnUnsetVariableIsReadFromTheFileItsFileVariableNames) {
  TempDir dir;
  const auto secret = dir.Write("webhook-secret", "whsec_c2VjcmV0\n");
  const EnvLookup env = FakeEnv({{"WEBHOOK_SECRET_FILE", secret.string()}, {"SET", "plain"}, {"SET_FILE", "/nope"}});
  Result<std::string> value = Interpolate("${WEBHOOK_SECRET}", env);
  ASSERT_OK(value);
  EXPECT_EQ(*value, "whsec_c2VjcmV0") << "without the final newline";
  EXPECT_EQ(*Interpolate("$WEBHOOK_SECRET", env), "whsec_c2VjcmV0");
  EXPECT_EQ(*Interpolate("${SET}", env), "plain") << "a set variable wins over its _FILE";
  Result<std::string> missing = Interpolate("${TOKEN}", FakeEnv({{"TOKEN_FILE", (dir.path() / "none").string()}}));
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("TOKEN_FILE"));
  EXPECT_THAT(missing.status().message(), HasSubstr((dir.path() / "none").string()));
}

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* expected;  // substring of the error
};

class LoadConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(LoadConfigErrorTest, NamesKeyAndLine) {
  TempDir dir;
  auto file = dir.Write("bad.yaml", GetParam().yaml);
  Result<Config> config = LoadConfig(file, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(GetParam().expected));
  EXPECT_THAT(config.status().message(), HasSubstr(file.string()));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoadConfigErrorTest,
    ::testing::Values(
        BadConfig{"UnknownTopKey", "env: dev\nsourcez: []\nsources: [{name: a, kind: files, root: .}]\n",
                  ":2: unknown key 'sourcez'"},
        BadConfig{"UnknownNestedKey", "env: dev\nfleet:\n  heartbeat: 5\nsources: [{name: a, kind: files, root: .}]\n",
                  ":3: unknown key 'fleet.heartbeat'"},
        BadConfig{"BadInteger", "env: dev\nfleet:\n  liveness: three\nsources: [{name: a, kind: files, root: .}]\n",
                  ":3: key 'fleet.liveness': expected an integer"},
        BadConfig{"BadEnv", "env: Prod_1\nsources: [{name: a, kind: files, root: .}]\n", ":1: key 'env'"},
        BadConfig{"MissingSources", "env: dev\n", "key 'sources'"},
        BadConfig{"BadKind", "env: dev\nsources:\n  - name: a\n    kind: ftp\n    root: .\n",
                  ":4: key 'sources[0].kind': 'ftp' is not one of"},
        BadConfig{"BadFrequency",
                  "env: dev\nsources:\n  - {name: a, kind: files, root: ., check_frequency: sometimes}\n",
                  ":3: key 'sources[0].check_frequency': 'sometimes' is not hourly, daily, weekly or a 5-field cron"},
        BadConfig{
            "BadCronFrequency",
            "env: dev\nsources:\n  - name: a\n    kind: files\n    root: .\n    check_frequency: \"*/30 * * *\"\n",
            ":6: key 'sources[0].check_frequency': '*/30 * * *' is not hourly, daily, weekly or a 5-field cron "
            "expression (cron '*/30 * * *': expected 5 fields, got 4)"},
        BadConfig{"BadScheduleCron",
                  "env: dev\nschedule: {cron: \"0 25 * * *\"}\nsources: [{name: a, kind: files, root: .}]\n",
                  ":2: key 'schedule.cron': cron '0 25 * * *': hour '25' is not in 0..23"},
        BadConfig{"BadScheduleZone",
                  "env: dev\nschedule:\n  timezone: Europe/Atlantis\nsources: [{name: a, kind: files, root: .}]\n",
                  ":3: key 'schedule.timezone': time zone 'Europe/Atlantis' is not a known IANA zone"},
        BadConfig{"UnsetVariable",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nnotifications:\n  slack: {webhook_url: "
                  "\"${SLACK_URL}\"}\n",
                  ":4: key 'notifications.slack.webhook_url': environment variable SLACK_URL is not set"},
        BadConfig{"DuplicateSource",
                  "env: dev\nsources: [{name: a, kind: files, root: .}, {name: a, kind: files, root: .}]\n",
                  "source name 'a' is used twice"},
        // Found by scripts/fuzz.sh: a complex key once threw out of LoadConfig.
        BadConfig{"ComplexKey",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nnotifications:\n  ? [a, b]\n  : x\n",
                  ":4: a key of 'notifications' is not a plain string"},
        BadConfig{"DuplicateTopKey", "env: dev\nsources: [{name: a, kind: files, root: .}]\nenv: prod\n",
                  ":3: duplicate key 'env' (first given at line 1)"},
        BadConfig{"DuplicateNestedKey",
                  "env: dev\nfleet:\n  liveness: 3\n  liveness: 5\nsources: [{name: a, kind: files, root: .}]\n",
                  ":4: duplicate key 'fleet.liveness' (first given at line 3)"},
        BadConfig{"DuplicateSourceKey",
                  "env: dev\nsources:\n  - name: a\n    kind: files\n    root: .\n    root: /elsewhere\n",
                  ":6: duplicate key 'sources[0].root' (first given at line 5)"},
        BadConfig{"BadYaml", "env: dev\nsources: [\n", "bad.yaml:"},
        BadConfig{"BadPushgateway",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nmetrics:\n  pushgateway_url: pushgw:9091\n",
                  ":4: key 'metrics.pushgateway_url': expected an http:// or https:// URL"},
        BadConfig{"WebListenWithoutPort",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nweb:\n  listen: localhost\n",
                  ":4: key 'web.listen': 'localhost' is not host:port"},
        BadConfig{"CurveWithOneFile",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nfleet:\n  curve: {secret_key_file: k}\n",
                  ":4: key 'fleet.curve': needs both secret_key_file and authorized_keys_file"},
        BadConfig{"CurveKeyMissing",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\nfleet:\n  curve:\n    secret_key_file: "
                  "nokey\n    authorized_keys_file: nolist\n",
                  ":5: key 'fleet.curve.secret_key_file': "},
        BadConfig{"OverlapTooLarge",
                  "env: dev\nsources: [{name: a, kind: files, root: .}]\npasses: {C: {chunk_chars: 100, overlap_chars: "
                  "100}}\n",
                  "key 'passes.C.overlap_chars' must be below chunk_chars"}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST(CheckSourceRootsTest, NamesFileLineAndKeyOfEachRootThatIsNotADirectory) {
  TempDir dir;
  dir.Write("present/a.md", "a");
  dir.Write("plain.txt", "not a directory");
  auto file = dir.Write("ingest.yaml",
                        "env: dev\nsources:\n  - {name: ok, kind: files, root: present}\n"
                        "  - name: gone\n    kind: files\n    root: absent\n"
                        "  - {name: flat, kind: files, root: plain.txt}\n"
                        "  - {name: web, kind: http, url: \"http://127.0.0.1:1/\"}\n");
  Result<Config> config = LoadConfig(file, FakeEnv({}));
  ASSERT_OK(config) << "a missing root is not a load error: that source alone fails in a run";
  std::vector<std::string> problems = CheckSourceRoots(*config);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], file.string() + ":6: key 'sources[1].root': " + (dir.path() / "absent").string() +
                             " does not exist (source gone)");
  EXPECT_THAT(problems[1], HasSubstr(":7: key 'sources[2].root': "));
  EXPECT_THAT(problems[1], HasSubstr("is not a directory (source flat)"));
}

TEST(LoadConfigTest, MissingFileIsNotFound) {
  Result<Config> config = LoadConfig("/nonexistent/ingest.yaml", FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ingest
