#!/bin/sh
# Build Herald and run every test, twice: a -Werror build, then the same
# under AddressSanitizer/UBSan.  Each pass runs the CUnit suites
# (make check), installs into its own prefix and runs the integration
# suite against the installed binary on loopback ports.
#
#     build/test.sh            both passes
#     build/test.sh plain      only the -Werror pass (faster)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/build/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }

pass() {
    name=$1; shift
    bdir="$top/_build/$name"
    rm -rf "$bdir"
    mkdir -p "$bdir"
    cd "$bdir"
    echo "== $name: configure $*"
    "$top/configure" --prefix="$bdir/inst" --enable-werror "$@" >configure.log 2>&1 \
        || { cat configure.log; exit 1; }
    echo "== $name: make"
    make -j2 >make.log 2>&1 || { cat make.log; exit 1; }
    echo "== $name: unit tests (make check)"
    make -j2 check || { cat test-suite.log 2>/dev/null; exit 1; }
    make install >install.log 2>&1 || { cat install.log; exit 1; }
    echo "== $name: integration tests"
    python3 "$top/test/integration/run.py" --prefix "$bdir/inst" --build "$bdir"
    cd "$top"
}

# Leaks at exit of a long-running server are pool teardown noise; the
# unit tests keep LeakSanitizer on.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pass plain
if [ "${1:-all}" != plain ]; then
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" pass asan --enable-sanitizers
fi
echo "== all tests passed"
