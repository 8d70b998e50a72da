# Shared by scripts/*: paths, the pinned Bun, and small helpers. Source it; do not run it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DAMOCLES_CACHE:-$HOME/.cache/damocles}"
BUN_VERSION="$(sed -n 's/.*"bun": *"\([0-9.]*\)".*/\1/p' "$ROOT/package.json" | head -1)"
BUN_DIR="$CACHE/bun"
BUN="$BUN_DIR/node_modules/.bin/bun"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/cargo-target}"
export PATH="$BUN_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
