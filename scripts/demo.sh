#!/usr/bin/env bash
# Set up newsmirror and run the bundled demo: a sample news site served on
# 127.0.0.1 is mirrored into ./demo-mirror (in the folder you run this from)
# and published to a local bare repository.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/setup.sh"
exec "$repo/.venv/bin/newsmirror" demo "$@"
