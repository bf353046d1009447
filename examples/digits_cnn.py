"""Lección 16: una red convolucional clasifica los dígitos de 8x8 (``load_digits`` de scikit-learn).

(Lesson 16 of the Spanish course: a small convnet on the 8x8 handwritten digits.)

Dos bloques ``Conv2D`` → ``BatchNormalization`` → ``relu`` → ``MaxPooling2D`` y una ``Dense``
de salida: pasa del 98 % de exactitud en test, donde la red densa de ``examples/digits.py``
se queda en torno al 97 %. Con ``--synthetic28`` entrena en cambio la red convolucional del
ejemplo de MNIST de keras.io (``Conv2D(32)``, ``MaxPooling2D``, ``Conv2D(64)``,
``MaxPooling2D``, ``Flatten``, ``Dropout(0.5)``, ``Dense(10)``) sobre una versión de 28x28
de los mismos dígitos (cada píxel repetido 3x3, 24x24, y un marco de ceros de 2 píxeles;
nada se descarga), e imprime el tiempo de cada época.

Ejecutar / run:  .venv/bin/python examples/digits_cnn.py
                 .venv/bin/python examples/digits_cnn.py --synthetic28 --epochs 10
El programa solo usa nombres de Keras: funciona igual con ``import keras``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as keras


def digit_images(size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as images ``(N, size, size, 1)`` in [0, 1], and their labels.

    ``size=8``: the originals. ``size=28``: each pixel repeated 3x3 (24x24) and a frame of
    2 zeros around it, the size of MNIST's images.
    """
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")          # (N, 8, 8), pixels 0..16 -> 0..1
    if size == 28:
        images = images.repeat(3, axis=1).repeat(3, axis=2)     # (N, 24, 24)
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))       # (N, 28, 28)
    elif size != 8:
        raise ValueError(f"size must be 8 or 28, got {size}")
    return images[..., None], digits.target                     # channels last: (N, H, W, 1)


def split(size: int = 8):
    """The stratified train/test split of ``examples/digits.py`` (75 % / 25 %)."""
    x, labels = digit_images(size)
    y = keras.utils.to_categorical(labels, num_classes=10)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=labels)


def digits_convnet() -> keras.Sequential:
    """8x8x1 → Conv 3x3 (32) → 4x4x32 → Conv 3x3 (64) → 2x2x64 → 256 → 10."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", use_bias=False),   # (8, 8, 32); β hace de sesgo
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),                                 # (4, 4, 32)
        layers.Conv2D(64, 3, padding="same", use_bias=False),   # (4, 4, 64)
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),                                 # (2, 2, 64)
        layers.Flatten(),                                       # 256
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ], name="convnet_digitos")


def mnist_convnet() -> keras.Sequential:
    """The convnet of keras.io's "Simple MNIST convnet" example, layer by layer."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], name="convnet_mnist")


class EpochTimer(keras.callbacks.Callback):
    """Prints each epoch's time (and its loss and accuracy): a Keras callback."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
        logs = logs or {}
        print(f"  época {epoch + 1}: {self.seconds[-1]:.1f} s, pérdida {logs['loss']:.4f}, "
              f"exactitud {logs['accuracy']:.2%}")


def main(verbose: int = 0, epochs: int = 20) -> float:
    """Train :func:`digits_convnet` on the 8x8 digits; print and return the test accuracy."""
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = split(8)
    model = digits_convnet()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    errors = int(np.sum(predicted != np.argmax(y_test, axis=1)))
    print(f"dígitos 8x8, red convolucional ({model.count_params()} parámetros): {epochs} épocas "
          f"en {seconds:.0f} s, pérdida en test {loss:.4f}, exactitud en test {accuracy:.2%} "
          f"({errors} errores de {len(x_test)})")
    return accuracy


def main_synthetic28(epochs: int = 10, verbose: int = 0) -> float:
    """Train keras.io's MNIST convnet on the 28x28 digits, timing each epoch."""
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = split(28)
    model = mnist_convnet()
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    print(f"{len(x_train)} imágenes de 28x28 para entrenar (el 10 % de ellas para validar), "
          f"{len(x_test)} para el test:")
    model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.1,
              callbacks=[timer], verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"dígitos 28x28, red de keras.io: {np.median(timer.seconds):.1f} s por época "
          f"(la mediana de las épocas), exactitud en test {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic28", action="store_true",
                        help="la red de MNIST de keras.io sobre los dígitos ampliados a 28x28")
    parser.add_argument("--epochs", type=int, default=None,
                        help="épocas (20 por defecto; 10 con --synthetic28)")
    arguments = parser.parse_args()
    if arguments.synthetic28:
        main_synthetic28(epochs=arguments.epochs or 10)
    else:
        main(epochs=arguments.epochs or 20)
