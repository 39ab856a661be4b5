"""The offline engine: models that ship inside Python packages, run on this machine's CPU."""
