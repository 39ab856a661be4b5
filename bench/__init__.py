"""Benchmarks: run with `make bench`; results go to docs/benchmarks.md."""

from voice.speech.native_threads import pin_blas_threads

# Before anything loads numpy: measure the engine as the service runs it (config/settings.py pins the same
# way). Unpinned, OpenBLAS's spinning threads made one sentence embedding take up to a second under load.
pin_blas_threads()
