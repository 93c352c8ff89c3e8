#!/bin/sh
# Install the Debian packages edgelm needs to build and test, if any is missing.
# Used by scripts/demo.sh and scripts/test.sh; safe to run repeatedly.
set -e
PKGS="build-essential cmake pkg-config libutf8proc-dev libpcre2-dev libcjson-dev libcmocka-dev libpng-dev"
[ -n "$EL_EXTRA_PKGS" ] && PKGS="$PKGS $EL_EXTRA_PKGS"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
