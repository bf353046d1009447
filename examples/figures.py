"""The README's figures: two small networks, watched with ``mr.plot``.

Run:  .venv/bin/python examples/figures.py            (writes docs/img/*.png)
      .venv/bin/python examples/figures.py FOLDER     (writes FOLDER/*.png)

- digits (scikit-learn's bundled 8x8 digits; only 300 to train on, so it overfits soon):
  ``history.png``, the curves with the epoch where EarlyStopping stopped and the best epoch
  whose weights it restored; ``confusion_matrix.png`` on the ~1000 digits it never saw;
  ``model.png``.
- two moons (two features, so the plane can be drawn): ``decision_boundary.png``.

Seeded: the same figures on every run, in a few seconds.
"""

import argparse
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split

import minired as mr
from minired import plot

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def digits_figures() -> dict:
    """Train a 64-128-10 network on 300 digits, stopped early on 500 others; draw it."""
    mr.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")           # pixels 0..16 -> 0..1
    y = mr.utils.to_categorical(digits.target, num_classes=10)
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, train_size=300, random_state=0, stratify=digits.target)
    x_val, x_test, y_val, y_test = x_rest[:500], x_rest[500:], y_rest[:500], y_rest[500:]

    model = mr.Sequential([
        mr.Input((64,)),
        mr.layers.Dense(128, activation="relu"),
        mr.layers.Dense(10, activation="softmax"),
    ], name="digits")
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.003),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    early_stopping = mr.callbacks.EarlyStopping(monitor="val_loss", patience=8,
                                                restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=200, batch_size=32,
                        validation_data=(x_val, y_val),
                        callbacks=[early_stopping], verbose=0)
    print(f"digits: stopped after {len(history.epoch)} epochs, best epoch "
          f"{early_stopping.best_epoch + 1}")
    return {
        "history.png": plot.history(history, early_stopping=early_stopping),
        "confusion_matrix.png": plot.confusion_matrix(model, x_test, y_test),
        "model.png": plot.model(model),
    }


def moons_figures() -> dict:
    """Train a 2-16-16-1 network on two interleaved half circles; draw its boundary."""
    mr.utils.set_random_seed(0)
    x, y = make_moons(n_samples=400, noise=0.25, random_state=0)
    model = mr.Sequential([
        mr.Input((2,)),
        mr.layers.Dense(16, activation="relu"),
        mr.layers.Dense(16, activation="relu"),
        mr.layers.Dense(1, activation="sigmoid"),
    ], name="moons")
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x.astype("float32"), y, epochs=60, batch_size=32, verbose=0)
    return {"decision_boundary.png": plot.decision_boundary(model, x, y)}


def main(folder: Path = DOCS_IMG) -> list[Path]:
    matplotlib.use("Agg")               # no window: the figures go to files
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in {**digits_figures(), **moons_figures()}.items():
        figure.savefig(folder / name, dpi=110)
        plt.close(figure)
        written.append(folder / name)
    print("wrote", ", ".join(str(path) for path in written))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write the README's figures (PNG files).")
    parser.add_argument("folder", nargs="?", type=Path, default=DOCS_IMG,
                        help="where to write them (default: docs/img/)")
    main(parser.parse_args().folder)
