#!/usr/bin/env bash
# A VM killed (SIGKILL) while it saves a suspend leaves its container byte
# for byte and a temporary file .FILE.tmp-PID-XXXXXX named with its PID;
# the next suspend to the same file removes that leftover (its writer is
# gone and its lock free: spec/container.md 8) and succeeds. The guest
# (e2e_guest_rng.sh) fills 160 MiB of RAM with incompressible values so
# that the save takes long enough to be killed midway.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/e2e_guest_rng.sh"

export XDG_RUNTIME_DIR=$WORK/xdg
mkdir -m 700 -p "$XDG_RUNTIME_DIR"
build_rng_guest fill.bzImage spin 160
vmpack create -o g.vmpk --memory 256M --cpu i686 --kernel fill.bzImage > /dev/null
before=$(sha256sum < g.vmpk)

# start NAME: vmpack run of g.vmpk in the background until the guest loops
start() {
  "$VMPACK" run --name "$1" g.vmpk < /dev/null > "$1.out" 2> "$1.err" &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q 'spin: looping' "$1.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$1.out" "$1.err" >&2; fail "$1 ended early"; }
    sleep 0.1
  done
  fail "$1: the guest did not start looping"
}

start k1
# kill the VM at its first progress line that is neither 0 nor the total
python3 - "$VMPACK" "$pid" <<'PY' || fail "could not kill the VM in the middle of its save"
import os, re, signal, subprocess, sys
vmpack, pid = sys.argv[1], int(sys.argv[2])
cl = subprocess.Popen([vmpack, "suspend", "-v", "k1"], stderr=subprocess.PIPE,
                      stdout=subprocess.DEVNULL)
for raw in cl.stderr:
    m = re.match(rb"vmpack: saved (\d+) of (\d+) bytes", raw)
    if m and 0 < int(m.group(1)) < int(m.group(2)):
        os.kill(pid, signal.SIGKILL)
        print("killed at", m.group(0).decode())
        break
else:
    sys.exit("no progress line to kill at")
cl.communicate(timeout=60)
sys.exit(0 if cl.returncode != 0 else "vmpack suspend succeeded although its VM was killed")
PY
wait "$pid" 2>/dev/null && fail "the killed VM exited 0"
[ "$(sha256sum < g.vmpk)" = "$before" ] || fail "the killed save changed g.vmpk"
left=$(ls -A | grep "^\.g\.vmpk\.tmp-$pid-......$") ||
  { ls -la >&2; fail "no temporary file named with the killed VM's PID $pid"; }
ok "VM $pid killed in the middle of its save: g.vmpk as before, $left left beside it"

start k2
vmpack suspend k2 > susp.txt 2>&1 || { cat susp.txt >&2; fail "the next suspend"; }
wait "$pid" || fail "vmpack run of k2 did not exit 0 after its suspend"
[ ! -e "$left" ] || fail "the next suspend to g.vmpk left $left"
ls -A | grep -q '\.tmp-' && { ls -la >&2; fail "temporary files remain"; }
vmpack inspect g.vmpk | grep -q '^power: *suspended' || fail "g.vmpk is not suspended"
vmpack verify g.vmpk > /dev/null || fail "g.vmpk does not verify"
ok "the next suspend to g.vmpk removed $left and saved the guest"
echo "e2e_suspend_tmp: $CHECKS checks passed"
