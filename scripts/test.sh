#!/usr/bin/env bash
# Set up everything the test suite needs, then run it: lint, types (mypy over src), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh test

# System tools the tests use for real: git (publishing), Debian's
# chromium (the browser tests; Playwright drives it and never downloads a browser of its own),
# kiwix-serve (serving the ZIM bundle), epubcheck (validating the EPUB bundles; it brings java),
# postgresql (the store and sync tests also run on a temporary PostgreSQL cluster the tests start),
# a Chinese font (without one the browser tests' screenshots show every character as a box).
missing=()
command -v git >/dev/null || missing+=(git)
[ -x "${NEWSMIRROR_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v kiwix-serve >/dev/null || missing+=(kiwix-tools)
[ -f /usr/share/java/epubcheck.jar ] && command -v java >/dev/null || missing+=(epubcheck)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]} with apt-get..." >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: the tests need ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]})" >&2
        exit 2
    fi
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest -n 2 -q "$@"
