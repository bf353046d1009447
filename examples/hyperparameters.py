"""Lección 11 (docs/11-hiperparametros.md): búsqueda en rejilla de lr, unidades y dropout.

(Lesson 11 of the Spanish course: a small grid search over learning rate, hidden units and
dropout.)

Every combination trains the same kind of 64-H-10 network on scikit-learn's ``load_digits``
and is judged by its accuracy on a validation set. The test set is touched only once, by the
model chosen on validation: choosing on the test set would make its score optimistic.

Run:  .venv/bin/python examples/hyperparameters.py   (18 small trainings, a few seconds)
In TensorBoard's HParams tab (one row per combination, curves in Scalars):
      .venv/bin/python examples/hyperparameters.py --logdir logs/grid
      .venv/bin/tensorboard --logdir logs/grid
"""

import argparse
import itertools
import os

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as mr
from minired.callbacks import hparams

GRID = {
    "learning_rate": [0.0003, 0.003, 0.03],
    "units": [8, 32, 128],
    "dropout": [0.0, 0.5],
}


def load_data():
    """Digits split 60 / 20 / 20 into train, validation and test (stratified, fixed seed)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")            # pixels 0..16 -> 0..1
    y = mr.utils.to_categorical(digits.target, num_classes=10)
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, test_size=0.4, random_state=0, stratify=digits.target)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest.argmax(axis=1))
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def build_model(learning_rate: float, units: int, dropout: float) -> mr.Sequential:
    """Input(64) -> Dense(units, relu) -> Dropout(dropout) -> Dense(10, softmax), with Adam."""
    layers = [mr.Input((64,)), mr.layers.Dense(units, activation="relu")]
    if dropout > 0:
        layers.append(mr.layers.Dropout(dropout))
    layers.append(mr.layers.Dense(10, activation="softmax"))
    model = mr.Sequential(layers)
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main(epochs: int = 20, verbose: int = 0, log_dir: str | None = None) -> list[dict]:
    """Train every combination of GRID; print a table; return one dict per combination.

    Each dict holds the hyperparameters, the last epoch's ``accuracy`` (train, measured with
    dropout on), ``val_accuracy`` and ``val_loss``, and the trained ``model``. The list is
    sorted best first: highest ``val_accuracy``, ties broken by the lower ``val_loss``.
    Only the best combination is evaluated on the test set (its ``test_accuracy``).

    With ``log_dir``, each combination also writes its curves (TensorBoard callback) and its
    hyperparameters and final metrics (HParams) into ``log_dir/run-<i>``.
    """
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()
    if log_dir is not None:
        hparams.log_config(log_dir, GRID, metrics=["val_accuracy", "val_loss"])
    results = []
    for i, (learning_rate, units, dropout) in enumerate(itertools.product(*GRID.values())):
        mr.utils.set_random_seed(0)          # every combination starts from the same seed
        model = build_model(learning_rate, units, dropout)
        run_dir = None if log_dir is None else os.path.join(log_dir, f"run-{i}")
        callbacks = [] if run_dir is None else [mr.callbacks.TensorBoard(run_dir)]
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=32,
                            validation_data=(x_val, y_val), verbose=verbose,
                            callbacks=callbacks)
        if run_dir is not None:
            hparams.log_run(run_dir, {"learning_rate": learning_rate, "units": units,
                                      "dropout": dropout},
                            {"val_accuracy": history.history["val_accuracy"][-1],
                             "val_loss": history.history["val_loss"][-1]})
        results.append({
            "learning_rate": learning_rate, "units": units, "dropout": dropout,
            "accuracy": history.history["accuracy"][-1],
            "val_accuracy": history.history["val_accuracy"][-1],
            "val_loss": history.history["val_loss"][-1],
            "model": model,
        })
    results.sort(key=lambda r: (-r["val_accuracy"], r["val_loss"]))

    # Columnas: la exactitud (accuracy) de entrenamiento y de validación, y la pérdida de
    # validación (val_loss) de la última época.
    print(f"{'lr':>7} {'unidades':>8} {'dropout':>7} {'exact. entr.':>12} {'exact. val.':>11} "
          f"{'pérd. val.':>10}")
    for r in results:
        print(f"{r['learning_rate']:>7} {r['units']:>8} {r['dropout']:>7} "
              f"{r['accuracy']:>12.4f} {r['val_accuracy']:>11.4f} {r['val_loss']:>10.4f}")
    best = results[0]
    best["test_accuracy"] = best["model"].evaluate(x_test, y_test, verbose=0)[1]
    print(f"mejor en validación: lr={best['learning_rate']}, units={best['units']}, "
          f"dropout={best['dropout']} -> exactitud en test {best['test_accuracy']:.4f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir",
                        help="escribe las ejecuciones de TensorBoard y HParams en esta carpeta")
    main(log_dir=parser.parse_args().logdir)
