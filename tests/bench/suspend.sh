#!/usr/bin/env bash
# Suspend and resume of a 256 MiB example guest (examples/debian-i386) that
# has booted and run a workload, under vmpack beside QEMU's TCG, in one run.
#
# The workload: the guest writes WORKLOAD_MB MiB from /dev/urandom into
# /tmp (the initramfs, so guest RAM that does not compress) and reads it
# back for its md5. After resume the guest must show the same md5: the
# RAM came back intact.
#
# vmpack: `vmpack run --name NAME`, then `vmpack suspend NAME -o FILE`
#   (wall time of the command, its last line, the file's size), then
#   `vmpack resume FILE`: time to the first guest instruction (if vmpack
#   prints it) and to the shell answering a command.
# QEMU: the same kernel, initramfs and disk on the loader machine of
#   tests/lib/qemuguest.py, -m 256, HMP monitor on a unix socket: `stop`,
#   `migrate -d "exec:cat > FILE"` polled with `info migrate` to
#   "completed" (and QEMU's own total time), the file's size; then a new
#   QEMU with `-incoming "exec:cat FILE"`: time to `info status` running and
#   to the shell answering.
# Times to the shell answering: a command is typed every 0.1 s (^U first)
#   from launch until its answer shows: input that reaches the guest before
#   it runs is lost on both.
# Prints a table, the ratios vmpack/QEMU, and "bench:" lines.
#
# usage: tests/bench/suspend.sh [--vmpack PATH] [--workload-mb N] [--runs N]
#                               [--no-qemu] [--no-vmpack]
#   PATH defaults to build/vmpack. --runs N: the whole cycle (boot, workload,
#   suspend, resume) N times per side; the table shows the best (least) of
#   each figure. VMP_BOOT_TIMEOUT: seconds to wait for boot (600).
set -euo pipefail
cd "$(dirname "$0")/../.."
vmpack=build/vmpack
workload_mb=32
runs=1
do_qemu=1
do_vmpack=1
while [ $# -gt 0 ]; do
    case $1 in
    --vmpack) vmpack=${2:?}; shift 2 ;;
    --workload-mb) workload_mb=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    --no-qemu) do_qemu=0; shift ;;
    --no-vmpack) do_vmpack=0; shift ;;
    *) echo "suspend.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $workload_mb in ''|*[!0-9]*) echo "suspend.sh: --workload-mb: not a number" >&2; exit 2 ;; esac
case $runs in ''|0|*[!0-9]*) echo "suspend.sh: --runs: a number from 1" >&2; exit 2 ;; esac
[ "$do_qemu" = 0 ] || command -v qemu-system-i386 >/dev/null ||
    { echo "suspend.sh: qemu-system-i386 not found (apt-get install qemu-system-x86)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
vmpk=
if [ "$do_vmpack" = 1 ]; then
    . tests/lib/bench.sh
    vmpack=$(bench_vmpack suspend.sh "$vmpack")
    bench_image suspend.sh "$vmpack" "$work/guest.vmpk" --memory 256M
    vmpk=$work/guest.vmpk
fi

python3 - "$work" "$vmpack" "$vmpk" "$workload_mb" "$do_qemu" "${VMP_BOOT_TIMEOUT:-600}" "$runs" <<'PY'
import os, re, subprocess, sys, time
sys.path.insert(0, "tests/lib")
import qemuguest
from vmconsole import Console, ConsoleTimeout

work, vmpack, vmpk = sys.argv[1], sys.argv[2], sys.argv[3]
workload_mb, do_qemu, boot_timeout = int(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6])
runs = int(sys.argv[7])
MEMORY_MB = 256
res = {"vmpack": {}, "qemu": {}}      # figure -> its values, one per run
notes = {"vmpack": [], "qemu": []}


def put(who, key, value):
    res[who].setdefault(key, []).append(value)


def note(who, text):
    if text not in notes[who]:
        notes[who].append(text)


class Skip(Exception):
    """This half cannot be measured here; the message says why."""


def fail(c, who, why):
    tail = ""
    if c is not None:
        c.kill()
        tail = "\n--- %s console tail ---\n%s" % (who, c.tail(1500).decode(errors="replace"))
    raise Skip("%s FAILED: %s%s" % (who, why, tail))


def workload(c, who):
    """Write and read back workload_mb MiB of random data in guest RAM;
    returns its md5 as the guest computed it."""
    t0 = time.monotonic()
    try:
        m = c.run("dd if=/dev/urandom of=/tmp/wl bs=1M count=%d 2>/dev/null; "
                  "echo w''l-$((6*7)) $(md5sum < /tmp/wl)" % workload_mb,
                  rb"wl-42 ([0-9a-f]{32})", 600)
    except ConsoleTimeout as e:
        fail(c, who, "workload: %s" % e.what)
    put(who, "workload_s", time.monotonic() - t0)
    return m.group(1)


