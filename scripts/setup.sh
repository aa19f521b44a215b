#!/usr/bin/env bash
# Installs every build and runtime dependency of ingestfleet from Debian 12 packages.
# Non-interactive and idempotent: when everything is already present it does nothing, and it runs
# `apt-get update` at most once per invocation.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-format clang-tidy              # scripts/lint.sh
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
  libcpp-httplib-dev python3-aiosmtpd  # tests: loopback HTTP and SMTP servers
  libabsl-dev tzdata                   # IANA time zones for schedules (absl::TimeZone)
  libmd4c-dev                          # Markdown parser
  libgumbo-dev                         # HTML parser
  libpoppler-glib-dev libcairo2-dev    # PDF text and outline (helper process); cairo writes test PDFs
  libutf8proc-dev                      # Unicode NFC and case folding
  libgtest-dev libgmock-dev            # unit and integration tests
  libbenchmark-dev                     # bench/
  python3 bc                           # scripts/bench.sh: corpus generator, arithmetic
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
