#!/usr/bin/env bash
# The peer comparison: Lasp's serve against a plain net/http handler and
# PHP-FPM (behind nginx) from Debian, on two workloads, in one run on this
# machine; prints requests/s (median of the runs) and the ratios.
#
#   bench/peers.sh [duration] [runs]      defaults: 10s 3
#   PHP_CHILDREN=8 bench/peers.sh ...     PHP-FPM's worker processes (pm static)
#
# W1: bench/app/table.lasp?name=<b>Bench</b> (escapes a query parameter,
#     renders a 20-row table); the plain handler writes the bytes Lasp wrote,
#     PHP builds them (bench/peers/php/table.php); the bodies are compared
#     with cmp. Load: wrk -t1 -c32.
# W2: a session counter, Session["n"] = (Session["n"] or 0) + 1, printing the
#     new n (bench/app/counter.lasp): Lasp with the memory store and with the
#     Redis store (a private redis-server: pinned beside the server, and
#     again on the load's CPU, as a stand-in for a Redis of its own that
#     does not share the server's core), a plain Go map behind a mutex
#     keyed by a cookie (bench/peers/plainsession), PHP file sessions
#     (bench/peers/php/counter.php). Load: wrk -t32 -c32 with
#     bench/peers/counter.lua, each thread one client keeping its cookie.
#
# Method: each server (with its redis-server, or nginx and PHP-FPM) pinned to
# CPU 0 (taskset -c 0, GOMAXPROCS=1), wrk on CPU 1 (taskset -c 1); the
# second Redis row pins its redis-server to CPU 1 too. serve
# runs with its defaults except -access-log=false -compress=false, like the
# plain handlers. Installs wrk, redis-server, php-fpm and nginx from Debian
# when missing; PHP's row says "not available" when they cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
runs=${2:-3}
php_children=${PHP_CHILDREN:-8}

sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
updated=""
install() { # install PACKAGE...: from Debian, quietly; fails softly
  [ -n "$updated" ] || { $sudo apt-get update -qq >/dev/null 2>&1 || true; updated=1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}
command -v wrk >/dev/null || install wrk
command -v redis-server >/dev/null || install redis-server
command -v wrk >/dev/null || { echo "wrk is missing and could not be installed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing and could not be installed" >&2; exit 1; }
phpfpm() { compgen -c php-fpm | sort -V | tail -1; }
if [ -z "$(phpfpm)" ] && ! [ -x "$(ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -1)" ]; then install php-fpm || true; fi
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || install nginx || true
fpm=$(phpfpm); [ -n "$fpm" ] || fpm=$(ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -1 || true)
nginx=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)

# Pinning: the servers on CPU 0, wrk on CPU 1.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_srv=(taskset -c 0); pin_cli=(taskset -c 1); pinned="yes (servers: taskset -c 0, wrk: taskset -c 1)"
else
  pin_srv=(); pin_cli=(); pinned="no (taskset missing or fewer than 2 CPUs): nothing pinned"
fi
export GOMAXPROCS=1 # for the Go servers; wrk and the others ignore it

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

commands=()
note() { commands+=("$*"); }

go build -o "$tmp/serve" ./cmd/serve
go build -o "$tmp/plain" ./bench/plain
go build -o "$tmp/plainsession" ./bench/peers/plainsession

