#!/bin/sh
# A short tour of cellctl on the sim backend (it runs the real policy core
# but enforces nothing on this host).  Everything lives in a temporary
# directory that is removed at the end.  Run with: make demo
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$top/.venv/bin/cellctl" ]; then
	cellctl="$top/.venv/bin/cellctl"
else
	cellctl=cellctl
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cells-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/roots/web" "$work/roots/db"

CELLS_BACKEND=sim
CELLS_STATE_DIR="$work/state"
export CELLS_BACKEND CELLS_STATE_DIR

step() {
	printf '\n$ cellctl %s\n' "$*"
	"$cellctl" "$@"
}

echo "Cells demo on the sim backend (state in $CELLS_STATE_DIR)"

step create web --root "$work/roots/web" --profile high --port 80 --port 443
step create db --root "$work/roots/db" --profile medium --bind-addr 127.0.0.1 \
    --rlimit nofile=1024:4096 --allow sysvipc
step list

echo
echo "# May a process in web signal one in db?  (cross-cell: always denied)"
step explain web process.signal db

echo
echo "# May db bind port 80?  (web reserved it)"
step explain db network.bind 127.0.0.1:80

echo
echo "# May host root do the same?  (host root is never restricted)"
step explain host process.signal web

echo
echo "# Record two denials as a kernel listener would, then read the audit ring"
step explain web network.rawsock --record
step explain db process.ptrace web --record
step events
printf '\n$ cellctl stats --prometheus | grep ...\n'
"$cellctl" stats --prometheus | grep -E '^cells_(cells|denies_total)'

echo
echo "# Run a command in web (on the sim: no chroot, cwd is the root)"
step exec web -- sh -c 'echo "hello from $(pwd)"'

step destroy web
step destroy db
step list
