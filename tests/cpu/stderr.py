#!/usr/bin/env python3
"""Runs a command with a stderr that accepts nothing, and says how it ended.

Usage: stderr.py dead|full COMMAND...

- dead: stderr is a pipe whose read end is closed before the command starts (a supervisor's log
  reader that has gone): a write raises SIGPIPE, or fails with EPIPE where SIGPIPE is ignored.
- full: stderr is a pipe filled to capacity whose reader is alive and never reads (a stuck log
  reader): a blocking write would wait forever.

Prints `exit N` or `signal N`, then the seconds it took; stdout goes to /dev/null. A command that
has not ended after 20 s is killed and reported as `hung`, status 1.
"""

import fcntl
import os
import subprocess
import sys
import time

mode, command = sys.argv[1], sys.argv[2:]
read_end, write_end = os.pipe()
if mode == "dead":
    os.close(read_end)
elif mode == "full":
    fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        while True:
            os.write(write_end, b"x" * 4096)
    except BlockingIOError:
        pass
    fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) & ~os.O_NONBLOCK)
else:
    sys.exit(f"stderr.py: unknown mode {mode!r}")
start = time.monotonic()
child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=write_end)
os.close(write_end)
try:
    status = child.wait(timeout=20)
except subprocess.TimeoutExpired:
    child.kill()
    print(f"hung {time.monotonic() - start:.1f}")
    sys.exit(1)
how = f"signal {-status}" if status < 0 else f"exit {status}"
print(f"{how} {time.monotonic() - start:.1f}")
