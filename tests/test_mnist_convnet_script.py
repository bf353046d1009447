"""The keras-io "Simple MNIST convnet" example, run unchanged on minired.

The script of keras-io/examples/vision/mnist_convnet.py as written, with
``import minired as keras`` and ``from minired import layers`` for its two imports, and
bundled data instead of ``keras.datasets.mnist.load_data()`` (nothing is downloaded): the 8×8
digits of scikit-learn, each upsampled ×3 and zero-padded to 28×28, 600 training and 200
test images (the test checks that it runs and learns; the comparisons check that it
computes what Keras computes).
"""

from __future__ import annotations

import numpy as np


def bundled_mnist_like(n_train: int = 600, n_test: int = 200):
    """``(x_train, y_train), (x_test, y_test)`` shaped like MNIST: uint8 28×28, labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3)))                   # 8×8 -> 24×24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))) * (255 / 16)     # 28×28, 0..255
    images = images.astype("uint8")
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return (images[train], digits.target[train]), (images[test], digits.target[test])


def test_the_keras_io_mnist_convnet_runs_unchanged(capsys):
    import minired as keras
    from minired import layers

    keras.utils.set_random_seed(1337)

    # -- the script, from "Prepare the data" on ------------------------------------------------
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = bundled_mnist_like()

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()

    batch_size = 128
    epochs = 15

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_split=0.1)

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    # -- end of the script ---------------------------------------------------------------------

    printed = capsys.readouterr().out
    assert "x_train shape: (600, 28, 28, 1)" in printed
    # Keras' summary: the shapes and the 34,826 parameters of the keras-io model.
    for row in ("(None, 26, 26, 32)", "(None, 13, 13, 32)", "(None, 11, 11, 64)",
                "(None, 5, 5, 64)", "(None, 1600)", "Total params: 34,826"):
        assert row in printed
    assert "Epoch 15/15" in printed and "val_accuracy" in printed
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert score[1] > 0.8, score          # 15 epochs on 540 images (MNIST: ~99% on 60,000)
