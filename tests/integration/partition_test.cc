// The coordinator and its worker in two network namespaces of the test's
// own making, joined by a veth pair (addresses that exist inside those
// namespaces only). In the middle of pass C either the worker's side of the
// link goes down for 10 s, or a fifth of the packets each way are dropped
// for 10 s. Either way the run completes byte-identical to a clean run and
// tasks move again within seconds of the heal. Needs root and `ip netns`
// (and nftables for the loss); skipped with the reason elsewhere. The loss
// is an nftables rule (`numgen random`) in the worker's namespace: the
// kernels this runs on here have no sch_netem for `tc netem`.

#include <unistd.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

// A tool from /usr/sbin or /sbin, outside many users' PATH; "" when it is
// not installed.
std::string SystemTool(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    if (::access((dir + name).c_str(), X_OK) == 0) return dir + name;
  }
  return "";
}

std::string IpCommand() { return SystemTool("ip"); }

// Two namespaces and the veth pair between them, removed with the object.
class NamespacePair {
 public:
  NamespacePair(const std::filesystem::path& logs, int id)
      : logs_(logs),
        coordinator_ns_("ingest-c" + std::to_string(id)),
        worker_ns_("ingest-w" + std::to_string(id)),
        subnet_("10.231." + std::to_string(id % 250) + ".") {}
  ~NamespacePair() {
    Ip({"netns", "del", coordinator_ns_});
    Ip({"netns", "del", worker_ns_});
  }
  NamespacePair(const NamespacePair&) = delete;
  NamespacePair& operator=(const NamespacePair&) = delete;

  // "" when both namespaces and the link are up, else what failed.
  std::string Make() {
    const std::vector<std::vector<std::string>> steps = {
        {"netns", "add", coordinator_ns_},
        {"netns", "add", worker_ns_},
        {"link", "add", "veth-c", "netns", coordinator_ns_, "type", "veth", "peer", "name", "veth-w", "netns",
         worker_ns_},
        {"-n", coordinator_ns_, "addr", "add", coordinator_address() + "/30", "dev", "veth-c"},
        {"-n", worker_ns_, "addr", "add", subnet_ + "2/30", "dev", "veth-w"},
        {"-n", coordinator_ns_, "link", "set", "veth-c", "up"},
        {"-n", worker_ns_, "link", "set", "veth-w", "up"},
    };
    for (const auto& step : steps) {
      if (int code = Ip(step); code != 0) {
        std::string command = "ip";
        for (const std::string& a : step) command += " " + a;
        return command + " exited " + std::to_string(code) + ": " + testing::ReadAll(logs_ / "ip.err");
      }
    }
    return "";
  }

  // The worker's side of the link, down or up.
  bool SetWorkerLink(bool up) { return Ip({"-n", worker_ns_, "link", "set", "veth-w", up ? "up" : "down"}) == 0; }

  // Runs `nft ARGS...` in the worker's namespace; "" on success, else why not.
  std::string WorkerNft(std::vector<std::string> args) const {
    args.insert(args.begin(), SystemTool("nft"));
    Subprocess nft(InWorkerNs(std::move(args)), logs_ / "nft.out", logs_ / "nft.err");
    if (int code = nft.Wait(10s); code != 0) return "nft exited " + std::to_string(code) + ": " + nft.Stderr();
    return "";
  }
  std::string WorkerNftOutput() const { return testing::ReadAll(logs_ / "nft.out"); }

  std::vector<std::string> InCoordinatorNs(std::vector<std::string> argv) const {
    return In(coordinator_ns_, std::move(argv));
  }
  std::vector<std::string> InWorkerNs(std::vector<std::string> argv) const { return In(worker_ns_, std::move(argv)); }
  std::string coordinator_address() const { return subnet_ + "1"; }

 private:
  static std::vector<std::string> In(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {IpCommand(), "netns", "exec", ns});
    return argv;
  }
  int Ip(std::vector<std::string> args) const {
    args.insert(args.begin(), IpCommand());
    Subprocess ip(args, logs_ / "ip.out", logs_ / "ip.err");
    return ip.Wait(10s);
  }

  std::filesystem::path logs_;
  std::string coordinator_ns_;
  std::string worker_ns_;
  std::string subnet_;
};

class PartitionTest : public testing::JobTest {
 protected:
  // The reference: a clean run of the corpus, before any namespace exists.
  void SetUp() override {
    testing::JobTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
    if (IpCommand().empty()) GTEST_SKIP() << "iproute2's ip is not installed";
    for (int d = 0; d < 400; ++d) {
      std::string text = "# Relay log " + std::to_string(d) + "\n\n";
      for (int p = 0; p < 40; ++p) text += "Relay " + std::to_string(d) + " passed frame " + std::to_string(p) + ". ";
      std::ofstream(corpus_ / ("relay-" + std::to_string(d) + ".md")) << text;
    }
    RunOutcome clean = Run({"--full-refresh"}, 1);
    ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
    expected_ = Artifacts(Summary(clean).job_dir());
    ForgetEnv();
  }

