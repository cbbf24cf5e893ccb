#!/bin/sh
# A short tour of cellmgr on the sim backend (the real policy core, but
# nothing is enforced on this host): validate and apply the manifests in
# examples/, show that a second plan has nothing to do, then let the daemon
# start the services (db first, web once db is healthy) and show status.
# Everything lives in a temporary directory removed at the end.
# Run with: make demo
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$top/.venv/bin/cellmgr" ] && [ -x "$top/.venv/bin/python" ]; then
	PYTHONPATH="$top/python${PYTHONPATH:+:$PYTHONPATH}"
	export PYTHONPATH
fi
# Replaces the (sub)shell with cellmgr, so a background daemon's $! is its pid.
cellmgr_exec() {
	if [ -x "$top/.venv/bin/cellmgr" ]; then
		exec "$top/.venv/bin/cellmgr" "$@"
	elif [ -x "$top/.venv/bin/python" ]; then
		exec "$top/.venv/bin/python" -m cells.cli.mgr "$@"
	else
		exec cellmgr "$@"
	fi
}
cellmgr() { (cellmgr_exec "$@"); }

work=$(mktemp -d "${TMPDIR:-/tmp}/cellmgr-demo.XXXXXX")
daemon_pid=
cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || :
		wait "$daemon_pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

CELLS_BACKEND=sim
CELLS_CONFIG_DIR="$top/examples"
CELLS_STATE_DIR="$work/state"
CELLS_DIR="$work/cells"
CELLS_BACKUP_DIR="$work/backups"
CELLS_SOCKET="$work/cellmgr.sock"
CELLS_QUIET=1
export CELLS_BACKEND CELLS_CONFIG_DIR CELLS_STATE_DIR CELLS_DIR CELLS_BACKUP_DIR \
    CELLS_SOCKET CELLS_QUIET

step() {
	printf '\n$ cellmgr %s\n' "$*"
	cellmgr "$@"
}

echo "cellmgr demo on the sim backend"
echo "manifests: $CELLS_CONFIG_DIR; state, roots and volumes: $work"

step validate
step plan
step apply --yes

echo
echo "# A second plan right after a successful apply has nothing to do"
step plan --detailed-exitcode

echo
echo "# The daemon supervises the services: db starts, web waits until db is healthy"
(cellmgr_exec daemon --interval 0.5) 2>"$work/daemon.log" &
daemon_pid=$!
tries=0
healthy() {
	cellmgr status --json 2>/dev/null | grep -o '"health": *"healthy"' | wc -l
}
until [ "$(healthy)" -ge 2 ] || [ $tries -ge 40 ]; do
	sleep 0.25
	tries=$((tries + 1))
done
sleep 1
step status
step logs web

echo
echo "# Services are stopped dependents first when the daemon stops"
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || :
daemon_pid=
step status
