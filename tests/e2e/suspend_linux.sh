#!/usr/bin/env bash
# Suspend and resume of the example Debian i386 guest (examples/debian-i386),
# end to end through the CLI:
#  - `vmpack run --name` registers the VM; `vmpack ps` lists it;
#  - a shell loop counts (n=1, 2, ...) and prints the guest's uptime; a file
#    is written to the virtio disk; `vmpack suspend NAME` saves the guest
#    into the container it was started from and the VM process ends with 0;
#  - the container verifies and `vmpack check` says this host can resume it;
#  - after a host gap of GAP seconds it is resumed twice, each time in a
#    fresh process in another folder: the count goes on from the next number
#    (no repeat, no gap, also across a line cut by the suspend); the guest's
#    uptime and date continue from where they stopped (they do not jump by
#    the host's gap: "continues" = the step across the suspension is under
#    STEP_MAX seconds, like any other step of the loop); the file on the
#    disk reads back with its checksum after the page cache is dropped; both
#    resumes print the same first numbers and the same boot id;
#  - a resumed VM suspended again into its container stores only changed
#    chunks anew (most of RAM is copied by digest): counts printed;
#  - a VM process killed with SIGKILL in the middle of its save leaves the
#    old container intact (same bytes, verifies, resumes); the VM is gone;
#    a suspend client killed with SIGKILL midway does not stop the save:
#    the VM completes it and exits 0 (spec/snapshot.md 6);
#  - a copy of the container whose CPU profile claims 3DNow! and AVX-512F is
#    refused by `vmpack check` and by `vmpack resume`, with the same message
#    naming each feature.
# Exits 77 (skipped) when the example guest cannot be built here.
# VMP_BOOT_TIMEOUT: seconds to wait for the guest to boot (600).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

example_guest suspend_linux linux.vmpk
ok "example guest built"

# Our own socket folder, so that the names cannot meet another run's.
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"

PYTHONPATH="$top/tests/lib" python3 - "$VMPACK" "${VMP_BOOT_TIMEOUT:-600}" "$CHECKS" <<'PY'
import hashlib, os, re, shutil, signal, subprocess, sys, time
import vmpkedit
from vmconsole import Console, ConsoleTimeout

vmpack, boot_timeout, n_ok = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
GAP = 8.0       # host seconds between suspend and resume
STEP_MAX = 4.0  # the largest step of guest uptime allowed between two loop lines
                # (a loaded 2-core host starves the guest's loop for 2 s at times;
                # a clock that jumped by the host gap would step by GAP or more)
consoles = []

def ok(what):
    global n_ok
    n_ok += 1
    print("ok %d - %s" % (n_ok, what), flush=True)

def fail(why):
    for c in consoles:
        c.kill()
    sys.exit("FAIL: %s" % why)

