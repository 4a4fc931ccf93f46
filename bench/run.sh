#!/usr/bin/env bash
# Load-tests Lasp against a plain net/http handler that writes the same bytes,
# in one run on this machine, and prints requests/s of each and their ratio.
#
#   bench/run.sh [duration] [connections] [threads]
#   VARIANTS=1 bench/run.sh ...   also the page with the access log and gzip
#                                 each on and off (wrk sends Accept-Encoding: gzip),
#                                 in ROUNDS interleaved rounds (default 2)
#
# Page: bench/app/table.lasp?name=<b>Bench</b> (escapes a query parameter,
# renders a 20-row table). Installs wrk from Debian when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
conns=${2:-32}
threads=${3:-2}

if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/serve" ./cmd/serve
go build -o "$tmp/plain" ./bench/plain

# start CMD... : runs a server that prints "listening on http://ADDR" and sets $addr.
start() {
  "$@" >"$tmp/out" 2>"$tmp/err" &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(sed -n 's|^listening on http://||p' "$tmp/out")
    [ -n "$addr" ] && return
    sleep 0.1
  done
  echo "server did not start: $*" >&2; cat "$tmp/err" >&2; exit 1
}

path='/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E'
start "$tmp/serve" -root bench/app -addr 127.0.0.1:0
lasp=$addr
curl -fsS "http://$lasp$path" >"$tmp/body.html"
start "$tmp/plain" -addr 127.0.0.1:0 -body "$tmp/body.html"
plain=$addr
cmp -s "$tmp/body.html" <(curl -fsS "http://$plain/") || { echo "bodies differ" >&2; exit 1; }

rps() { wrk -t"$threads" -c"$conns" -d"$duration" "$1" | awk '/^Requests\/sec:/ {print $2}'; }
wrk -t1 -c4 -d1s "http://$lasp$path" >/dev/null # warm up
wrk -t1 -c4 -d1s "http://$plain/" >/dev/null
plain_rps=$(rps "http://$plain/")
lasp_rps=$(rps "http://$lasp$path")
echo "page: $path ($(wc -c <"$tmp/body.html") bytes), wrk -t$threads -c$conns -d$duration, $(nproc) cores"
echo "plain net/http: $plain_rps requests/s"
echo "lasp:           $lasp_rps requests/s"
awk -v l="$lasp_rps" -v p="$plain_rps" 'BEGIN { printf "ratio lasp/plain: %.2f\n", l / p }'

if [ "${VARIANTS:-}" = 1 ]; then
  # The same page through four servers in one run: the access log (logging
  # to a file) and gzip each on and off; every request accepts gzip. Besides
  # requests/s, each server's own CPU time per request (from /proc, user +
  # system) is printed: wrk and the machine's other load move it less.
  declare -A url pid
  for v in "log+gzip:" "log:-compress=false" "gzip:-access-log=false" "neither:-access-log=false -compress=false"; do
    name=${v%%:*}; flags=${v#*:}
    # shellcheck disable=SC2086
    start "$tmp/serve" -root bench/app -addr 127.0.0.1:0 $flags
    url[$name]="http://$addr$path"
    pid[$name]=${pids[-1]}
    wrk -t1 -c4 -d1s -H 'Accept-Encoding: gzip' "${url[$name]}" >/dev/null
  done
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  declare -A r cpu
  for _ in $(seq "${ROUNDS:-2}"); do
    for name in log+gzip log gzip neither; do
      t0=$(ticks "${pid[$name]}")
      out=$(wrk -t"$threads" -c"$conns" -d"$duration" -H 'Accept-Encoding: gzip' "${url[$name]}")
      t1=$(ticks "${pid[$name]}")
      rq=$(awk '/requests in/ {print $1}' <<<"$out")
      r[$name]="${r[$name]:-} $(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
      cpu[$name]="${cpu[$name]:-} $(awk -v t=$((t1 - t0)) -v n="$rq" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
    done
  done
  echo "variants (Accept-Encoding: gzip; ${ROUNDS:-2} rounds, interleaved):"
  for name in log+gzip log gzip neither; do
    printf "  %-9s %s requests/s;  server CPU per request:%s µs\n" "$name" "${r[$name]}" "${cpu[$name]}"
  done
fi
