"""Lecciones 8-10 y 12: clasificar dígitos manuscritos de 8x8 (``load_digits`` de scikit-learn).

(Lessons 8-10 and 12 of the Spanish course: classify 8x8 handwritten digits.)

Una red 64-128-10 con dropout (lección 8), L2 (lección 9), Adam (lección 7), una parte de
validación y parada temprana (*early stopping*, lección 10).
Ejecutar / run:  .venv/bin/python examples/digits.py
Verlo en TensorBoard (lección 12: escalares, e histogramas de pesos y gradientes por época):
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
    print(f"dígitos: {len(history.epoch)} épocas, pérdida en test {loss:.4f}, "
          f"exactitud en test {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir",
                        help="escribe los ficheros de eventos de TensorBoard en esta carpeta")
    main(log_dir=parser.parse_args().logdir)
