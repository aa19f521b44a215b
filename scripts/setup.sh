#!/usr/bin/env bash
# Installs every build and runtime dependency of ingestfleet from Debian 12 packages.
# Non-interactive and idempotent: when everything is already present it does nothing, and it runs
# `apt-get update` at most once per invocation.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-format clang-tidy              # scripts/lint.sh
  clang libclang-rt-14-dev             # scripts/fuzz.sh: libFuzzer and clang's sanitizer runtimes
  libzmq3-dev cppzmq-dev               # fleet transport (ROUTER/DEALER)
  libprotobuf-dev protobuf-compiler    # fleet envelope, pass contracts, manifest
  libgrpc++-dev protobuf-compiler-grpc # the admin API (gRPC server and ingestctl)
  grpc-proto                           # gRPC's health and reflection .proto files, for clients
  openssl                              # tests: certificates for the admin API's TLS
  libspdlog-dev                        # logging, NDJSON run log sink
  libyaml-cpp-dev                      # configuration file
  libcli11-dev                         # command lines
  libssl-dev                           # sha256
  libjemalloc-dev                      # allocator of the coordinator and worker binaries
  libsqlite3-dev                       # the state store
  libcurl4-openssl-dev                 # HTTP sources (workers), notifications (Slack, webhook, SMTP)
  zlib1g-dev                           # gzip of old run logs (retention)
  libisal-dev                          # the task journal's CRC-32, four times zlib's speed
  libcpp-httplib-dev                   # the coordinator's /metrics endpoint; tests: loopback HTTP servers
  python3-aiosmtpd                     # tests: loopback SMTP server
  chromium chromium-driver             # tests: the status page in a headless browser (WebDriver)
  fuse3 libfuse3-dev                   # tests: faulty-fs, a FUSE pass-through that injects EIO for the I/O error tests
  iproute2 nftables                    # tests: network namespaces, a veth pair and packet loss for the partition tests
  help2man                             # man pages of the three binaries, made from their --help at build time
  systemd                              # tests: systemd-analyze verify of the units in deploy/systemd
  prometheus-cpp-dev                   # metrics registry and text format (ingestfleet_*)
  prometheus prometheus-pushgateway    # tests: a real scrape, promtool, a real push; never started as services
  libabsl-dev tzdata                   # IANA time zones for schedules (absl::TimeZone)
  libmd4c-dev                          # Markdown parser
  libgumbo-dev                         # HTML parser
  libpoppler-glib-dev libcairo2-dev    # PDF text and outline (helper process); cairo writes test PDFs
  libutf8proc-dev                      # Unicode NFC and case folding
  libgtest-dev libgmock-dev            # unit and integration tests
  libbenchmark-dev                     # bench/
  python3 bc                           # scripts/bench.sh: corpus generator, arithmetic
  python3-yaml docker-compose          # tests: docker-compose.yml is valid (`docker-compose config`)
)
# tests: the Kubernetes objects are validated with npm's kubernetes-models
# (tests/deploy/package.json); the machine's Node.js serves, else Debian's.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The validator's npm packages, pinned by tests/deploy/package-lock.json.
npm_packages() {
  local dir
  dir="$(dirname "$0")/../tests/deploy"
  if [[ -d "$dir/node_modules" ]] || ! command -v npm >/dev/null 2>&1; then return 0; fi
  echo "setup: npm ci in tests/deploy" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "setup: npm ci failed; the Kubernetes schema test will skip" >&2
}

if ((${#missing[@]} == 0)); then
  npm_packages
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Prometheus and the Pushgateway are wanted as programs for the tests, not as
# system services listening on 9090/9091: while installing, policy-rc.d
# (honoured by invoke-rc.d and deb-systemd-invoke) refuses to start services.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
  trap '$SUDO rm -f "$policy"' EXIT
fi
status=0
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
if ((status == 0)); then npm_packages; fi
exit "$status"
