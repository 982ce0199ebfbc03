#!/bin/sh
# Copies Swagger UI (the API documentation page's viewer) from the npm registry's swagger-ui-dist package into
# static/vendor/swagger-ui/: the standalone bundle, its stylesheet and licence, unchanged. Needs npm.
# Usage: tools/vendor-swagger-ui.sh [VERSION]   (default: the version in static/vendor/swagger-ui/VERSION)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
target="$root/static/vendor/swagger-ui"
version=${1:-$(cat "$target/VERSION" 2>/dev/null || echo 5.32.0)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "swagger-ui-dist@$version" >/dev/null
tar -xzf swagger-ui-dist-*.tgz
mkdir -p "$target"
cp package/swagger-ui-bundle.js package/swagger-ui.css package/LICENSE "$target/"
[ -f package/NOTICE ] && cp package/NOTICE "$target/"
printf '%s\n' "$version" > "$target/VERSION"
ls -l "$target"
