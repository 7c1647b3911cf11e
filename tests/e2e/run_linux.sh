#!/usr/bin/env bash
# vmpack run with the example Debian i386 guest (examples/debian-i386):
# boots to the shell; uname -m says i686; /proc/cpuinfo shows the CPU
# profile's CPUID features and no others; a file written to the virtio disk
# reads back from the disk (page cache dropped) with the sha256 the host
# computes; floating point, fork, exec and pipes work; the network reaches
# an HTTP server this test starts on the host's 127.0.0.1 (through slirp,
# as 10.0.2.2); and `poweroff -f` ends vmpack with status 0.
# Exits 77 (skipped) when the example guest cannot be built here (no
# Debian mirror). VMP_BOOT_TIMEOUT: seconds to wait for the guest (600).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

example_guest run_linux linux.vmpk
ok "example guest built"
vmpack inspect --json linux.vmpk > inspect.json
json_get inspect.json '" ".join(j["cpu"]["features"])' > features.txt
json_get inspect.json '"%s %d %d %d" % (j["cpu"]["vendor"], j["cpu"]["family"], j["cpu"]["model"], j["cpu"]["stepping"])' > signature.txt

python3 - "$VMPACK" linux.vmpk features.txt "${VMP_BOOT_TIMEOUT:-600}" "$top/tests/lib" <<'PY'
import hashlib, http.server, secrets, sys, threading

vmpack, image, features_path, boot_timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, sys.argv[5])
from vmconsole import Console, ConsoleTimeout
profile = set(open(features_path).read().split())
vendor, family, model, stepping = open("signature.txt").read().split()
family, model, stepping = int(family), int(model), int(stepping)
# arch/x86/kernel/cpu/intel.c: Linux hides SEP on Intel CPUs before family 6
# model 3 stepping 3 (the Pentium Pro reports SEP without having it): the
# guest then shows the profile minus sep, by the kernel's choice.
if vendor == "GenuineIntel" and (family << 8 | model << 4 | stepping) < 0x633:
    profile.discard("sep")
n = 0
def ok(what):
    global n
    n += 1
    print("ok %d - %s" % (n, what), flush=True)

# Linux's names of CPUID feature bits (arch/x86/include/asm/cpufeatures.h):
# a flag in this set comes from the CPU; anything else in /proc/cpuinfo is
# synthesised by the kernel (cpuid, tsc_reliable, nopl, ...).
CPUID_FLAGS = set("""
fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 pn clflush dts acpi
mmx fxsr sse sse2 ss ht tm ia64 pbe
pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cid sdbg fma cx16 xtpr pdcm pcid
dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor
syscall mp nx mmxext fxsr_opt pdpe1gb rdtscp lm 3dnowext 3dnow
lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs xop
skinit wdt lwp fma4 tce nodeid_msr tbm topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx
fsgsbase tsc_adjust sgx bmi1 hle avx2 fdp_excptn_only smep bmi2 erms invpcid rtm cqm mpx
rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt avx512pf avx512er
avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves
""".split())

token = "tok-" + secrets.token_hex(8)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (token + "\n").encode()
        self.send_response(200 if self.path == "/token" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()

c = Console([vmpack, "run", image], log="console.log", stderr="vmpack-stderr.log")

def fail(why):
    c.kill()
    sys.exit("FAIL: %s\n--- console tail ---\n%s\n--- vmpack stderr ---\n%s"
             % (why, c.tail(2000).decode(errors="replace"),
                open("vmpack-stderr.log", errors="replace").read()[-1500:]))

def run(cmd, pattern, what, timeout=60):
    try:
        return c.run(cmd, pattern, timeout)
    except ConsoleTimeout as e:
        fail("%s: %r did not print %r: %s" % (what, cmd, pattern, e.what))

try:
    t_ready = c.ready(boot_timeout)
except ConsoleTimeout as e:
    fail("no 'vmpack-guest: ready' within %d s: %s" % (boot_timeout, e.what))
ok("boots to the ready marker in %.1f s" % t_ready)
# The shell computes the markers, so the echo of the typed line cannot match.
run("echo she''ll-$((6*7))", rb"shell-42", "shell")
ok("the shell answers")
run("echo una''me-$(uname -m)", rb"uname-i686", "uname -m")
ok("uname -m is i686")

m = run("echo fl''ags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) :e''nd",
        rb"flags: ([^\r\n]*) :end", "cpuinfo")
shown = set(m.group(1).decode().split())
cpu_shown = shown & CPUID_FLAGS
known_profile = profile & CPUID_FLAGS
if cpu_shown != known_profile:
    fail("/proc/cpuinfo CPUID flags %s != profile %s (extra %s, missing %s)"
         % (sorted(cpu_shown), sorted(known_profile), sorted(cpu_shown - known_profile),
            sorted(known_profile - cpu_shown)))
ok("/proc/cpuinfo shows exactly the profile's features: %s" % " ".join(sorted(cpu_shown)))

want = hashlib.sha256("".join("%d\n" % i for i in range(1, 3001)).encode()).hexdigest()
run("seq 1 3000 > /mnt/seq.txt && sync && echo 3 > /proc/sys/vm/drop_caches && "
    "echo sh''a-$(sha256sum /mnt/seq.txt | cut -c1-64)", rb"sha-" + want.encode(), "disk", 300)
run("umount /mnt && mount -t ext4 /dev/vda /mnt && echo sh''a2-$(sha256sum /mnt/seq.txt | cut -c1-64)",
    rb"sha2-" + want.encode(), "disk remount", 300)
ok("a file written to /dev/vda reads back with the host's sha256 %s..." % want[:16])

# (Debian's busybox awk has no math functions: plain double arithmetic)
run("awk 'BEGIN { printf \"f\" \"p-%.6f-%.4e\\n\", 355 / 113 * 2.5, 1 / 3e5 }'",
    rb"fp-7\.853982-3\.3333e-06", "floating point")
run("seq 1 1000 | awk '{ s += $1 } END { print \"su\" \"m-\" s }'", rb"sum-500500", "pipe")
run("( echo ch''ild-$(( $$ != 0 )) ) & wait; sh -c 'exec echo ex''ec-$((3+4))'",
    rb"exec-7", "fork and exec")
ok("floating point, fork, exec and pipes work")

run("wget -q -O - http://10.0.2.2:%d/token; echo :w''get-$?" % port,
    token.encode() + rb"\r?\n:wget-0", "network", 60)
ok("the guest fetched the host's 127.0.0.1:%d through slirp" % port)

c.send(b"poweroff -f\n")
try:
    status = c.wait(60)
except ConsoleTimeout as e:
    fail("poweroff -f did not end vmpack: %s" % e.what)
if status != 0:
    fail("vmpack exited with %d after poweroff -f" % status)
ok("poweroff -f ends vmpack with status 0")
PY
echo "run_linux: passed"
