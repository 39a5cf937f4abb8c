"""cslint in a child process whose writes past `limit` bytes into any regular file the kernel
refuses (RLIMIT_FSIZE, SIGXFSZ ignored: the write fails with EFBIG, as a full disk's would)."""
from __future__ import annotations

import os
import subprocess
import sys

DRIVER = """
import resource, signal, sys
limit, spill, args = int(sys.argv[1]), sys.argv[2] == "spill", sys.argv[3:]
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
if spill:  # every budget at 0: findings, records and set objects all go through the spool
    from cslint import objectset, results, spool
    spool.IN_MEMORY = results.IN_MEMORY_FILES = objectset.IN_MEMORY_CHARS = 0
sys.argv = ["cslint", *args]
from cslint.cli import run_and_exit
run_and_exit()
"""


def run_limited(limit: int, *args: str, spill: bool = False, stdout=None, input: str | None = None,
                unbuffered: bool | None = None) -> subprocess.CompletedProcess:
    """`cslint ARGS` with file writes refused past `limit` bytes (0: no limit). `unbuffered` sets
    or clears PYTHONUNBUFFERED (None: as this process has it)."""
    env = dict(os.environ)
    if unbuffered is not None:
        env.pop("PYTHONUNBUFFERED", None)
        if unbuffered:
            env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run([sys.executable, "-c", DRIVER, str(limit), "spill" if spill else "-", *args],
                          input=input, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=300, env=env)
