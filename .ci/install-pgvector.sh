#!/usr/bin/env bash
# Makes the pgvector extension available to the local PostgreSQL server.
#
# pgvector has no binary package in Debian 12 (bookworm), but the next release's
# source package builds cleanly against postgresql-server-dev-15. We add a
# *source-only* line for that suite (so no binary package is ever pulled from
# the newer release), fetch the source, and build and install it.
#
# Idempotent and fast when already done: it exits at once when the server
# already offers `vector` >= 0.5.
set -euo pipefail

pg_major=${PG_MAJOR:-$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$pg_major" ]; then
  echo "install-pgvector: no PostgreSQL cluster found under /etc/postgresql" >&2
  exit 1
fi

available_version() {
  psql -X -At -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -d postgres \
    -c "select default_version from pg_available_extensions where name = 'vector'" 2>/dev/null || true
}

version=$(available_version)
if [ -n "$version" ] && [ "$(printf '%s\n%s\n' 0.5.0 "$version" | sort -V | head -n 1)" = 0.5.0 ]; then
  echo "install-pgvector: vector $version already available"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-pgvector: pgvector is missing and installing it needs root (apt-get, make install)" >&2
  exit 1
fi

# The archive this machine already uses for bookworm.
archive=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$archive" ] || archive=$(awk '/^deb / && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$archive" ] || archive=http://deb.debian.org/debian

cat > /etc/apt/sources.list.d/pgvector-source.sources <<SRC
Types: deb-src
URIs: $archive
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$pg_major" dpkg-dev make gcc >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq --download-only pgvector
dpkg-source -x --no-check ./pgvector_*.dsc source >/dev/null
cd source
make -s PG_CONFIG="/usr/lib/postgresql/$pg_major/bin/pg_config" >/dev/null
make -s install PG_CONFIG="/usr/lib/postgresql/$pg_major/bin/pg_config" >/dev/null

version=$(available_version)
if [ -z "$version" ]; then
  echo "install-pgvector: built pgvector but the server still does not list it" >&2
  exit 1
fi
echo "install-pgvector: installed vector $version"
