#!/usr/bin/env bash
# Set up newsmirror and run the bundled demo: a sample news site served on
# 127.0.0.1 is mirrored into ./demo-mirror and published to a local bare repository.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/newsmirror demo "$@"
