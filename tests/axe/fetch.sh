#!/usr/bin/env bash
# Installs axe-core 4 from its npm release into tests/.cache/axe (once), then prints the path of
# axe.min.js. The browser tests inject that file into each page to check accessibility.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/.cache/axe"
file="$dest/node_modules/axe-core/axe.min.js"
if [ ! -f "$file" ]; then
  mkdir -p "$dest"
  npm install --prefix "$dest" --no-audit --no-fund --loglevel=error axe-core@4 >&2
fi
echo "$file"
