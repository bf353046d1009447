"""Peak memory of one training epoch, one library per fresh subprocess.

tracemalloc sees only Python's allocator (not TensorFlow's or PyTorch's C++ buffers), so the
measure is the process' peak resident set size, read once after the imports and the data
(the baseline: everything each library needs before it trains, interpreter, library code,
the same float32 data) and once after building the model and training one epoch. The
reported figure is the growth, peak - baseline: the memory the library's model, optimizer
state, data pipeline and training step took at their worst (Keras' includes tracing).

On Linux the peak is ``VmHWM`` of /proc/self/status, reset to the current RSS just before
the model is built (``echo 5 > /proc/self/clear_refs``), and the baseline is ``VmRSS`` at
that moment. ``getrusage(RUSAGE_SELF).ru_maxrss`` is recorded too but is not used for the
growth: Linux carries the *parent's* peak into a child across fork/exec, so in a child of a
big benchmark process it can report the parent's memory. Elsewhere the fallback is
ru_maxrss before and after (the high-water mark, so the baseline includes the imports' peak).

Run by the runner as ``python -m benchmarks.memory LIBRARY SAMPLES BATCH``; prints one JSON
line.
"""

from __future__ import annotations

import gc
import json
import resource
import sys

MIB = 1024.0          # ru_maxrss is in KiB on Linux


def _maxrss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (MIB * MIB) if sys.platform == "darwin" else rss / MIB   # macOS: bytes


def _proc_status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / MIB              # kB
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(library: str, samples: int, batch_size: int) -> dict:
    import numpy as np

    from benchmarks import cases

    if library == "keras":
        lib = cases.load_keras()
    elif library == "minired":
        import minired as lib
    elif library == "torch":
        import torch
    x, y = cases.classification_data(samples)
    w0 = cases.initial_weights(cases.MLP, "softmax")
    gc.collect()
    maxrss_before = _maxrss_mib()
    if _reset_peak() and _proc_status_mib("VmHWM") is not None:
        method = "VmHWM (reset via /proc/self/clear_refs) - VmRSS before the model"
        baseline = _proc_status_mib("VmRSS")
    else:
        method = "ru_maxrss after - ru_maxrss before the model"
        baseline = maxrss_before

    if library in ("minired", "keras"):
        model = cases.dense_stack(lib, cases.MLP, "softmax")
        model.set_weights(w0)
        model.compile(optimizer=lib.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    elif library == "torch":
        model = cases.torch_dense(cases.MLP, w0)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        cases._torch_epoch(model, opt, torch.nn.CrossEntropyLoss(), torch.from_numpy(x),
                           torch.from_numpy(y.astype(np.int64)), batch_size,
                           torch.Generator().manual_seed(0))
    elif library == "tight_numpy":
        cases.TightMLP(w0).train_epoch(x, y, batch_size)
    else:
        raise ValueError(f"unknown library {library!r}")
    maxrss_after = _maxrss_mib()
    peak = _proc_status_mib("VmHWM") if method.startswith("VmHWM") else maxrss_after
    return {"baseline_rss_mib": round(baseline, 1), "peak_rss_mib": round(peak, 1),
            "peak_rss_delta_mib": round(peak - baseline, 1), "method": method,
            "ru_maxrss_before_mib": round(maxrss_before, 1),
            "ru_maxrss_after_mib": round(maxrss_after, 1)}


if __name__ == "__main__":
    name, n, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(name, n, bs)))
