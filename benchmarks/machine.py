"""What the numbers were measured on: CPU, cores, BLAS and its threads, versions, load."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import sys

import numpy as np

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

#: OpenBLAS' environment variable that names the kernels it uses instead of its own choice
#: (recorded with the BLAS: this project's machines set it to "Haswell").
KERNEL_VARIABLE = "OPENBLAS_CORETYPE"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS does not say)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_blas() -> dict:
    """NumPy's BLAS as NumPy reports it (np.show_config), and threadpoolctl's view."""
    info: dict = {}
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        info["numpy_build"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration")
                               if k in blas}
    except TypeError:                                   # NumPy < 1.25: no mode="dicts"
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            np.show_config()
        info["numpy_build"] = buffer.getvalue()[:2000]
    try:
        import threadpoolctl

        info["threadpools"] = [
            {k: pool.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                      "threading_layer", "architecture", "filepath")}
            for pool in threadpoolctl.threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def _version(module: str) -> str | None:
    """A module's version if it is already imported or importable (None otherwise)."""
    try:
        mod = sys.modules.get(module) or __import__(module)
    except Exception:                                   # any failure to import
        return None
    return getattr(mod, "__version__", "unknown")


def describe(with_keras: bool) -> dict:
    """Everything about the machine and the software a reader needs to redo the run."""
    import minired

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "minired": minired.__version__}
    if with_keras:
        versions["keras"] = _version("keras")
        versions["tensorflow"] = _version("tensorflow")
    versions["torch"] = _version("torch") if "torch" in sys.modules else None
    threads: dict = {"numpy_blas": "see blas.threadpools[].num_threads"}
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        # 0 means TensorFlow's default: as many threads as the machine's cores.
        threads["tensorflow_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        threads["tensorflow_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    if "torch" in sys.modules:
        threads["torch"] = sys.modules["torch"].get_num_threads()
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "thread_environment": {k: os.environ.get(k) for k in THREAD_VARIABLES},
        "blas": {**_numpy_blas(), KERNEL_VARIABLE: os.environ.get(KERNEL_VARIABLE)},
        "threads": threads,
        "versions": versions,
    }
