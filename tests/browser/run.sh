#!/usr/bin/env bash
# run.sh — the dashboard's browser test (dashboard.test.mjs): installs the pinned
# playwright-core from package-lock.json (npm ci; never a browser download) and runs
# the test with node's test runner against build/monasd and build/monas-worker.
# Skips with a message (exit 0) when node/npm or chromium is missing.
#   MONAS_BIN_DIR  where monasd and monas-worker are (default: build)
#   CHROMIUM       the browser (default: /usr/bin/chromium)
# Screenshots go to build/artifacts/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=$(cd "$root" && realpath -m "${MONAS_BIN_DIR:-build}")
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() { echo "SKIP browser test: $*"; exit 0; }
command -v node >/dev/null 2>&1 || skip "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (apt-get install npm)"
[ "$(node -p 'parseInt(process.versions.node)')" -ge 18 ] || skip "node $(node -v) is older than 18"
[ -x "$chromium" ] || skip "no chromium at $chromium (apt-get install chromium)"
[ -x "$bin_dir/monasd" ] || { echo "browser test: $bin_dir/monasd not built (run make)" >&2; exit 1; }

cd "$here"
want=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')
if [ "$want" != "$have" ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline --loglevel=error
fi
MONAS_BIN_DIR="$bin_dir" CHROMIUM="$chromium" ARTIFACTS="$root/build/artifacts" \
    node --test --test-reporter=spec dashboard.test.mjs
