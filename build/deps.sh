#!/bin/sh
# Install Herald's build and test dependencies (Debian 12).  Idempotent:
# packages already present are left as they are.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
      libapr1-dev libaprutil1-dev libssl-dev libpcre2-dev libcunit1-dev
      libsystemd-dev openssl python3 swaks ca-certificates"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "deps: all present"
fi
