#!/bin/sh
# Make the development configuration's self-signed certificate, once.
#
#     build/dev-cert.sh DIR      -> DIR/dev-cert.pem and DIR/dev-key.pem
#
# Idempotent: when both files exist nothing is done, so the run command
# can call it every time.  The certificate names localhost.localdomain,
# localhost and 127.0.0.1 and is valid for a year; it is for trying
# Herald out (swaks --tls, openssl s_client -starttls smtp), never for
# production.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
cert="$dir/dev-cert.pem"
key="$dir/dev-key.pem"
if [ -s "$cert" ] && [ -s "$key" ]; then
    exit 0
fi
mkdir -p "$dir"
# write beside the final names, then rename: an interrupted run never
# leaves a half-written pair behind
umask 077
names=DNS:localhost.localdomain,DNS:localhost,IP:127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
    -subj /CN=localhost.localdomain -addext "subjectAltName=$names" \
    -keyout "$key.tmp" -out "$cert.tmp" 2>/dev/null || {
    rm -f "$key.tmp" "$cert.tmp"
    echo "$0: openssl could not make the certificate" >&2
    exit 1
}
chmod 644 "$cert.tmp"
mv "$key.tmp" "$key"
mv "$cert.tmp" "$cert"
echo "dev-cert: made $cert and $key"
