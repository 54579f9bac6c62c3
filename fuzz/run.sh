#!/usr/bin/env bash
# Build one fuzz target the recommended way and run it on a copy of its committed corpus.
#
#   fuzz/run.sh ops [SECONDS] [more libFuzzer flags...]
#   fuzz/run.sh scenario 3600 -jobs=2 -workers=2
#
# The build is `cargo +nightly fuzz build -s none --no-trace-compares` (see fuzz/README.md, "Modes":
# no AddressSanitizer, no compare tracing; debug assertions and overflow checks stay on). The corpus
# under fuzz/corpus/ is copied to a fresh temporary folder first, so new inputs never change it;
# crashes are written to fuzz/artifacts/<target>/. Set BITSIM_FUZZ_MODE=default for cargo-fuzz's own
# build (AddressSanitizer and compare tracing), or BITSIM_FUZZ_MODE=compares for `-s none` with
# compare tracing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-}"
case "$target" in
ops | scenario) ;;
*)
    echo "usage: fuzz/run.sh ops|scenario [SECONDS] [libFuzzer flags...]" >&2
    exit 2
    ;;
esac
shift
seconds=600
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
fi

case "${BITSIM_FUZZ_MODE:-fast}" in
fast) flags=(-s none --no-trace-compares) ;;
compares) flags=(-s none) ;;
default) flags=() ;;
*)
    echo "BITSIM_FUZZ_MODE must be fast, compares or default" >&2
    exit 2
    ;;
esac

cd "$root"
cargo +nightly fuzz build "${flags[@]}" "$target"

work="$(mktemp -d)"
cp -r "fuzz/corpus/$target" "$work/corpus"
mkdir -p "fuzz/artifacts/$target"
limits=()
if [ "$target" = ops ]; then
    # The decoder reads at most 64 steps: longer inputs only carry bytes that are never read.
    limits=(-max_len=512)
fi
echo "corpus copy: $work/corpus"
exec "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$work/corpus" \
    -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$seconds" -print_final_stats=1 \
    "${limits[@]}" "$@"
