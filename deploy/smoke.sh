#!/usr/bin/env bash
# Proves that the worker image runs: builds it, starts Redis and two worker
# containers on the host network, crawls the demo site (served on 127.0.0.1 by a
# host process), exports and checks the articles; then crawls again, sends
# SIGTERM to one worker in the middle and checks that it exits 0 within the
# grace period and that every article is still stored exactly once.
#
#   bash deploy/smoke.sh            (make smoke)
#
# Uses podman (tested with Debian 12's podman 4.3.1 and runc); Docker is not
# supported by this script. Needs root (or sudo) on Debian/Ubuntu: installs podman,
# runc and debootstrap when missing, and builds the base image from a Debian
# root file system (debootstrap, then `podman import`), because Docker Hub may
# be unreachable. The base image stays cached as $SMOKE_BASE_IMAGE for later
# runs (SMOKE_REBUILD_BASE=1 rebuilds it); everything else it creates is
# removed at the end. Wheels are built on the host (a CA only the host trusts
# may keep pip inside a build from PyPI) and installed from the build context.
#
# Environment: SMOKE_BASE_IMAGE (default localhost/news-crawler-base:bookworm),
# SMOKE_SUITE (bookworm), SMOKE_MIRROR (default: the host's Debian mirror),
# SMOKE_REBUILD_BASE=1, SMOKE_KEEP_BASE=0 (also remove the cached images),
# WHEEL_PYTHON (default /usr/bin/python3: must be the base image's exact version).
set -Eeuo pipefail

started=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST_PY=${PYTHON:-$ROOT/.venv/bin/python}            # runs the demo site and `crawler status`
WHEEL_PYTHON=${WHEEL_PYTHON:-/usr/bin/python3}
SUITE=${SMOKE_SUITE:-bookworm}
BASE_IMAGE=${SMOKE_BASE_IMAGE:-localhost/news-crawler-base:$SUITE}
REDIS_IMAGE=localhost/news-crawler-redis:$SUITE      # derived from the base, cached with it
RUN_ID=smoke-$$
IMAGE=localhost/news-crawler-worker:$RUN_ID
GRACE=30                                              # seconds a worker gets to drain
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

step() { printf '\n==> %s  [%ds]\n' "$*" "$((SECONDS - started))"; }
die() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x "$WHEEL_PYTHON" ] && "$WHEEL_PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x "$HOST_PY" ] || die "$HOST_PY not found: run 'make install' first (or set PYTHON)"

# Hosts without full cgroup v2 delegation (like the development machines) need
# runc with cgroupfs, and explicit ulimits no higher than the host's hard limits
# (podman's default of 1048576 open files is refused there).
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ] && nproc=4096
PODMAN=($SUDO podman --runtime runc --cgroup-manager=cgroupfs)
ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

WORK=$(mktemp -d)
SITE_PID=
# podman, its stderr shown only when it fails: without systemd, podman 4 logs an
# error about healthcheck timers for every container started from an image with
# a HEALTHCHECK (`podman healthcheck run` still works, as used below).
pm() {
  local err=$WORK/podman.err
  if "${PODMAN[@]}" "$@" 2>"$err"; then return 0; else
    local rc=$?
    grep -v 'systemd connection' "$err" >&2
    return "$rc"
  fi
}
images_before=$("${PODMAN[@]}" images -aq --no-trunc | sort)
cleanup() {
  local rc=$?
  set +e
  [ -n "$SITE_PID" ] && kill "$SITE_PID" 2>/dev/null
  for c in "$RUN_ID-worker-a" "$RUN_ID-worker-b" "$RUN_ID-redis"; do
    "${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1
  done
  # Every image this run made (the worker image and its build stages), but the
  # cached base and Redis images unless SMOKE_KEEP_BASE=0.
  local keep=""
  if [ "${SMOKE_KEEP_BASE:-1}" != 0 ]; then
    keep=$("${PODMAN[@]}" image inspect --format 'sha256:{{.Id}}' "$BASE_IMAGE" "$REDIS_IMAGE" 2>/dev/null)
  fi
  comm -13 <(echo "$images_before") <("${PODMAN[@]}" images -aq --no-trunc | sort) |
    grep -vxF -e "${keep:-none}" | xargs -r "${PODMAN[@]}" rmi -f >/dev/null 2>&1
  if [ "${SMOKE_KEEP_BASE:-1}" = 0 ]; then
    "${PODMAN[@]}" rmi -f "$REDIS_IMAGE" "$BASE_IMAGE" >/dev/null 2>&1
  fi
  $SUDO rm -rf "$WORK"
  [ "$rc" = 0 ] || echo "smoke: failed after $((SECONDS - started)) s" >&2
}
trap cleanup EXIT
trap 'echo "smoke: line $LINENO failed: $BASH_COMMAND" >&2' ERR

