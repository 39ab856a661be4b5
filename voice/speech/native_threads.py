"""Keeps native numeric thread pools in a configuration that cannot deadlock the service.

OpenBLAS (numpy's BLAS) runs its own pool of worker threads and registers a fork handler that tears that
pool down. A ``fork()`` from another thread while a matrix multiply is running (libuv, under uvloop, forks
for every subprocess) leaves the multiply waiting forever on workers that no longer exist. The sentence
encoder's matrices are small, so one BLAS thread per call costs nothing measurable; parallelism comes from
running several calls at once instead. Call :func:`pin_blas_threads` before numpy is first imported (the
process entry points do) and :func:`check_blas_threads` once numpy is loaded.
"""

from __future__ import annotations

import os
from typing import Any

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


class UnsafeNumericThreads(RuntimeError):
    """The numeric libraries are configured in a way known to deadlock this service."""


def pin_blas_threads() -> None:
    """One thread per BLAS call, unless the environment already says otherwise (then the check refuses it)."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def _explicitly_parallel() -> list[str]:
    wanted = []
    for name in BLAS_THREAD_VARIABLES:
        value = os.environ.get(name, "1").strip() or "1"
        if not value.isdigit() or int(value) != 1:
            wanted.append(f"{name}={value}")
    return wanted


def check_blas_threads() -> list[dict[str, Any]]:
    """Refuse a multi-threaded BLAS, and bring one that was loaded before the pin down to a single thread.

    Returns the BLAS libraries found (threadpoolctl's description), for logs and health reports.

    Raises:
        UnsafeNumericThreads: the environment asks for more than one BLAS thread.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    wanted = _explicitly_parallel()
    if wanted:
        raise UnsafeNumericThreads(
            f"{', '.join(wanted)} is set, but a multi-threaded BLAS deadlocks this service when a subprocess "
            "starts during a matrix multiply (OpenBLAS tears its threads down at fork). Unset it or set it to 1."
        )
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if any(int(info.get("num_threads", 1)) > 1 for info in blas):
        # numpy was imported before the pin (an embedding host, a test runner): lower it at run time.
        threadpool_limits(limits=1, user_api="blas")
        blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
        if any(int(info.get("num_threads", 1)) > 1 for info in blas):
            raise UnsafeNumericThreads(f"BLAS still runs with more than one thread: {blas}")
    return blas