# start NAME CMD...: runs a server that prints "listening on http://ADDR"
# (pinned, GOMAXPROCS=1) and sets $addr.
start() {
  local name=$1; shift
  note "GOMAXPROCS=1 ${pin_srv[*]} $*"
  "${pin_srv[@]}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(sed -n 's|^listening on http://||p' "$tmp/$name.out")
    [ -n "$addr" ] && return
    sleep 0.1
  done
  echo "server did not start: $*" >&2; cat "$tmp/$name.err" >&2; exit 1
}
freeport() { # a port nobody listens on, below the ephemeral range (where an outgoing connection may hold it)
  local p low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  while :; do
    p=$((10000 + RANDOM % (low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
waitport() { # waitport PORT: until something listens there (10 s)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

w1='/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E'
w1php='/table.php?name=%3Cb%3EBench%3C%2Fb%3E'
serveflags=(-access-log=false -compress=false)

declare -A url1 url2
targets=(plain lasp lasp-redis lasp-redis1 php)
declare -A label=([plain]="plain Go net/http" [lasp]="lasp serve, memory store" [lasp-redis]="lasp serve, Redis store"
  [lasp-redis1]="  its Redis on wrk's CPU" [php]="php-fpm + nginx")

# Lasp, memory store.
start lasp "$tmp/serve" -root bench/app -addr 127.0.0.1:0 "${serveflags[@]}"
url1[lasp]="http://$addr$w1"; url2[lasp]="http://$addr/counter.lasp"
curl -fsS "${url1[lasp]}" >"$tmp/body.html"

# Plain Go: the same bytes; the map session counter.
start plain "$tmp/plain" -addr 127.0.0.1:0 -body "$tmp/body.html"
url1[plain]="http://$addr/"
start plainsession "$tmp/plainsession" -addr 127.0.0.1:0
url2[plain]="http://$addr/"

# Lasp, Redis store: a private redis-server beside it; and another on the
# load's CPU, so that serve has its core to itself.
start_redis() { # start_redis NAME PIN...: a private redis-server; sets $rport
  local name=$1; shift
  rport=$(freeport)
  note "$* redis-server --port $rport --bind 127.0.0.1 --save '' --appendonly no"
  "$@" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$tmp" --dbfilename "$name.rdb" --logfile "$tmp/$name.log" --daemonize no &
  pids+=($!)
  waitport "$rport" || { echo "redis-server did not start" >&2; cat "$tmp/$name.log" >&2; exit 1; }
}
start_redis redis "${pin_srv[@]}"
start lasp-redis "$tmp/serve" -root bench/app -addr 127.0.0.1:0 "${serveflags[@]}" \
  -session-store "redis://127.0.0.1:$rport/0" -keys "$tmp/keys"
url1[lasp-redis]="http://$addr$w1"; url2[lasp-redis]="http://$addr/counter.lasp"
start_redis redis1 "${pin_cli[@]}"
start lasp-redis1 "$tmp/serve" -root bench/app -addr 127.0.0.1:0 "${serveflags[@]}" \
  -session-store "redis://127.0.0.1:$rport/0" -keys "$tmp/keys"
url1[lasp-redis1]="http://$addr$w1"; url2[lasp-redis1]="http://$addr/counter.lasp"

# PHP-FPM behind nginx (FastCGI on a unix socket), private configs in $tmp.
php_status=""
start_php() {
  [ -n "$fpm" ] || { php_status="php-fpm: not available (could not install php-fpm)"; return 1; }
  [ -n "$nginx" ] || { php_status="php-fpm: not available (could not install nginx)"; return 1; }
  local d=$tmp/php port root_user="" root_flag=()
  mkdir -p "$d/www" "$d/sessions" "$d/nginx"
  cp bench/peers/php/table.php bench/peers/php/counter.php "$d/www/"
  if [ "$(id -u)" = 0 ]; then root_user=$'user = root\ngroup = root'; root_flag=(-R); fi
  cat >"$d/fpm.conf" <<EOF
[global]
pid = $d/fpm.pid
error_log = $d/fpm.log
daemonize = no
[bench]
$root_user
listen = $d/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = $php_children
pm.max_requests = 0
php_admin_value[session.save_path] = $d/sessions
php_admin_value[session.save_handler] = files
php_admin_value[session.gc_probability] = 0
php_admin_value[opcache.enable] = 1
php_admin_value[opcache.validate_timestamps] = 0
EOF
  port=$(freeport)
  cat >"$d/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$([ "$(id -u)" = 0 ] && echo "user root;")
pid $d/nginx/nginx.pid;
error_log $d/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $d/nginx/body;
  proxy_temp_path $d/nginx/proxy;
  fastcgi_temp_path $d/nginx/fastcgi;
  uwsgi_temp_path $d/nginx/uwsgi;
  scgi_temp_path $d/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    root $d/www;
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$d/fpm.sock;
    }
  }
}
EOF
  note "${pin_srv[*]} $fpm -F ${root_flag[*]} -y $d/fpm.conf   (pm static, $php_children children, opcache on, file sessions)"
  "${pin_srv[@]}" "$fpm" -F "${root_flag[@]}" -y "$d/fpm.conf" >"$d/fpm.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$d/fpm.sock" ] && break; sleep 0.1; done
  [ -S "$d/fpm.sock" ] || { php_status="php-fpm: not available (did not start: $(tail -1 "$d/fpm.log" "$d/fpm.out" 2>/dev/null | tr '\n' ' '))"; return 1; }
  note "${pin_srv[*]} $nginx -p $d/nginx -c $d/nginx/nginx.conf -e $d/nginx/error.log   (1 worker, access log off)"
  "${pin_srv[@]}" "$nginx" -p "$d/nginx" -c "$d/nginx/nginx.conf" -e "$d/nginx/error.log" >"$d/nginx.out" 2>&1 &
  pids+=($!)
  waitport "$port" || { php_status="php-fpm: not available (nginx did not start: $(tail -1 "$d/nginx/error.log" "$d/nginx.out" 2>/dev/null | tr '\n' ' '))"; return 1; }
  url1[php]="http://127.0.0.1:$port$w1php"; url2[php]="http://127.0.0.1:$port/counter.php"
}
start_php || targets=(plain lasp lasp-redis lasp-redis1)

# Same bytes: W1 bodies byte-identical; W2 answers 1 then 2 to one client.
for t in "${targets[@]}"; do
  if ! cmp -s "$tmp/body.html" <(curl -fsS "${url1[$t]}"); then
    if [ "$t" = php ]; then php_status="php-fpm: W1 body differs from Lasp's"; targets=(plain lasp lasp-redis lasp-redis1); continue; fi
    echo "W1 bodies differ: ${label[$t]}" >&2; exit 1
  fi
  jar=$tmp/jar.$t
  got=$(curl -fsS -c "$jar" -b "$jar" "${url2[$t]}"; curl -fsS -c "$jar" -b "$jar" "${url2[$t]}")
  if [ "$got" != $'1\n2' ]; then
    if [ "$t" = php ]; then php_status="php-fpm: W2 counter wrong ($got)"; targets=(plain lasp lasp-redis lasp-redis1); continue; fi
    echo "W2 counter wrong for ${label[$t]}: $got" >&2; exit 1
  fi
done

wrk1=(wrk -t1 -c32 -d"$duration")
wrk2=(wrk -t32 -c32 -d"$duration" -s bench/peers/counter.lua)
note "${pin_cli[*]} ${wrk1[*]} URL   (W1)"
note "${pin_cli[*]} ${wrk2[*]} URL   (W2)"

# measure FILE WRK...: runs wrk, keeps its output, prints requests/s.
measure() {
  local f=$1; shift
  "${pin_cli[@]}" "$@" >"$f" 2>&1 || true
  if grep -qE 'Non-2xx|Socket errors' "$f"; then
    echo "warning: $(grep -E 'Non-2xx|Socket errors' "$f" | tr -s ' ' | tr '\n' ' ') in $*" >&2
  fi
  awk '/^Requests\/sec:/ {print $2}' "$f"
}

for t in "${targets[@]}"; do # warm up
  "${pin_cli[@]}" wrk -t1 -c4 -d1s "${url1[$t]}" >/dev/null 2>&1 || true
  "${pin_cli[@]}" wrk -t4 -c4 -d1s -s bench/peers/counter.lua "${url2[$t]}" >/dev/null 2>&1 || true
done
declare -A r1 r2 check
for round in $(seq "$runs"); do # interleaved: each round runs every target
  for t in "${targets[@]}"; do
    r1[$t]="${r1[$t]:-} $(measure "$tmp/wrk1.$t" "${wrk1[@]}" "${url1[$t]}")"
    r2[$t]="${r2[$t]:-} $(measure "$tmp/wrk2.$t" "${wrk2[@]}" "${url2[$t]}")"
    check[$t]=$(grep '^counter:' "$tmp/wrk2.$t" || echo "counter: no summary")
  done
done

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{v[NR]=$1} END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
declare -A m1 m2
for t in "${targets[@]}"; do m1[$t]=$(echo "${r1[$t]}" | median); m2[$t]=$(echo "${r2[$t]}" | median); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a / b; else print "-" }'; }

