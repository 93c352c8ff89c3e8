#!/bin/sh
# Build edgelm and generate text from the default model (or the one given with -m).
#   scripts/demo.sh                       uses ../shared/data/models/stories260K.gguf
#   scripts/demo.sh -m MODEL.gguf -p "Your prompt"
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build -DEL_BUILD_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target edgelm_cli
MODEL=../shared/data/models/stories260K.gguf
PROMPT="Once upon a time"
while [ $# -gt 0 ]; do
  case "$1" in
    -m) MODEL="$2"; shift 2 ;;
    -p) PROMPT="$2"; shift 2 ;;
    *) echo "usage: scripts/demo.sh [-m MODEL.gguf] [-p PROMPT]" >&2; exit 2 ;;
  esac
done
if [ ! -f "$MODEL" ]; then
  echo "demo: model '$MODEL' not found; pass one with: scripts/demo.sh -m path/to/model.gguf" >&2
  exit 1
fi
./build/edgelm info "$MODEL"
./build/edgelm generate -m "$MODEL" -p "$PROMPT" -n 64 --temp 0