def shell_answers(c, who, timeout=300):
    """Seconds from c's launch until the shell answers; types the command
    again every 0.1 s until then (^U first: drop a half-received line)."""
    deadline = time.monotonic() + timeout
    while True:
        c.send(b"\x15echo r''s-$((6*7))\n")
        try:
            c.expect(rb"rs-42", 0.1)
            break
        except ConsoleTimeout as e:
            if time.monotonic() > deadline or c.poll() is not None:
                fail(c, who, "the resumed shell did not answer: %s" % e.what)
    t = c.elapsed()
    time.sleep(0.3)  # the queued copies of the command answer too
    c.mark()
    return t


def check_intact(c, who, md5):
    try:
        m = c.run("echo c''k-$((6*7)) $(md5sum < /tmp/wl)", rb"ck-42 ([0-9a-f]{32})", 120)
    except ConsoleTimeout as e:
        fail(c, who, "md5 after resume: %s" % e.what)
    if m.group(1) != md5:
        fail(c, who, "the workload's data changed across suspend: md5 %s, was %s"
             % (m.group(1).decode(), md5.decode()))
    note(who, "workload md5 intact after resume")


def poweroff(c, who, want_status):
    c.send(b"poweroff -f\n")
    try:
        status = c.wait(60)
    except ConsoleTimeout as e:
        fail(c, who, "poweroff -f did not end it: %s" % e.what)
    if status != want_status:
        fail(c, who, "exit status %d after poweroff -f, not %d" % (status, want_status))


def qemu_half(run):
    who = "qemu"
    cache = qemuguest.prepare()
    qwork = os.path.join(work, "qemu-%d" % run)
    os.mkdir(qwork)
    argv = qemuguest.argv("loader", cache, qwork, MEMORY_MB)
    mig = os.path.join(qwork, "guest.mig")
    sock = os.path.join(qwork, "mon.sock")
    mon_arg = ["-monitor", "unix:%s,server=on,wait=off" % sock]
    c = Console(argv + mon_arg, log=os.path.join(qwork, "console-run.log"))
    try:
        c.ready(boot_timeout)
    except ConsoleTimeout as e:
        fail(c, who, "boot: %s" % e.what)
    md5 = workload(c, who)
    mon = qemuguest.Monitor(sock)
    t0 = time.monotonic()
    mon.cmd("stop")
    mon.cmd('migrate -d "exec:cat > %s"' % mig)
    while True:
        info = mon.cmd("info migrate")
        st = re.search(r"Migration status: (\S+)", info)
        if st and st.group(1) in ("completed", "failed", "cancelled"):
            break
        if time.monotonic() - t0 > 300:
            fail(c, who, "migration did not complete in 300 s: %r" % info[-300:])
        time.sleep(0.01)
    put(who, "suspend_s", time.monotonic() - t0)
    if st.group(1) != "completed":
        fail(c, who, "migration %s" % st.group(1))
    total = re.search(r"total time: (\d+) ms", info)
    if total:
        note(who, "QEMU's own migrate total time %s ms" % total.group(1))
    mon.close()
    c.kill()  # the paused source; the disk was flushed by the migration
    put(who, "file_bytes", os.path.getsize(mig))

    sock2 = os.path.join(qwork, "mon2.sock")
    c = Console(argv + ["-monitor", "unix:%s,server=on,wait=off" % sock2,
                        "-incoming", "exec:cat %s" % mig],
                log=os.path.join(qwork, "console-resume.log"))
    mon = qemuguest.Monitor(sock2)
    # The stream carries the source's run state (stopped, by `stop`): once
    # loaded, the guest waits paused for `cont`, as after a suspend.
    while True:
        st = mon.cmd("info status")
        if "VM status: running" in st:
            break
        if "VM status: paused" in st and "inmigrate" not in st:
            mon.cmd("cont")
            continue
        if c.elapsed() > 300 or c.poll() is not None:
            fail(c, who, "the incoming QEMU did not run (exit status %s): %r" % (c.poll(), st[-200:]))
        time.sleep(0.01)
    put(who, "resume_first_insn_s", c.elapsed())
    note(who, "first instruction: `info status` says running after the stream loaded "
                      "and `cont` (polled every 10 ms)")
    mon.close()
    put(who, "resume_shell_s", shell_answers(c, who))
    check_intact(c, who, md5)
    poweroff(c, who, qemuguest.LOADER_POWEROFF_STATUS)


