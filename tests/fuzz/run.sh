#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, seeded from the project's fixtures and from earlier findings
# (tests/fuzz/regressions/: image inputs that once failed; libFuzzer runs its corpus before mutating).
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_EACH]   (default 20 s each)
# KESTREL_FUZZ_SEED: libFuzzer's -seed (default 1, so that a gate run explores the same inputs as the run
# that was checked before it; 0 picks a random seed, for hunting by hand).
# A single allocation over 64 MB is a finding (-malloc_limit_mb): no input of at most 64 KiB may make a
# parser allocate in proportion to a length the input merely declares.
# Exit status: non-zero when a target crashes (its reproducer is left in BUILD_DIR/fuzz/).
set -euo pipefail
build=$1
seconds=${2:-20}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seed() {  # target, files...
  local dir=$work/$1
  mkdir -p "$dir"
  shift
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(basename "$f" | tr -c 'A-Za-z0-9._\n-' _)"; done
  echo "$dir"
}
manual=/usr/share/gimp/2.0/help/en
pages=("$manual/index.html" "$manual/gimp-layer-groups.html" "$src"/tests/fixtures/crawler/pages/*.html "$src"/tests/fixtures/site/*.html)
images=("$manual/images/gimp-org.png" "$src"/tests/fixtures/crawler/images/* "$src"/tests/fixtures/site/images/*
        "$src"/tests/fuzz/regressions/*.png)

declare -A corpus
corpus[fuzz_html_extract]=$(seed html "${pages[@]}")
corpus[fuzz_charset]=$(seed charset "${pages[@]}")
corpus[fuzz_image_info]=$(seed image "${images[@]}")
corpus[fuzz_config]=$(seed config "$src/config/default.yaml")
mkdir -p "$work/url" "$work/robots"
printf '../img/a b.png#x' >"$work/url/rel"; printf 'http://B\xc3\xbccher.example:80/%%7e/./a/../b?q' >"$work/url/idn"
printf 'User-agent: *\nDisallow: /private*$\nAllow: /private/ok\nCrawl-delay: 2\nSitemap: http://x/s.xml\n' >"$work/robots/basic"
mkdir -p "$work/css"
printf '\001a { background: url("img/a.png") } /* url(no.png) */ b{x:url( c.gif )}' >"$work/css/css"
printf '\000<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://x/a</loc></url></urlset>' >"$work/css/sitemap"
corpus[fuzz_css_sitemap]=$work/css
corpus[fuzz_url]=$work/url
corpus[fuzz_robots]=$work/robots

status=0
for target in fuzz_html_extract fuzz_url fuzz_robots fuzz_charset fuzz_image_info fuzz_css_sitemap fuzz_config; do
  echo "=== $target: $seconds s ==="
  if ! (cd "$build/fuzz" && ASAN_OPTIONS=detect_leaks=1 ./"$target" -max_total_time="$seconds" -max_len=65536 \
      -malloc_limit_mb=64 -seed="${KESTREL_FUZZ_SEED:-1}" -print_final_stats=1 "${corpus[$target]}" 2>"$work/$target.log"); then
    tail -40 "$work/$target.log"
    echo "FAILED: $target (reproducer in $build/fuzz/)"
    status=1
  else
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$work/$target.log" | tail -2
  fi
done
exit $status
