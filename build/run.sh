#!/bin/sh
# Build Herald, install it under ./_inst and run it in the foreground on the
# development configuration (conf/dev.toml): SMTP on 127.0.0.1:2525,
# submission on 2587 (STARTTLS), submissions on 2465 (implicit TLS), LMTP
# on 2424, the spool in ./var/spool, a self-signed certificate made on the
# first run in ./var.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/build/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }
mkdir -p _build/run var
cd _build/run
[ -f Makefile ] || "$top/configure" --prefix="$top/_inst" >configure.log 2>&1 \
    || { cat configure.log; exit 1; }
make -j2 >make.log 2>&1 || { cat make.log; exit 1; }
make install >install.log 2>&1 || { cat install.log; exit 1; }
"$top/build/dev-cert.sh" "$top/var"
cd "$top/conf"
exec "$top/_inst/sbin/herald" -f "$top/conf/dev.toml" "$@"
