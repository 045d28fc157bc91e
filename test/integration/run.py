#!/usr/bin/env python3
"""run.py -- Herald's integration suite: the installed binary, real
sockets on 127.0.0.1, real clients (smtplib, raw sockets, openssl s_client).

    python3 test/integration/run.py --prefix INST --build BUILDDIR [-k PATTERN]

Discovers test_*.py beside this file (unittest).  Prints the closing line
"N passed, N failed, N skipped" and exits non-zero on any failure.
"""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True, help="installed prefix")
    ap.add_argument("--build", required=True, help="build folder")
    ap.add_argument("-k", dest="pattern", action="append",
                    help="only tests whose id contains this")
    args = ap.parse_args()
    os.environ["HERALD_PREFIX"] = os.path.abspath(args.prefix)
    os.environ["HERALD_BUILD"] = os.path.abspath(args.build)
    sys.path.insert(0, here)

    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # an expected failure that passes means the marker is stale: fail
    failed = (len(result.failures) + len(result.errors) +
              len(result.unexpectedSuccesses))
    # a class skipped in setUpClass is counted as skipped but never run
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - failed - skipped)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if result.testsRun == 0:
        print("no test ran")
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
