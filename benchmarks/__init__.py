"""minired's speed, measured: ``python -m benchmarks`` (or ``make bench``).

Every case is run, in one process and interleaved repetition by repetition, by minired,
Keras (TensorFlow CPU, after a warm-up epoch so tracing is not counted), PyTorch CPU when it
is importable, a tight hand-written NumPy loop of the same math (:mod:`benchmarks.tight_numpy`:
the realistic floor for a NumPy engine) and a loop of only its matrix products (the BLAS
floor). The report is a table on stdout and a JSON file (reports/benchmarks/latest.json).
A benchmark is not a test: tests/test_benchmarks_smoke.py only checks that ``--quick`` runs.
"""