echo "peers: $(nproc) CPUs; pinned: $pinned; Go servers GOMAXPROCS=1"
echo "runs: $runs x $duration per target and workload, interleaved; medians shown"
echo "W1: GET $w1 ($(wc -c <"$tmp/body.html") bytes, byte-identical across targets: cmp), wrk -t1 -c32"
echo "W2: session counter (counter.lasp / counter.php / map+mutex), wrk -t32 -c32, each thread one client keeping its cookie"
echo "serve: defaults except ${serveflags[*]} (like the plain handlers)"
echo
printf '%-26s %10s %10s %9s %9s %15s\n' target "W1 req/s" "W2 req/s" "W1/plain" "W2/plain" "W2 redis/mem"
for t in plain lasp lasp-redis lasp-redis1 php; do
  if [ "$t" = php ] && [ -n "$php_status" ]; then
    printf '%-26s %s\n' "${label[$t]}" "$php_status"; continue
  fi
  rm=""; [[ $t = lasp-redis* ]] && rm=$(ratio "${m2[$t]}" "${m2[lasp]}")
  printf '%-26s %10s %10s %9s %9s %15s\n' "${label[$t]}" "${m1[$t]}" "${m2[$t]}" \
    "$(ratio "${m1[$t]}" "${m1[plain]}")" "$(ratio "${m2[$t]}" "${m2[plain]}")" "$rm"
done
echo
echo "all runs (req/s):"
for t in "${targets[@]}"; do printf '  %-26s W1:%s  W2:%s\n' "${label[$t]}" "${r1[$t]}" "${r2[$t]}"; done
echo "W2 cookie check (last run):"
for t in "${targets[@]}"; do printf '  %-26s %s\n' "${label[$t]}" "${check[$t]}"; done
echo
echo "commands:"
for c in "${commands[@]}"; do echo "  $c"; done
