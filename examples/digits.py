"""Lesson 2: classify 8x8 handwritten digits (scikit-learn's bundled ``load_digits``).

A 64-128-10 network with dropout, Adam, a validation split and early stopping.
Run:  .venv/bin/python examples/digits.py
Watch it in TensorBoard (scalars, and weight and gradient histograms every epoch):
      .venv/bin/python examples/digits.py --logdir logs/digits
      .venv/bin/tensorboard --logdir logs
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as mr


def main(verbose: int = 0, log_dir: str | None = None) -> float:
    mr.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")           # pixels 0..16 -> 0..1
    y = mr.utils.to_categorical(digits.target, num_classes=10)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target)

    model = mr.Sequential([
        mr.Input((64,)),
        mr.layers.Dense(128, activation="relu", kernel_regularizer=mr.regularizers.L2(1e-4)),
        mr.layers.Dropout(0.2),
        mr.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    early_stopping = mr.callbacks.EarlyStopping(monitor="val_loss", patience=5,
                                                restore_best_weights=True)
    callbacks = [early_stopping]
    if log_dir is not None:
        callbacks.append(mr.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1))
    history = model.fit(x_train, y_train, epochs=100, batch_size=32, validation_split=0.15,
                        callbacks=callbacks, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    assert np.isclose(accuracy, np.mean(predicted == np.argmax(y_test, axis=1)))
    print(f"digits: {len(history.epoch)} epochs, test loss {loss:.4f}, "
          f"test accuracy {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", help="write TensorBoard event files to this folder")
    main(log_dir=parser.parse_args().logdir)
