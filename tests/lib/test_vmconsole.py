#!/usr/bin/env python3
"""Self-test of vmconsole.py against a plain shell standing in for a guest
console (no VM): markers, search from the last match, mark(), the timeout
and end-of-output errors and their tail, the log copy, stderr apart, wait()
and kill(). Prints TAP-like lines; exits 1 at the first failure."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmconsole import Console, ConsoleEOF, ConsoleTimeout, READY  # noqa: E402

n = 0


def ok(cond, what):
    global n
    n += 1
    if not cond:
        print("not ok %d - %s" % (n, what))
        sys.exit(1)
    print("ok %d - %s" % (n, what))


def raises(exc, fn):
    try:
        fn()
    except exc as e:
        return e
    return None


tmp = tempfile.mkdtemp(prefix="vmconsole-test.")
log = os.path.join(tmp, "console.log")
errlog = os.path.join(tmp, "stderr.log")

# A "guest": prints the ready marker, then a shell reads commands from stdin.
guest = ["sh", "-c", "echo 'vmpack-guest: ready'; echo to-stderr >&2; exec sh"]
c = Console(guest, log=log, stderr=errlog)
t = c.ready(10)
ok(0 <= t < 10, "ready() returns the seconds to the marker (%.3f)" % t)
m = c.run("echo tok-$((6*7))", rb"tok-(\d+)", 10)
ok(m.group(1) == b"42", "run() types a command and returns the match")
ok(c.output[m.start():m.end()] == b"tok-42", "match offsets index into output")

c.send(b"echo a1; echo a2\n")
m1 = c.expect(rb"a\d", 10)
m2 = c.expect(rb"a\d", 10)
ok((m1.group(), m2.group()) == (b"a1", b"a2"),
   "expect() searches from the end of the last match (a1 then a2)")
e = raises(ConsoleTimeout, lambda: c.expect(rb"a\d", 0.3))
ok(e is not None and not isinstance(e, ConsoleEOF), "a third expect() times out")
ok("a2" in str(e), "the timeout message carries the output's tail")

c.send(b"echo b1\n")
c.expect(rb"b1", 10)
c.send(b"echo c1; echo c2; sleep 0.3; echo c3\n")
c.expect(rb"c1", 10)
while b"c2" not in c.output:
    time.sleep(0.01)
c.mark()
m = c.expect(rb"c\d", 10)
ok(m.group() == b"c3", "mark() hides what came before it (c2 is skipped)")

c.send(b"head -c 5000 /dev/zero | tr '\\0' x; echo; echo end-$((1+1))\n")
c.expect(rb"end-2", 10)
e = raises(ConsoleTimeout, lambda: c.expect(rb"never", 0.2))
ok(e is not None and len(e.tail) == 2000 and str(e).endswith(e.tail.decode()),
   "the timeout message ends with the last 2000 bytes")

c.send(b"exit 3\n")
e = raises(ConsoleEOF, lambda: c.expect(rb"never", 10))
ok(isinstance(e, ConsoleEOF) and isinstance(e, ConsoleTimeout),
   "output that ends raises ConsoleEOF, a ConsoleTimeout")
ok(c.wait(10) == 3, "wait() returns the exit status")
ok(open(log, "rb").read() == c.output, "the log holds exactly the output")
ok(b"to-stderr" not in c.output and open(errlog, "rb").read() == b"to-stderr\n",
   "stderr goes to its own file when asked")
e = raises(ConsoleEOF, lambda: c.send(b"echo late\n"))
ok(e is not None, "send() after the end raises ConsoleEOF")

c = Console(["sh", "-c", "echo x >&2; exec sleep 60"])
c.expect(rb"x", 10)
ok(True, "stderr is merged into the output by default")
e = raises(ConsoleTimeout, lambda: c.wait(0.2))
ok(e is not None, "wait() raises ConsoleTimeout while the process runs")
c.kill()
ok(c.poll() is not None and c.poll() < 0, "kill() ends and reaps the process")

with Console(["sh", "-c", "exec sleep 60"]) as c:
    pid = c.pid
ok(c.poll() is not None, "leaving a with block kills the process")

os.remove(log)
os.remove(errlog)
os.rmdir(tmp)
print("vmconsole: %d checks passed" % n)