  // The coordinator in one namespace and worker "across" in the other,
  // started on a full refresh that has reached pass C.
  void StartAcross() {
    net_ = std::make_unique<NamespacePair>(dir_.path(), static_cast<int>(::getpid()));
    if (std::string why = net_->Make(); !why.empty()) GTEST_SKIP() << "cannot make network namespaces here: " << why;
    WriteConfig(1, 60);  // the worker must be back within a minute
    keep_config_ = true;
    const std::string endpoint = "tcp://" + net_->coordinator_address() + ":5555";
    coordinator_ = std::make_unique<Subprocess>(
        net_->InCoordinatorNs({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(),
                               "--bind", endpoint, "--manual", "--full-refresh"}),
        dir_.path() / "partitioned.out", err_);
    ASSERT_FALSE(testing::WaitForLine(err_, "fleet: listening on", testing::Scaled(20s)).empty())
        << coordinator_->Stderr();
    worker_ = std::make_unique<Subprocess>(net_->InWorkerNs(WorkerArgv(endpoint, "across")), dir_.path() / "across.out",
                                           dir_.path() / "across.err");
    ASSERT_FALSE(testing::WaitForLine(err_, "pass C started", testing::Scaled(60s)).empty()) << coordinator_->Stderr();
  }

  // How many times the coordinator has written `text` in its log.
  size_t Count(const std::string& text) const {
    const std::string log = testing::ReadAll(err_);
    size_t count = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++count;
    return count;
  }

  // The run ends exit 0 with the clean run's artifacts; the worker drains.
  void ExpectACleanEnd() {
    ASSERT_EQ(coordinator_->Wait(testing::Scaled(180s)), 0) << coordinator_->Stderr();
    RunSummary summary;
    ASSERT_OK(FromJson(testing::LastLine(coordinator_->Stdout()), &summary));
    EXPECT_EQ(Artifacts(summary.job_dir()), expected_);
    testing::WaitForLine(dir_.path() / "across.err", "connecting to", testing::Scaled(10s));
    worker_->Signal(SIGTERM);
    EXPECT_EQ(worker_->Wait(testing::Scaled(20s)), 0) << worker_->Stderr();
  }

  // 10 s, or longer where sanitizers stretch fleet.liveness past it: a
  // partition must outlast the liveness for the worker to be declared dead.
  static std::chrono::milliseconds Outage() {
    return std::max<std::chrono::milliseconds>(10s, testing::Scaled(2000ms) + 4s);
  }

  std::map<std::string, std::string> expected_;
  std::filesystem::path err_ = dir_.path() / "partitioned.err";
  std::unique_ptr<NamespacePair> net_;
  std::unique_ptr<Subprocess> coordinator_;
  std::unique_ptr<Subprocess> worker_;
};

TEST_F(PartitionTest, ALinkDownForTenSecondsMidPassHealsAndTheRunEqualsACleanOne) {
  ASSERT_NO_FATAL_FAILURE(StartAcross());
  if (IsSkipped()) return;
  const auto down = Outage();
  ASSERT_TRUE(net_->SetWorkerLink(false));
  std::this_thread::sleep_for(down);
  const auto healed = std::chrono::steady_clock::now();
  ASSERT_TRUE(net_->SetWorkerLink(true));
  // Back when the coordinator hears from it again: it joins a second time
  // (it was declared dead meanwhile).
  const auto deadline = healed + testing::Scaled(60s);
  while (Count("worker across joined") < 2 && coordinator_->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  const auto back_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - healed);
  EXPECT_GE(Count("worker across joined"), 2u) << "the worker was not back within a minute of the heal\n"
                                               << coordinator_->Stderr();
  ASSERT_NO_FATAL_FAILURE(ExpectACleanEnd());
  EXPECT_THAT(coordinator_->Stderr(), HasSubstr("worker across is dead")) << "the partition went unnoticed";
  std::printf("partition: link down %lld s in pass C; the worker was back %lld ms after the heal\n",
              static_cast<long long>(down.count() / 1000), static_cast<long long>(back_after.count()));
}

TEST_F(PartitionTest, PacketLossMidPassSlowsTheRunButItEqualsACleanOne) {
  if (SystemTool("nft").empty()) GTEST_SKIP() << "nftables' nft is not installed";
  ASSERT_NO_FATAL_FAILURE(StartAcross());
  if (IsSkipped()) return;
  // A fifth of the packets dropped on their way in and out of the worker's
  // namespace, counted.
  const std::string table =
      "table inet lossy {\n"
      "  chain in { type filter hook input priority 0; numgen random mod 100 < 20 counter drop; }\n"
      "  chain out { type filter hook output priority 0; numgen random mod 100 < 20 counter drop; }\n"
      "}\n";
  dir_.Write("lossy.nft", table);
  ASSERT_EQ(net_->WorkerNft({"-f", (dir_.path() / "lossy.nft").string()}), "");
  std::this_thread::sleep_for(Outage());
  ASSERT_EQ(net_->WorkerNft({"list", "table", "inet", "lossy"}), "");
  const std::string counters = net_->WorkerNftOutput();
  const auto healed = std::chrono::steady_clock::now();
  ASSERT_EQ(net_->WorkerNft({"delete", "table", "inet", "lossy"}), "");
  ASSERT_NO_FATAL_FAILURE(ExpectACleanEnd());
  const auto ended_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - healed);
  // The rules did drop packets, each way.
  const std::regex dropped("packets [1-9][0-9]* bytes");
  EXPECT_EQ(std::distance(std::sregex_iterator(counters.begin(), counters.end(), dropped), std::sregex_iterator()), 2)
      << counters;
  std::printf(
      "partition: 20%% packet loss each way for %lld s in pass C (nft counters below); the run ended %lld ms "
      "after the loss stopped\n%s",
      static_cast<long long>(Outage().count() / 1000), static_cast<long long>(ended_after.count()), counters.c_str());
}

}  // namespace
}  // namespace ingest
