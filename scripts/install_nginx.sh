#!/usr/bin/env bash
# Installs Debian's nginx for the TLS + authentication proxy test (tests/integration/test_server_tls.py).
# Idempotent; needs root (CI runs as root). Only the package is installed: nothing is started or enabled.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends nginx >/dev/null