# --- base image: Debian from debootstrap -----------------------------------------
if [ "${SMOKE_REBUILD_BASE:-0}" = 1 ] || ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  mirror=${SMOKE_MIRROR:-$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
                              grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}'; } 2>/dev/null |
                            grep -v security | head -n1 || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  step "building $BASE_IMAGE: debootstrap $SUITE from $mirror"
  rootfs=$WORK/rootfs
  $SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
  # As Debian's -slim images do: no package caches, documentation or translations,
  # now or in packages installed later.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' |
    $SUDO tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null
  $SUDO find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  $SUDO find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  $SUDO tar -C "$rootfs" -c . | pm import -q --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    - "$BASE_IMAGE" >/dev/null
  $SUDO rm -rf "$rootfs"
  "${PODMAN[@]}" rmi -f "$REDIS_IMAGE" >/dev/null 2>&1 || true
fi
base_py=$(pm run --rm "${ULIMITS[@]}" "$BASE_IMAGE" python3 -c 'import platform; print(platform.python_version())')
echo "base image $BASE_IMAGE: Python $base_py"

# --- Redis image: the base plus Debian's redis-server -------------------------------
if ! "${PODMAN[@]}" image exists "$REDIS_IMAGE"; then
  step "building $REDIS_IMAGE (Debian's redis-server on the base image)"
  mkdir -p "$WORK/redis"
  printf '%s\n' 'ARG BASE_IMAGE' 'FROM ${BASE_IMAGE}' \
    'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin' \
    'USER redis' 'ENTRYPOINT ["redis-server"]' >"$WORK/redis/Containerfile"
  pm build -q --layers=false --network host "${ULIMITS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -t "$REDIS_IMAGE" "$WORK/redis" >/dev/null
fi

# --- wheels on the host, then the image -------------------------------------------------
step "building wheels on the host ($WHEEL_PYTHON)"
wheel_py=$("$WHEEL_PYTHON" -c 'import platform; print(platform.python_version())')
# Environment markers (redis: async-timeout for python_full_version < "3.11.3") are
# decided by the Python that runs pip, so it must be the base image's exact version.
[ "$wheel_py" = "$base_py" ] ||
  die "WHEEL_PYTHON is Python $wheel_py but the base image has $base_py: set WHEEL_PYTHON to a $base_py interpreter"
ctx=$WORK/context
mkdir -p "$ctx/deploy"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/crawler" "$ROOT/spiders" "$ROOT/.dockerignore" "$ctx/"
cp "$ROOT/deploy/Dockerfile" "$ctx/deploy/"
"$WHEEL_PYTHON" -m venv "$WORK/wheel-venv"
"$WORK/wheel-venv/bin/pip" install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v 'is ignored' >&2 || true
"$WORK/wheel-venv/bin/pip" wheel -q --disable-pip-version-check "$ctx" pip -w "$ctx/deploy/.wheels" \
  >"$WORK/wheels.log" 2>&1 || { tail -20 "$WORK/wheels.log"; die "pip wheel failed"; }
echo "$(ls "$ctx/deploy/.wheels" | wc -l) wheels"

step "building $IMAGE (deploy/Dockerfile, BASE_IMAGE=$BASE_IMAGE, WHEELS=context)"
# docker format: the OCI image format has no HEALTHCHECK.
pm build --format docker "${ULIMITS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg WHEELS=context \
  -f "$ctx/deploy/Dockerfile" -t "$IMAGE" "$ctx" >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log"; die "image build failed"; }
size=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Size}}')
user=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Config.User}}')
entrypoint=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{json .Config.Entrypoint}}')
printf 'image %s: %d bytes (%d MB), user %s, entrypoint %s\n' "$IMAGE" "$size" "$((size / 1000000))" "$user" "$entrypoint"

