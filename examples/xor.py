"""Lección 3 (docs/03-activaciones.md): dos capas aprenden XOR, que una capa lineal no separa.

(Lesson 3 of the Spanish course: a two-layer network learns XOR, which no linear layer can.)

Ejecutar / run:  .venv/bin/python examples/xor.py
El mismo programa funciona en Keras cambiando ``import minired as mr`` por
``import keras as mr`` (``mr.utils.set_random_seed`` sigue funcionando).
"""

import numpy as np

import minired as mr


def main(verbose: int = 0) -> float:
    mr.utils.set_random_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [1], [1], [0]], dtype="float32")

    model = mr.Sequential([
        mr.Input((2,)),
        mr.layers.Dense(8, activation="tanh"),
        mr.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.05),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=verbose)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    print(f"XOR: pérdida {loss:.4f}, exactitud {accuracy:.2%}")
    print("predicciones:", np.round(model.predict(x, verbose=0).ravel(), 3))
    return accuracy


if __name__ == "__main__":
    main()
