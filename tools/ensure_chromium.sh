#!/usr/bin/env bash
# Make sure headless Chromium is there for tests/test_docs.py (the HTML book checked in a real browser): install it
# with apt-get (as root, or with password-less sudo) when it is missing. Without network or rights it says so and
# returns 0: the browser test then fails with the command to run by hand. Called by `make test` and .ci/run.
set -uo pipefail
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
if ! have_chromium; then
  echo "chromium: headless Chromium not found; installing it for tests/test_docs.py (apt-get install -y chromium)"
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
  log="$(mktemp)"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; } &&
     timeout 900 $SUDO apt-get -o Acquire::Retries=1 -o Acquire::http::Timeout=30 update -qq >"$log" 2>&1 &&
     DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq chromium >>"$log" 2>&1 &&
     have_chromium; then
    echo "chromium: Chromium installed ($(command -v chromium || command -v chromium-browser))"
  else
    echo "chromium: could NOT install Chromium (no network, no apt-get or not root?); tests/test_docs.py will fail." >&2
    echo "chromium: install it by hand with 'apt-get install -y chromium' (or set FINEPOSE_CHROMIUM=/path/to/chrome)." >&2
    tail -n 5 "$log" >&2 || true
  fi
  rm -f "$log"
fi

