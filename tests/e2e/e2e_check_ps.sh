#!/usr/bin/env bash
# vmpack ps over the control-socket protocol (spec/snapshot.md 5): a live VM
# (here a Python stand-in that answers "status" as vmm/ctl.c does) is
# listed with its pid, state and container; a socket left by a dead VM is
# removed and reported; the folder must be private.
. "$(dirname "$0")/lib.sh"
export XDG_RUNTIME_DIR="$WORK/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"

vmpack ps > out.txt
grep -q '^no running VMs' out.txt || fail "empty: $(cat out.txt)"
[ "$(stat -c %a "$XDG_RUNTIME_DIR/vmpack")" = 700 ] || fail "socket folder mode"
ok "no VMs: said so; the socket folder is made 0700"

python3 - "$XDG_RUNTIME_DIR/vmpack" <<'PY' &
import os, socket, sys
d = sys.argv[1]
live = socket.socket(socket.AF_UNIX)
live.bind(d + "/web-1.sock"); live.listen(4); live.settimeout(30)  # never outlive a failed test
dead = socket.socket(socket.AF_UNIX)
dead.bind(d + "/gone.sock"); dead.close()      # the file stays, nobody listens
open(d + "/ready", "w").close()
for _ in range(2):
    c, _ = live.accept()
    req = c.makefile().readline()
    if req == "status\n":
        c.sendall(b"ok name=web-1 pid=%d state=running container=/srv/my vm.vmpk\n" % os.getpid())
    else:
        c.sendall(b"error unknown request\n")
    c.close()
PY
SERVER=$!
for _ in $(seq 50); do [ -e "$XDG_RUNTIME_DIR/vmpack/ready" ] && break; sleep 0.1; done
rm -f "$XDG_RUNTIME_DIR/vmpack/ready"

vmpack ps > out.txt 2> err.txt
grep -qE "^NAME +PID +STATE +CONTAINER" out.txt || fail "header: $(cat out.txt)"
grep -qE "^web-1 +$SERVER +running +/srv/my vm.vmpk$" out.txt || fail "live VM: $(cat out.txt)"
grep -q "gone: stale socket removed" err.txt || fail "stale not reported: $(cat err.txt)"
[ ! -e "$XDG_RUNTIME_DIR/vmpack/gone.sock" ] || fail "stale socket left"
ok "a live VM is listed with pid, state and container; a stale socket is removed"

vmpack ps -q > out.txt
[ "$(cat out.txt)" = web-1 ] || fail "ps -q: $(cat out.txt)"
ok "ps -q lists names"
wait "$SERVER"

chmod 755 "$XDG_RUNTIME_DIR/vmpack"
expect_fail 1 "mode 0700" vmpack ps
expect_fail 2 "takes no arguments" vmpack ps extra
echo "e2e_check_ps: $CHECKS checks passed"
