#!/usr/bin/env bash
# Debian packages the tests use (speech synthesis for voice tests, PDF and image
# tools for fixtures, Chromium for browser tests). Idempotent: installs only what
# is missing, and does nothing when everything is there.
set -euo pipefail

# chromium: the browser test (web/browser.test.ts); fonts-dejavu-core: readable text in its screenshots.
packages=(chromium fonts-dejavu-core ${CI_SYSTEM_PACKAGES:-})
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-packages: nothing to install"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-system-packages: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-packages: installed ${missing[*]}"
