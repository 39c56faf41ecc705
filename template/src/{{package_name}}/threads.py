"""Native thread pools (BLAS, OpenMP) sized to the CPUs this process may use.

Left alone, OpenMP and BLAS start one thread per CPU of the machine, not of the
process: two jobs on a 2-core runner, or a container limited to one CPU, then run
twice the threads the CPUs can hold. And an OpenMP thread waiting for work spins by
default: on a busy runner the spinning takes the CPU the work needs (a model search
under load took 30 s of CPU spinning, 13 s waiting passively). The variables are read
when the libraries load, so this runs when the package is imported, before numpy or
scikit-learn; a value the environment sets already wins.
"""

from __future__ import annotations

import os
from pathlib import Path

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
CGROUP_CPU_LIMIT = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, capped by a cgroup CPU quota."""
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(count, quota)) if quota else count


def _cgroup_quota() -> int | None:
    """Whole CPUs of a cgroup v2 quota (`200000 100000` is 2), or None without one."""
    try:
        limit, period = CGROUP_CPU_LIMIT.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    return max(1, int(limit) // int(period))


def limit_native_threads() -> int:
    cpus = usable_cpus()
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(cpus))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # sleep, not spin, between tasks
    return cpus
