#!/usr/bin/env bash
# Debian packages the test suite needs beyond the base machine:
#   libclang-dev       bindgen, for pg_query (libpg_query, PostgreSQL's own parser)
#   protobuf-compiler  protoc, for pg_query's prost-build step
#   postgresql-15-postgis-3  PostGIS, for the classifier's catalog tests (extension functions)
#   chromium           headless, for the status page test (tests/src/metrics_scenarios.rs);
#                      about 80 MB to download, ~20 s to install (measured on the CI machine)
#   haproxy            a TCP load balancer in front of two replicas, for the test of
#                      load-balanced replica endpoints (scripts/haproxy.sh)
#   dnsmasq            a DNS server on loopback, for DNS discovery of replicas
#   gdb                the stacks of a hung test, printed by scripts/deadline.sh in CI
# Idempotent and quiet when everything is present. Runs as root on Debian.
set -euo pipefail

packages=(libclang-dev protobuf-compiler postgresql-15-postgis-3 chromium haproxy dnsmasq gdb)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: need root to install: ${missing[*]}" >&2
    exit 1
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