# --- Redis, the demo site --------------------------------------------------------------
free_port() { "$HOST_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
REDIS_URL=redis://127.0.0.1:$redis_port/0
step "starting Redis in a container on 127.0.0.1:$redis_port"
pm run -d --name "$RUN_ID-redis" --network host "${ULIMITS[@]}" "$REDIS_IMAGE" \
  --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >/dev/null
for _ in $(seq 50); do
  [ "$("${PODMAN[@]}" exec "$RUN_ID-redis" redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.2
done
[ "$("${PODMAN[@]}" exec "$RUN_ID-redis" redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] || die "Redis did not start"

step "serving the demo site on 127.0.0.1 (host process)"
"$HOST_PY" -u -c '
import json, threading
from crawler.demo import expected_articles, serve
site = serve("127.0.0.1")
print(json.dumps({"base_url": site.base_url, "urls": [a["url"] for a in expected_articles(site.base_url)]}))
threading.Event().wait()  # until SIGTERM
' >"$WORK/site.json" 2>"$WORK/site.log" &
SITE_PID=$!
for _ in $(seq 50); do [ -s "$WORK/site.json" ] && break; sleep 0.1; done
[ -s "$WORK/site.json" ] || { cat "$WORK/site.log"; die "the demo site did not start"; }
base_url=$("$HOST_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["base_url"])' "$WORK/site.json")
expected=$("$HOST_PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["urls"]))' "$WORK/site.json")
echo "demo site $base_url/: $expected articles expected"

# --- helpers -------------------------------------------------------------------------
one_shot() {  # crawler COMMAND ... in a throwaway container of the image
  pm run --rm --network host "${ULIMITS[@]}" -e "REDIS_URL=$REDIS_URL" --entrypoint crawler "$IMAGE" "$@"
}
start_worker() {  # NAME METRICS_PORT [worker args...]
  local name=$1 port=$2; shift 2
  # --read-only: the image runs with a read-only root file system, as on Kubernetes.
  pm run -d --name "$name" --hostname "$name" --network host --read-only "${ULIMITS[@]}" \
    -e "REDIS_URL=$REDIS_URL" -e CRAWLER_ALLOW_PRIVATE_NETWORKS=1 -e METRICS_HOST=127.0.0.1 \
    -e "CRAWLER_HEALTHCHECK_URL=http://127.0.0.1:$port/healthz" \
    "$IMAGE" --metrics-port "$port" "$@" >/dev/null
}
status() { "$HOST_PY" -m crawler --redis-url "$REDIS_URL" status --json; }
field() {  # JSON PATH.TO.KEY
  "$HOST_PY" -c 'import functools, json, sys; print(functools.reduce(lambda d, k: d[k], sys.argv[2].split("."), json.loads(sys.argv[1])))' "$1" "$2"
}
check_export() {  # exports, and checks the stored articles are exactly the expected ones, once each
  one_shot export >"$WORK/articles.jsonl"
  "$HOST_PY" - "$WORK/site.json" "$WORK/articles.jsonl" <<'EOF'
import collections, json, sys
expected = sorted(json.load(open(sys.argv[1]))["urls"])
stored = [json.loads(line)["url"] for line in open(sys.argv[2]) if line.strip()]
twice = sorted(url for url, n in collections.Counter(stored).items() if n > 1)
print(f"exported {len(stored)} articles, {len(set(stored))} distinct, {len(expected)} expected")
assert not twice, f"stored more than once: {twice}"
assert sorted(stored) == expected, f"missing {sorted(set(expected) - set(stored))}, unexpected {sorted(set(stored) - set(expected))}"
EOF
}
wait_healthy() {  # NAME: runs the image's HEALTHCHECK (GET /healthz) until it passes
  for _ in $(seq 40); do
    "${PODMAN[@]}" healthcheck run "$1" >/dev/null 2>&1 && { echo "$1: HEALTHCHECK passed (/healthz 200)"; return; }
    sleep 0.5
  done
  die "$1 never passed its HEALTHCHECK"
}
flush() { "${PODMAN[@]}" exec "$RUN_ID-redis" redis-cli -p "$redis_port" flushall >/dev/null; }

# --- crawl 1: two workers until idle -------------------------------------------------------
step "crawl 1: seed, two workers with --until-idle 5"
one_shot seed "$base_url/"
port_a=$(free_port); port_b=$(free_port)
start_worker "$RUN_ID-worker-a" "$port_a" --until-idle 5
start_worker "$RUN_ID-worker-b" "$port_b" --until-idle 5
t0=$SECONDS
wait_healthy "$RUN_ID-worker-a"
code_a=$("${PODMAN[@]}" wait "$RUN_ID-worker-a")
code_b=$("${PODMAN[@]}" wait "$RUN_ID-worker-b")
echo "workers exited $code_a and $code_b after $((SECONDS - t0)) s"
[ "$code_a" = 0 ] && [ "$code_b" = 0 ] || {
  "${PODMAN[@]}" logs --tail 30 "$RUN_ID-worker-a"; die "a worker exited non-zero"; }
for w in a b; do
  pages=$("${PODMAN[@]}" logs "$RUN_ID-worker-$w" 2>&1 | sed -n "s/.*'response_received_count': \([0-9]*\).*/\1/p" | tail -1)
  echo "worker $w received ${pages:-0} responses"
done
check_export
pm rm "$RUN_ID-worker-a" "$RUN_ID-worker-b" >/dev/null

# --- crawl 2: SIGTERM to one worker in the middle ---------------------------------------------
step "crawl 2: flush Redis, seed, two workers with DOWNLOAD_DELAY=0.3; SIGTERM to worker a mid-crawl"
flush
one_shot seed "$base_url/"
start_worker "$RUN_ID-worker-a" "$port_a" --until-idle 5 -s DOWNLOAD_DELAY=0.3
start_worker "$RUN_ID-worker-b" "$port_b" --until-idle 5 -s DOWNLOAD_DELAY=0.3
wait_healthy "$RUN_ID-worker-a"
wait_healthy "$RUN_ID-worker-b"
# Wait until worker a holds a lease (the frontier records each lease's owner, whose
# id starts with the worker's host name, here its container name) and some
# articles are stored, then stop it at once.
leases_of_a() {  # [--wait]: leases worker a holds now (--wait: once it holds one mid-crawl)
  "$HOST_PY" - "$REDIS_URL" "$RUN_ID-worker-a" "$@" <<'PY'
import sys, time
import redis
from crawler.base.keys import Keys
client, keys, prefix = redis.Redis.from_url(sys.argv[1]), Keys("news"), sys.argv[2] + ":"
deadline = time.monotonic() + (120 if sys.argv[3:] == ["--wait"] else 0)
while True:
    held = sum(owner.decode().startswith(prefix) for owner in client.hvals(keys.lease_owner))
    if sys.argv[3:] != ["--wait"] or (held and client.xlen(keys.articles) >= 2):
        sys.exit(print(held))
    if time.monotonic() > deadline:
        sys.exit("worker a never held a lease while the crawl ran")
    time.sleep(0.005)
PY
}
held=$(leases_of_a --wait)
t0=$SECONDS
t0_ms=$(($(date +%s%N) / 1000000))
pm stop -t "$GRACE" "$RUN_ID-worker-a" >/dev/null   # SIGTERM, then SIGKILL after $GRACE s
took_ms=$(($(date +%s%N) / 1000000 - t0_ms))
took=$(printf '%d.%d' $((took_ms / 1000)) $((took_ms % 1000 / 100)))
s=$(status)
echo "at SIGTERM worker a held $held lease(s); $(field "$s" articles_stored) of $expected articles were stored"
code_a=$("${PODMAN[@]}" inspect "$RUN_ID-worker-a" --format '{{.State.ExitCode}}')
echo "worker a exited $code_a, $took s after SIGTERM (grace period $GRACE s)"
"${PODMAN[@]}" logs "$RUN_ID-worker-a" 2>&1 | grep -E 'Received SIG|Gave .* back|Spider closed' | sed 's/^/  worker a: /'
[ "$code_a" = 0 ] || die "worker a exited $code_a after SIGTERM"
[ "$took_ms" -lt $((GRACE * 1000)) ] || die "worker a did not drain within $GRACE s"
left=$(leases_of_a)
echo "leases still held by worker a after it exited: $left"
[ "$left" = 0 ] || die "worker a left $left leases behind (they would wait for expiry)"
code_b=$("${PODMAN[@]}" wait "$RUN_ID-worker-b")
echo "worker b exited $code_b after $((SECONDS - t0)) s"
[ "$code_b" = 0 ] || { "${PODMAN[@]}" logs --tail 30 "$RUN_ID-worker-b"; die "worker b exited $code_b"; }
s=$(status)
echo "after: queued $(field "$s" queued), in flight $(field "$s" in_flight), dead letters $(field "$s" dead_letters), leases expired $(field "$s" other.leases_expired)"
[ "$(field "$s" queued)" = 0 ] && [ "$(field "$s" in_flight)" = 0 ] && [ "$(field "$s" dead_letters)" = 0 ] &&
  [ "$(field "$s" other.leases_expired)" = 0 ] || die "requests left behind"
check_export

step "passed"
printf 'smoke: passed in %d s; image %s was %d MB\n' "$((SECONDS - started))" "$IMAGE" "$((size / 1000000))"
