"""Drive a guest's serial console from a test or a benchmark.

A Console starts a process whose stdin and stdout are the guest's console
(`vmpack run`, `vmpack resume`, `qemu-system-i386 -nographic`), copies
everything it prints into `output` (and into a log file if asked) on a
reader thread, and lets the caller type and wait for regular expressions:

    from vmconsole import Console, ConsoleTimeout, READY
    c = Console([vmpack, "run", "guest.vmpk"], log="console.log")
    c.ready(600)                                  # "vmpack-guest: ready"
    c.run("echo she''ll-$((6*7))", rb"shell-42", 60)
    c.send(b"poweroff -f\\n")
    status = c.wait(60)

Searching: expect() searches the output from the end of the previous match
(or from the start, before any match) on, so output that arrived between two
calls is seen, and one line is never matched twice. mark() moves that point
to the end of the output so far, for a wait that must see only what comes
next.

Typing: the Debian example guest (examples/debian-i386) prints
"vmpack-guest: ready" when its shell reads the console; what is sent before
that is lost. The console echoes what is typed, so a command should print a
marker the shell computes ("echo tok-$((6*7))" prints tok-42; the echo of
the typed line reads tok-$((6*7))), or quote-split ("echo fl''ags") so the
echo of the typed line cannot match.

Errors: a wait that runs out of time, or output that ends before the
pattern shows, raises ConsoleTimeout (ConsoleEOF for the end of the output,
a subclass); the message ends with the last 2000 bytes of output. Sending
to a process that closed its stdin raises ConsoleEOF too.

Thread safety: one caller thread per Console; the reader thread only
appends to the output under the Console's lock.
"""

import os
import re
import signal
import subprocess
import threading
import time

__all__ = ["Console", "ConsoleTimeout", "ConsoleEOF", "READY"]

# The example Debian guest's /init prints this when its shell reads input.
READY = rb"vmpack-guest: ready"

TAIL_BYTES = 2000


class ConsoleTimeout(Exception):
    """A wait ran out of time; str() ends with the console's last output."""

    def __init__(self, what, tail=b""):
        self.what = what
        self.tail = tail
        super().__init__("%s\n--- last %d bytes of console output ---\n%s"
                         % (what, len(tail), tail.decode(errors="replace")))


class ConsoleEOF(ConsoleTimeout):
    """The console's output ended (the process closed it or exited)."""


class Console:
    """A process whose stdin/stdout is a guest console.

    argv, env, cwd: as for subprocess.Popen. log: a path; every byte read is
    appended there as it arrives (the file is truncated first).
    stderr: where the process's stderr goes: None (default) merges it into
    the console output; a path writes it to that file; subprocess.DEVNULL
    or an open file are passed through.
    """

    def __init__(self, argv, env=None, cwd=None, log=None, stderr=None):
        self.argv = list(argv)
        self._lock = threading.Condition()
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self._log = open(log, "wb") if log else None
        self._stderr_file = None
        if stderr is None:
            err = subprocess.STDOUT
        elif isinstance(stderr, (str, bytes, os.PathLike)):
            err = self._stderr_file = open(stderr, "wb")
        else:
            err = stderr
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=err, env=env, cwd=cwd)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, name="console-%d" % self.pid,
                                        daemon=True)
        self._reader.start()

    # -- the reader thread ------------------------------------------------

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._lock:
                if not chunk:
                    self._eof = True
                    self._lock.notify_all()
                    break
                self._buf += chunk
                if self._log:
                    self._log.write(chunk)
                    self._log.flush()
                self._lock.notify_all()

    # -- output -----------------------------------------------------------

    @property
    def output(self):
        """All bytes read so far."""
        with self._lock:
            return bytes(self._buf)

    def tail(self, nbytes=TAIL_BYTES):
        with self._lock:
            return bytes(self._buf[-nbytes:])

    def last_lines(self, n=3):
        """The last n non-blank lines of output, as text."""
        lines = [l for l in self.output.decode(errors="replace").splitlines() if l.strip()]
        return lines[-n:]

    def elapsed(self):
        """Seconds since the process was started."""
        return time.monotonic() - self.started

    def mark(self):
        """Let the next expect() see only output that arrives from now on."""
        with self._lock:
            self._pos = len(self._buf)

    # -- waiting ----------------------------------------------------------

    def expect(self, regex, timeout):
        """Wait until regex (bytes or compiled) matches the output since the
        last match; returns the re.Match (offsets into `output`)."""
        pat = re.compile(regex) if not isinstance(regex, re.Pattern) else regex
        deadline = time.monotonic() + timeout
        with self._lock:
            seen = -1
            while True:
                if len(self._buf) != seen:
                    seen = len(self._buf)
                    m = pat.search(bytes(self._buf), self._pos)
                    if m:
                        self._pos = m.end()
                        return m
                if self._eof:
                    raise ConsoleEOF("console output ended before %r showed (exit status %s)"
                                     % (pat.pattern, self.proc.poll()),
                                     bytes(self._buf[-TAIL_BYTES:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConsoleTimeout("no %r within %g s" % (pat.pattern, timeout),
                                         bytes(self._buf[-TAIL_BYTES:]))
                self._lock.wait(left)

    def ready(self, timeout):
        """Wait for the example guest's ready marker; returns seconds since
        start."""
        self.expect(READY, timeout)
        return self.elapsed()

    # -- typing -----------------------------------------------------------

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ConsoleEOF("cannot send %r: the console's input is closed (exit status %s)"
                             % (data[:60], self.proc.poll()), self.tail())

    def run(self, cmd, regex, timeout):
        """Type cmd and a newline, then expect(regex, timeout)."""
        self.send(cmd.encode() + b"\n" if isinstance(cmd, str) else cmd + b"\n")
        return self.expect(regex, timeout)

    def interrupt(self):
        """Type ^C (the guest's tty turns it into SIGINT)."""
        self.send(b"\x03\n")

    # -- the process ------------------------------------------------------

    def poll(self):
        return self.proc.poll()

    def wait(self, timeout):
        """Wait for the process to end; returns its status. The output is
        complete afterwards (the reader has seen the end, or 5 s passed)."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ConsoleTimeout("the process did not end within %g s" % timeout, self.tail())
        self._reader.join(5)
        self._close()
        return status

    def cpu_seconds(self):
        """User + system CPU seconds the process has used (Linux /proc)."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def signal(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        """Kill the process if it still runs and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(5)
        self._close()

    def _close(self):
        for f in (self.proc.stdin,):
            try:
                f.close()
            except OSError:
                pass
        with self._lock:
            if self._log and self._eof:
                self._log.close()
                self._log = None
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
