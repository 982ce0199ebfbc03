#!/bin/sh
# Rebuilds static/vendor/plotly.min.js, the plotly.js the app serves, from the npm registry: plotly.js (the same
# major version as the plotly Python package's) with only the trace types the charts draw (tools/plotly-bundle/entry.js),
# minified by esbuild. The exact dependency tree is pinned by tools/plotly-bundle/package-lock.json (npm ci).
# Needs node and npm. Usage: tools/build-plotly-bundle.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/tools/plotly-bundle/package.json" "$root/tools/plotly-bundle/package-lock.json" "$root/tools/plotly-bundle/entry.js" "$work/"
cd "$work"
# --ignore-scripts: nothing the bundle needs is built at install time
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
version=$(node -p 'require("plotly.js/package.json").version')
# The map traces' stylesheet is the only CSS plotly.js imports; none of those traces is registered.
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
    --define:global=window --define:define.amd=false --loader:.css=empty --legal-comments=none \
    --log-level=warning --outfile=bundle.js
{
    printf '/**\n* plotly.js v%s (core, bar, heatmap, scatterpolar), built by tools/build-plotly-bundle.sh\n' "$version"
    printf '* Copyright 2012-2026, Plotly, Inc. All rights reserved. Licensed under the MIT license (plotly.js-LICENSE.txt)\n*/\n'
    cat bundle.js
} > "$root/static/vendor/plotly.min.js"
cp node_modules/plotly.js/LICENSE "$root/static/vendor/plotly.js-LICENSE.txt"
printf '%s\n' "$version" > "$root/static/vendor/plotly.version"
wc -c "$root/static/vendor/plotly.min.js"
