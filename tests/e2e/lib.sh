# Shared by the vmpack end-to-end tests: sourced, with the vmpack binary
# as $1 of the test. Every test runs in its own scratch folder.
set -euo pipefail

VMPACK=$(realpath "${1:?usage: $0 path/to/vmpack}")
[ -x "$VMPACK" ] || { echo "no vmpack at $VMPACK" >&2; exit 1; }
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) # the repository
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmpack-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
CHECKS=0

vmpack() { "$VMPACK" "$@"; }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

ok() {
  CHECKS=$((CHECKS + 1))
  echo "ok $CHECKS - $*"
}

# expect_fail WANT_RC "message part" cmd args...: the command must exit
# with WANT_RC (not killed by a signal: no crash), print nothing on stdout,
# and say "vmpack: " and the message part on stderr.
expect_fail() {
  local want=$1 msg=$2 rc=0
  shift 2
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    cat "$WORK/err.txt" >&2
    fail "$* exited $rc, expected $want"
  fi
  grep -q '^vmpack: ' "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; fail "$*: no 'vmpack: ' message"; }
  grep -qF -- "$msg" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; fail "$*: message lacks '$msg'"; }
  [ ! -s "$WORK/out.txt" ] || { cat "$WORK/out.txt" >&2; fail "$*: printed on stdout while failing"; }
  ok "fails ($rc): $* -> $(head -1 "$WORK/err.txt")"
}

# make_disk FILE SIZE KIND: zeros | random | mixed (text, zeros and random
# regions), deterministic for a given seed except 'random'.
make_disk() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
path, size, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    f.truncate(size)
    if kind == "random":
        f.seek(0); f.write(os.urandom(size))
    elif kind == "mixed":
        f.seek(0); f.write((b"vmpack mixed sample disk\n" * (size // 100))[: size // 4])
        f.seek(size // 2); f.write(os.urandom(size // 8))
        f.seek(size - 3000); f.write(b"\xab" * 3000)  # the very end is data
PY
}

# json_get FILE EXPR: evaluates a Python expression on the parsed JSON `j`.
json_get() {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"
}

# example_guest NAME OUT.vmpk [make-image.sh options...]: builds the example
# Debian i386 guest (examples/debian-i386/make-image.sh, fetched with apt,
# cached) into OUT, or ends the test NAME as skipped (77) when it cannot be
# built here (no Debian mirror), with the log's tail on stderr.
example_guest() {
  local name=$1 out=$2
  shift 2
  if ! VMPACK="$VMPACK" "$E2E_TOP/examples/debian-i386/make-image.sh" "$out" "$@" > make-image.log 2>&1; then
    tail -5 make-image.log >&2
    echo "$name: cannot build the example guest: skipped" >&2
    exit 77
  fi
}

# tiny_kernel SRC.S OUT.bzImage [as options...]: assembles a tiny 32-bit
# guest (text at 1 MiB, data 4 KiB above; `.include "tiny_uart.inc"` is
# found) and wraps it in a bzImage of boot protocol 2.06 (one setup sector,
# LOADED_HIGH, code32_start 1 MiB) that vmpack's Linux loader starts in flat
# protected mode (spec/machine.md 5).
tiny_kernel() {
  local src=$1 out=$2 base=${1%.S}
  shift 2
  as --32 -I "$E2E_TOP/tests/e2e" "$@" -o "$base.o" "$src" || fail "assembling $src"
  ld -m elf_i386 -Ttext 0x100000 -Tdata 0x101000 --oformat binary -o "$base.bin" "$base.o" ||
    fail "linking $src"
  python3 - "$base.bin" "$out" <<'PY'
import struct, sys
pm = open(sys.argv[1], "rb").read()
pm += b"\0" * (-len(pm) % 16)
setup_sects = 1
hdr = bytearray((setup_sects + 1) * 512)
hdr[0x1F1] = setup_sects
struct.pack_into("<I", hdr, 0x1F4, len(pm) // 16)       # syssize
struct.pack_into("<H", hdr, 0x1FE, 0xAA55)              # boot_flag
hdr[0x200:0x202] = bytes([0xEB, 0x3A])                  # jump: header ends at 0x23C
hdr[0x202:0x206] = b"HdrS"
struct.pack_into("<H", hdr, 0x206, 0x0206)              # protocol 2.06
hdr[0x211] = 0x01                                       # LOADED_HIGH
struct.pack_into("<I", hdr, 0x214, 0x100000)            # code32_start
struct.pack_into("<I", hdr, 0x22C, 0x37FFFFFF)          # initrd_addr_max
struct.pack_into("<I", hdr, 0x238, 255)                 # cmdline_size
open(sys.argv[2], "wb").write(bytes(hdr) + pm)
PY
}

# suspend_rounds NAME FILE ROUNDS MIN_S MAX_S DONE_RE: runs FILE with
# --deterministic as VM NAME1, suspends it after a random pause of MIN_S to
# MAX_S seconds into s1.vmpk, resumes that as NAME2, and so on ROUNDS times
# (console in sK.out, stderr in sK.err). A round whose console shows
# DONE_RE (the guest finished before its suspend) fails the test. Sets cur
# to the last container.
suspend_rounds() {
  local name=$1 rounds=$3 pmin=$4 pmax=$5 done_re=$6 k pid
  cur=$2
  export XDG_RUNTIME_DIR=$WORK/xdg
  mkdir -m 700 -p "$XDG_RUNTIME_DIR"
  for k in $(seq 1 "$rounds"); do
    if [ "$k" -eq 1 ]; then
      vmpack run --deterministic --name "$name$k" "$cur" < /dev/null > "s$k.out" 2> "s$k.err" &
    else
      vmpack resume --name "$name$k" "$cur" < /dev/null > "s$k.out" 2> "s$k.err" &
    fi
    pid=$!
    sleep "$(python3 -c "import random; print(round(random.uniform($pmin, $pmax), 2))")"
    # until the VM has its socket (a loaded host may take a while to load it)
    until vmpack suspend "$name$k" -o "s$k.vmpk" > "susp$k.txt" 2>&1; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    wait "$pid" || { tail -5 "s$k.err" "susp$k.txt" >&2; fail "round $k: the run did not end with the suspend"; }
    ! grep -q "$done_re" "s$k.out" ||
      { tail -5 "susp$k.txt" >&2; fail "round $k: the guest had finished before the suspend (make it longer)"; }
    [ -f "s$k.vmpk" ] || { tail -5 "s$k.err" "susp$k.txt" >&2; fail "round $k: no suspended container"; }
    cur=s$k.vmpk
  done
}