def cli(*args, check=True, cwd=None):
    r = subprocess.run([vmpack] + list(args), capture_output=True, text=True, cwd=cwd)
    if check and r.returncode != 0:
        fail("vmpack %s exited %d: %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r

def console(args, cwd, tag):
    c = Console([vmpack] + args, cwd=cwd, log=os.path.join(cwd, tag + ".console"),
                stderr=os.path.join(cwd, tag + ".stderr"))
    consoles.append(c)
    return c

def expect(c, pattern, timeout, what):
    try:
        return c.expect(pattern, timeout)
    except ConsoleTimeout as e:
        fail("%s: %s" % (what, e))

LINE = re.compile(rb"n=(\d+) u=([\d.]+)\r?\n")

def counts(data):
    return [(int(m.group(1)), float(m.group(2))) for m in LINE.finditer(data)]

def check_continuous(data, what):
    """The loop's lines in data: consecutive numbers, uptime steps small."""
    seq = counts(data)
    for (a, ua), (b, ub) in zip(seq, seq[1:]):
        if b != a + 1:
            fail("%s: n=%d followed by n=%d" % (what, a, b))
        if not 0 <= ub - ua <= STEP_MAX:
            fail("%s: uptime %.2f after %.2f (n=%d)" % (what, ub, ua, b))
    return seq

def suspend(name, *extra):
    t0 = time.monotonic()
    r = cli("suspend", name, *extra)
    m = re.search(r"(\d+) chunks new, (\d+) copied, (\d+) zero \(RAM (\d+) new, (\d+) copied, "
                  r"(\d+) zero\)", r.stdout)
    if m is None:
        fail("suspend printed no chunk counts: %r" % r.stdout)
    return [int(x) for x in m.groups()], time.monotonic() - t0, r.stdout.strip()

# ---- boot, count, write a file, suspend ----------------------------------
os.makedirs("a")
shutil.copy("linux.vmpk", "a/guest.vmpk")
c = console(["run", "--name", "sus-a", "guest.vmpk"], "a", "run")
expect(c, rb"vmpack-guest: ready", boot_timeout, "boot")
ok("booted in %.1f s" % c.elapsed())
ps = cli("ps").stdout
if not re.search(r"^sus-a +%d +running +%s$" % (c.pid, re.escape(os.path.abspath("a/guest.vmpk"))),
                 ps, re.M):
    fail("vmpack ps does not list sus-a: %r" % ps)
ok("vmpack ps lists the VM (name, pid, running, container)")

want = hashlib.sha256("".join("%d\n" % i for i in range(1, 2001)).encode()).hexdigest()
c.send(b"seq 1 2000 > /mnt/before.txt && sync && echo sy''nced\n")
expect(c, rb"synced", 120, "disk write")
c.send(b"cat /proc/sys/kernel/random/boot_id | sed 's/^/bo''ot-/'; echo d-$(date +%s)-x\n")
boot_id = expect(c, rb"boot-([0-9a-f-]{36})", 30, "boot id").group(1)
d1 = int(expect(c, rb"d-(\d+)-x", 30, "date").group(1))
host_d1 = time.monotonic()
c.send(b"i=0; while :; do i=$((i+1)); read u r < /proc/uptime; echo n=$i u=$u; usleep 20000; done\n")
expect(c, rb"n=40 u=", 120, "counter")
counts_a, t_susp, line = suspend("sus-a")
status = c.wait(30)
if status != 0:
    fail("the VM process exited %d after the suspend" % status)
host_suspended = time.monotonic()
before = c.output
seq_a = check_continuous(before, "before the suspend")
last_n = seq_a[-1][0]
ok("suspended at n=%d in %.1f s; VM process exited 0: %s" % (last_n, t_susp, line))
if "sus-a" in cli("ps").stdout:
    fail("vmpack ps still lists sus-a after the suspend")
ok("vmpack ps no longer lists it")

size = os.path.getsize("a/guest.vmpk")
cli("verify", "a/guest.vmpk")
chk = cli("check", "a/guest.vmpk").stdout
if "this host can resume it" not in chk:
    fail("check: %r" % chk)
ok("the suspended container (%.1f MiB) verifies; check: this host can resume it" % (size / 2**20))

# ---- resume twice, each in a fresh process in another folder ---------------
time.sleep(max(0.0, GAP - (time.monotonic() - host_suspended)))
results = []
for k in (1, 2):
    wd = "r%d" % k
    os.makedirs(wd)
    shutil.copy("a/guest.vmpk", wd + "/moved.vmpk")
    t0 = time.monotonic()
    r = console(["resume", "--name", "sus-r%d" % k, "moved.vmpk"], wd, "resume")
    expect(r, rb"n=%d u=" % (last_n + 1), 120, "resume %d: counting on" % k)
    t_first = time.monotonic() - t0
    expect(r, rb"n=%d u=" % (last_n + 25), 120, "resume %d: counting on" % k)
    r.interrupt()
    r.send(b"echo d-$(date +%s)-x; sed 's/^/bo''ot-/' /proc/sys/kernel/random/boot_id\n")
    d2 = int(expect(r, rb"d-(\d+)-x", 30, "date after resume").group(1))
    host_d2 = time.monotonic()
    bid = expect(r, rb"boot-([0-9a-f-]{36})", 30, "boot id after resume").group(1)
    r.send(b"sync; echo 3 > /proc/sys/vm/drop_caches; echo sh''a-$(sha256sum /mnt/before.txt)\n")
    sha = expect(r, rb"sha-([0-9a-f]{64})", 120, "checksum after resume").group(1).decode()
    after = r.output
    seq = check_continuous(before + after, "across resume %d" % k)
    new = counts(after)
    first = new[0][0]
    if first not in (last_n + 1, last_n + 2):
        fail("resume %d: first full line n=%d after n=%d" % (k, first, last_n))
    host_gap = host_d2 - host_d1
    if d2 - d1 > host_gap - GAP + STEP_MAX:
        fail("resume %d: guest date moved %d s over %.1f host s with a %.0f s gap"
             % (k, d2 - d1, host_gap, GAP))
    if sha != want:
        fail("resume %d: /mnt/before.txt sha256 %s, want %s" % (k, sha, want))
    results.append((k, r, [n for n, _ in new[:20]], bid, sha, t_first))
    ok("resume %d in %s: counting goes on at n=%d (after n=%d, first line %.1f s after the start), uptime "
       "step across the suspension %.2f s after a %.0f s host gap, date moved %d s in %.1f host s, "
       "disk file intact"
       % (k, wd, first, last_n, t_first, next(ub - ua for (a, ua), (b, ub) in zip(seq, seq[1:])
                                               if b == last_n + 1), GAP, d2 - d1, host_gap))
(_, r1, n1, b1, s1, _), (_, r2, n2, b2, s2, _) = results
if n1 != n2 or b1 != b2 or s1 != s2:
    fail("the two resumes differ: %s %s / %s %s" % (n1[:5], b1, n2[:5], b2))
if b1 != boot_id:
    fail("boot id %s after resume, %s before" % (b1, boot_id))
ok("both resumes print the same numbers (%d..%d) and the same boot id" % (n1[0], n1[-1]))

# ---- incremental: suspend resume 1 again into its own container -----------
r1.send(b"echo more > /mnt/after.txt; sync; echo sy''nc2\n")
expect(r1, rb"sync2", 60, "second write")
counts_b, t_b, line_b = suspend("sus-r1")
if r1.wait(30) != 0:
    fail("resumed VM did not exit 0 after its suspend")
new_b, copied_b, zero_b, ram_new_b, ram_copied_b, _ = counts_b
if not (copied_b > new_b and ram_copied_b > ram_new_b):
    fail("incremental suspend stored %d chunks anew and copied %d (RAM %d / %d)"
         % (new_b, copied_b, ram_new_b, ram_copied_b))
cli("verify", "r1/moved.vmpk")
ok("incremental suspend of a resumed guest in %.1f s: %s (first suspend: %d new, %d copied)"
   % (t_b, line_b, counts_a[0], counts_a[1]))

# ---- SIGKILL of the VM in the middle of its save --------------------------
old = open("r2/moved.vmpk", "rb").read()
cl = subprocess.Popen([vmpack, "suspend", "-v", "sus-r2"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
killed_at = None
for raw in cl.stderr:
    m = re.match(rb"vmpack: saved (\d+) of (\d+) bytes", raw)
    if m and 0 < int(m.group(1)) < int(m.group(2)):
        os.kill(r2.pid, signal.SIGKILL)
        killed_at = m.group(0).decode()
        break
rest = cl.communicate(timeout=60)
if killed_at is None:
    fail("no progress line to kill at: %r" % (rest,))
if cl.returncode == 0:
    fail("vmpack suspend succeeded although its VM was killed")
status = r2.wait(30)
if status != -signal.SIGKILL:
    fail("VM exit status %s, expected SIGKILL" % status)
if open("r2/moved.vmpk", "rb").read() != old:
    fail("the container changed although the save was killed")
cli("verify", "r2/moved.vmpk")
leftovers = [f for f in os.listdir("r2") if f.startswith(".moved.vmpk.tmp-")]
r3 = console(["resume", "--name", "sus-r3", "moved.vmpk"], "r2", "resume-again")
expect(r3, rb"n=%d u=" % (last_n + 3), 120, "resume after the killed suspend")
ok("VM killed (SIGKILL) at '%s': old container byte for byte, verifies, resumes; the "
   "client failed; %d temporary file(s) left beside it" % (killed_at, len(leftovers)))

# ---- SIGKILL of the suspend client: the VM completes the save -------------
cl = subprocess.Popen([vmpack, "suspend", "-v", "sus-r3", "-o", os.path.abspath("r3.vmpk")],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
for raw in cl.stderr:
    if raw.startswith(b"vmpack: saved "):
        cl.kill()
        break
cl.communicate(timeout=60)
if cl.returncode != -signal.SIGKILL:
    fail("suspend client status %s, expected SIGKILL" % cl.returncode)
status = r3.wait(60)
if status != 0:
    fail("the VM exited %d after its client was killed" % status)
cli("verify", "r3.vmpk")
last3 = counts(r3.output)[-1][0]
r4 = console(["run", "r3.vmpk"], ".", "run-r3")  # run of a suspended container resumes it
m = expect(r4, LINE, 120, "resume of the save whose client was killed")
if int(m.group(1)) not in (last3 + 1, last3 + 2):
    fail("resumed at n=%s after n=%d" % (m.group(1), last3))
r4.kill()
ok("suspend client killed (SIGKILL) mid-save: the VM completed the save and exited 0; "
   "the new container verifies and `vmpack run` resumes it at n=%s after n=%d"
   % (m.group(1).decode(), last3))

r = subprocess.run([vmpack, "resume", "linux.vmpk"], capture_output=True, text=True,
                   stdin=subprocess.DEVNULL, timeout=60)
if r.returncode != 1 or "nothing to resume" not in r.stderr or r.stdout:
    fail("resume of a powered-off container: %d %r %r" % (r.returncode, r.stdout, r.stderr))
ok("vmpack resume refuses a powered-off container: %s" % r.stderr.strip())

# ---- a CPU profile this host lacks: check and resume refuse it --------------
vmpkedit.rewrite("a/guest.vmpk", "cpu.vmpk", "cpu")
cli("verify", "cpu.vmpk")
msgs = []
for args in (["check", "cpu.vmpk"], ["resume", "cpu.vmpk"]):
    r = subprocess.run([vmpack] + args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=60)
    if r.returncode != 1:
        fail("%s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    feat = [l for l in r.stderr.splitlines() if "this host cannot run:" in l]
    if not feat or "3dnow" not in feat[0] or not re.search(r"avx512f|cpuid word 2 bit 16", feat[0]):
        fail("%s: features not named: %r" % (" ".join(args), r.stderr))
    if "this host cannot resume it" not in r.stderr or r.stdout:
        fail("%s: no verdict, or console output: %r %r" % (" ".join(args), r.stderr, r.stdout))
    msgs.append(feat[0])
if msgs[0] != msgs[1]:
    fail("check and resume say different things: %r / %r" % tuple(msgs))
ok("a profile with 3DNow! and AVX-512F: check and resume refuse it alike: %s" % msgs[0])
print("suspend_linux: %d checks passed" % n_ok)
PY
echo "suspend_linux: passed"
