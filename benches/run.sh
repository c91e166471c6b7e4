#!/usr/bin/env bash
# Reproduces the performance figures of issue 5 against Hugo, on the generated corpus of
# ../shared/bench (gen_corpus.py, compare.sh). Corpora and outputs go to tmpfs.
#
#   benches/run.sh [cold|scale|warm|serve|all]   (default: all)
#
#   cold   compare.sh at 1,000 and 10,000 posts: wall-time ratio sitrep/Hugo, peak RSS of both
#   scale  cold builds of 10,000 and 100,000 posts: wall, peak RSS, time per post
#   warm   10,000 posts: cold build, warm rebuild of the unchanged site, warm rebuild after
#          editing one post's body, and after editing one post's title (hyperfine)
#   serve  10,000 posts: edit-to-reload latency under `sitrep serve` (serve_latency.py)
#
# Environment: SITREP_BENCH_DIR (default ../shared/bench), RUNS (hyperfine runs, default 5),
# WORK (default /dev/shm/sitrep-bench; needs ~3 GB for the 100,000-post corpus).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${SITREP_BENCH_DIR:-$ROOT/../shared/bench}
BIN=$ROOT/target/release/sitrep
WORK=${WORK:-/dev/shm/sitrep-bench}
RUNS=${RUNS:-5}
WHAT=${1:-all}

[ -x "$BENCH/compare.sh" ] || { echo "run.sh: $BENCH/compare.sh not found (set SITREP_BENCH_DIR)" >&2; exit 2; }
for tool in hyperfine /usr/bin/time hugo; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "run.sh: installing hyperfine, time and hugo (Debian packages)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine time hugo >/dev/null
    break
  }
done
(cd "$ROOT" && cargo build --release --quiet)
mkdir -p "$WORK"

corpus() {  # corpus N -> path of a sitrep-flavour corpus of N posts
  local dir=$WORK/sitrep-$1
  if [ ! -f "$dir/site.toml" ]; then
    python3 "$BENCH/gen_corpus.py" --posts "$1" --flavor sitrep --out "$dir" --force >&2
  fi
  echo "$dir"
}

peak() {  # peak OUT ARGS... -> "wall_s peak_MiB"
  local out=$1; shift
  rm -rf "$out"
  /usr/bin/time -f "%e %M" "$@" >/dev/null 2>"$WORK/time.log" || { cat "$WORK/time.log" >&2; exit 1; }
  tail -n 1 "$WORK/time.log" | awk '{printf "%s %.0f\n", $1, $2 / 1024}'
}

cold() {
  for n in 1000 10000; do
    echo "== cold build, $n posts: sitrep vs Hugo (compare.sh, medians of $RUNS runs)"
    TMPDIR=$WORK "$BENCH/compare.sh" --runs "$RUNS" "$n" "$BIN" | grep -E "wall median|ratio|peak RSS|output"
  done
}

scale() {
  echo "== scale: cold builds (--no-cache), 10,000 and 100,000 posts"
  local per10=""
  for n in 10000 100000; do
    local dir; dir=$(corpus "$n")
    read -r wall mib < <(peak "$WORK/out-$n" "$BIN" build --no-cache --root "$dir" --output "$WORK/out-$n")
    local per; per=$(awk -v w="$wall" -v n="$n" 'BEGIN {printf "%.3f", w * 1000 / n}')
    echo "$n posts: ${wall} s wall, ${mib} MiB peak RSS, ${per} ms per post"
    if [ -z "$per10" ]; then per10=$per; else
      awk -v a="$per" -v b="$per10" 'BEGIN {printf "time per post at 100,000 / at 10,000: %.2f\n", a / b}'
    fi
    rm -rf "$WORK/out-$n"
  done
}

warm() {
  local dir; dir=$(corpus 10000)
  local out=$WORK/out-warm
  local post; post=$(ls "$dir/content/posts" | sed -n 5000p)
  cp "$dir/content/posts/$post" "$WORK/post.orig"
  echo "== warm builds, 10,000 posts (edited post: $post)"
  rm -rf "$dir/.sitrep-cache" "$out"
  "$BIN" build --root "$dir" --output "$out" >/dev/null
  cat > "$WORK/edit.py" <<'PY'
import re, sys
path, mode = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
if mode == "body":
    text = text.rstrip("\n") + "\n\nOne more sentence for the benchmark.\n"
else:
    text = re.sub(r'^title: "(.*?)( \(v\d+\))?"$', lambda m: 'title: "%s (v%d)"' % (m.group(1), len(text) % 97), text, count=1, flags=re.M)
open(path, "w", encoding="utf-8").write(text)
PY
  hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/warm.json" \
    -n cold --prepare "rm -rf $out" "$BIN build --no-cache --root $dir --output $out" \
    -n warm-unchanged --prepare true "$BIN build --root $dir --output $out" \
    -n warm-body-edit --prepare "python3 $WORK/edit.py $dir/content/posts/$post body" "$BIN build --root $dir --output $out" \
    -n warm-title-edit --prepare "python3 $WORK/edit.py $dir/content/posts/$post title" "$BIN build --root $dir --output $out"
  cp "$WORK/post.orig" "$dir/content/posts/$post"
  python3 - "$WORK/warm.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for k in ("warm-unchanged", "warm-body-edit", "warm-title-edit"):
    print("%-16s median %.3f s = %.3f x the cold build (%.3f s)" % (k, r[k], r[k] / r["cold"], r["cold"]))
PY
  # The warm outputs must equal a cold build's.
  "$BIN" build --root "$dir" --output "$out" >/dev/null
  rm -rf "$WORK/out-cold"
  "$BIN" build --no-cache --root "$dir" --output "$WORK/out-cold" >/dev/null
  diff -r "$out" "$WORK/out-cold" >/dev/null && echo "warm output identical to a cold build: yes" || { echo "warm output differs from a cold build" >&2; exit 1; }
  rm -rf "$WORK/out-cold" "$out"
}

serve() {
  local dir; dir=$(corpus 10000)
  echo "== serve: edit-to-reload, 10,000 posts"
  python3 "$ROOT/benches/serve_latency.py" "$BIN" "$dir" --edits 10
}

case "$WHAT" in
  cold) cold ;;
  scale) scale ;;
  warm) warm ;;
  serve) serve ;;
  all) cold; scale; warm; serve ;;
  *) echo "usage: benches/run.sh [cold|scale|warm|serve|all]" >&2; exit 2 ;;
esac