def vmpack_half(run):
    who = "vmpack"
    h = subprocess.run([vmpack, "suspend", "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    vwork = os.path.join(work, "vmpack-%d" % run)
    os.mkdir(vwork)
    name = "suspend-bench-%d-%d" % (os.getpid(), run)
    out = os.path.join(vwork, "suspended.vmpk")
    named = ["--name", name] if h.returncode == 0 else []
    c = Console([vmpack, "run"] + named + [vmpk], log=os.path.join(vwork, "console-run.log"),
                stderr=os.path.join(vwork, "run-stderr.log"))
    try:
        c.ready(boot_timeout)
    except ConsoleTimeout as e:
        fail(c, who, "boot: %s" % e.what)
    md5 = workload(c, who)
    if h.returncode != 0:
        # The workload's figure alone, then say why the rest is missing.
        poweroff(c, who, 0)
        raise Skip("vmpack suspend not available (%s)"
                   % h.stdout.decode(errors="replace").splitlines()[0])
    t0 = time.monotonic()
    s = subprocess.run([vmpack, "suspend", name, "-o", out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    put(who, "suspend_s", time.monotonic() - t0)
    said = s.stdout.decode(errors="replace").strip().splitlines()
    if s.returncode != 0:
        fail(c, who, "vmpack suspend exited %d: %s" % (s.returncode, said[-3:]))
    if said:
        note(who, "vmpack suspend said: %s" % said[-1])
    try:
        status = c.wait(60)
    except ConsoleTimeout as e:
        fail(c, who, "vmpack run did not end after suspend: %s" % e.what)
    if status != 0:
        note(who, "vmpack run exited %d after suspend" % status)
    put(who, "file_bytes", os.path.getsize(out))

    # vmpack resume says "resumed (state loaded in X s)" on stderr just
    # before its vCPU runs the guest: the time that line shows is the time
    # to the first guest instruction (stderr is merged into the console).
    c = Console([vmpack, "resume", out], log=os.path.join(vwork, "console-resume.log"))
    try:
        m = c.expect(rb"resumed \(state loaded in ([0-9.]+) s\)", 300)
        put(who, "resume_first_insn_s", c.elapsed())
        note(who, "first instruction: vmpack resume's 'resumed' line (state loaded in %s s)"
                          % m.group(1).decode())
    except ConsoleTimeout:
        note(who, "time to the first guest instruction: not reported by vmpack resume")
    put(who, "resume_shell_s", shell_answers(c, who))
    check_intact(c, who, md5)
    poweroff(c, who, 0)


status = 0
for who, fn, on in (("qemu", qemu_half, do_qemu), ("vmpack", vmpack_half, bool(vmpk))):
    if not on:
        note(who, "not run (--no-%s)" % who)
        continue
    for run in range(1, runs + 1):
        try:
            fn(run)
        except Skip as e:
            note(who, "run %d: %s" % (run, e) if runs > 1 else str(e))
            if "FAILED" in str(e):
                status = 1
            break
        except Exception as e:  # a broken half still lets the other one report
            note(who, "FAILED: %r" % e)
            status = 1
            break

rows = [("suspend_s", "suspend: wall s (QEMU: stop + migrate to completed)", "%.3f"),
        ("file_bytes", "file size, MiB", None),
        ("resume_first_insn_s", "resume: s to the first guest instruction", "%.3f"),
        ("resume_shell_s", "resume: s to the shell answering", "%.3f"),
        ("workload_s", "workload before suspend: s (%d MiB write + md5)" % workload_mb, "%.2f")]
def best(who, key):
    return min(res[who][key]) if res[who].get(key) else None
def cell(who, key, fmt):
    v = best(who, key)
    if v is None:
        return "-"
    return "%.1f" % (v / 2**20) if key == "file_bytes" else fmt % v
print("suspend/resume, 256 MiB guest, %d MiB workload in RAM%s"
      % (workload_mb, ", best of %d runs" % runs if runs > 1 else ""))
print("%-52s %10s %10s %13s" % ("", "vmpack", "qemu-tcg", "vmpack/qemu"))
for key, label, fmt in rows:
    a, b = best("vmpack", key), best("qemu", key)
    ratio = "%.2f" % (a / b) if a is not None and b else "-"
    print("%-52s %10s %10s %13s" % (label, cell("vmpack", key, fmt), cell("qemu", key, fmt), ratio))
for who in ("vmpack", "qemu"):
    for n in notes[who]:
        print("note: %s: %s" % (who, n))
for who in ("vmpack", "qemu"):
    for key in sorted(res[who]):
        v = best(who, key)
        print("bench: suspend %s %s %s" % (who, key, v if key == "file_bytes" else "%.3f" % v))
sys.exit(status)
PY
