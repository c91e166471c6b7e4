#!/usr/bin/env bash
# A site of N posts with real PNG/JPEG images (ImageMagick), mixed sizes, most wider than
# the 760 px column; and the same posts without images as a baseline.
#   benches/gen_image_site.sh OUT_WITH OUT_WITHOUT [IMAGES=500] [PER_POST=5]
set -euo pipefail
with=$1; without=$2; n=${3:-500}; per=${4:-5}
posts=$(( (n + per - 1) / per ))
widths=(640 800 1024 1280 1600 1920 2400 700)
for d in "$with" "$without"; do
  mkdir -p "$d/content/posts"
  printf 'title = "Image Bench"\nbase_url = "https://bench.example.com"\ndescription = "bench"\n[images]\nsocial_cards = false\n' > "$d/site.toml"
done
make_one() {
  local i=$1 dir=$2 w=$3 ext=$4
  local h=$(( w * (9 + i % 4) / 16 ))
  convert -size "$(( w / 6 ))x$(( h / 6 ))" -seed "$i" plasma:fractal -resize "${w}x${h}!" \
    -fill white -pointsize $(( w / 20 )) -annotate +20+$(( h / 3 )) "shot $i" \
    $( [ "$ext" = png ] && echo "-colors 64" ) \
    -depth 8 -quality 85 "$dir/img$i.$ext"
}
export -f make_one
jobs=()
for ((p = 0; p < posts; p++)); do
  dir="$with/content/posts/p$p"; mkdir -p "$dir" "$without/content/posts/p$p"
  body=""
  for ((k = 0; k < per; k++)); do
    i=$(( p * per + k )); (( i < n )) || break
    w=${widths[$(( i % 8 ))]}; ext=png; (( i % 3 == 0 )) || ext=jpg
    jobs+=("$i $dir $w $ext")
    body+=$'\n'"![Shot $i](img$i.$ext)"$'\n'
  done
  text="Post $p text. $(printf 'Security news paragraph %.0s' {1..20})"
  printf -- '---\ntitle: "Post %d"\ndate: 2024-01-%02d\n---\n\n%s\n%s\n' "$p" $(( p % 28 + 1 )) "$text" "$body" > "$dir/index.md"
  printf -- '---\ntitle: "Post %d"\ndate: 2024-01-%02d\n---\n\n%s\n' "$p" $(( p % 28 + 1 )) "$text" > "$without/content/posts/p$p/index.md"
done
printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 bash -c 'make_one $0 $1 $2 $3'
