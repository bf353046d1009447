# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
# Los fragmentos del curso se ejecutan desde la raíz del repositorio (y algunos importan
# `comparisons/`, que está en ella).
import os
import sys

if os.path.basename(os.getcwd()) == "notebooks":
    os.chdir("..")
    sys.path.insert(0, os.getcwd())

# %% [markdown]
# # 4. Feedforward: de la entrada a la predicción
#
# ## La idea
#
# El paso **hacia delante** (*feedforward*, *forward pass*) es evaluar la red: la entrada
# atraviesa las capas en orden y cada una transforma la salida de la anterior. No hay nada más:
# productos de matrices, sumas y activaciones. Lo único que añade minired es que cada capa
# **guarda** lo que necesitará después para el paso hacia atrás (*backward pass*): su caché
# (*cache*).
#
# ## Las matemáticas, en la notación del código
#
# Para una red de $K$ capas densas, numeradas $k = 1, \dots, K$ (la letra $L$ queda para la
# pérdida, *loss*, lección 5):
#
# $$
# \begin{aligned}
# a^{(0)} &= x \\
# z^{(k)} &= a^{(k-1)}\, W^{(k)} + b^{(k)} \\
# a^{(k)} &= f^{(k)}\big(z^{(k)}\big) \\
# \hat y &= a^{(K)}
# \end{aligned}
# $$
#
# La $z^{(k)}$ de la capa $k$ tiene forma `(N, units)`, con las `units` de esa capa.
#
# Todo el lote (*batch*) de $N$ ejemplos avanza a la vez: cada fila de $x$ es un ejemplo y cada
# fila de $\hat y$ su predicción (*prediction*). Con una salida `softmax`, cada fila de
# $\hat y$ es una distribución de probabilidad sobre las clases (suma 1); el índice del máximo
# es la clase predicha.
#
# Hay un argumento más: `training`. Algunas capas se comportan distinto al entrenar (el `Dropout`
# de la lección 8 apaga unidades solo con `training=True`). `fit` hace el paso hacia delante con
# `training=True`; `predict`, `evaluate` y una llamada directa `model(x)`, con `training=False`.
#
# ## Dónde verlo en el código
#
# - `minired/layers/dense.py`, `Dense.forward`: `z = x @ self.kernel` más `self.bias`,
#   `a = self.activation(z)`, y la caché `self.cache = DenseCache(x, z, a)`: la $x$ hará falta
#   para $\partial L / \partial W$, la $z$ y la $a$ para $f'$.
# - `minired/models/sequential.py`, `Sequential.forward`: el bucle
#   `for layer in self.layers: x = layer.forward(x, training=training)`.
# - `minired/trainers/trainer.py`, `Trainer.predict`: corta `x` en lotes de `batch_size`
#   (32 por defecto), llama a `forward(..., training=False)` y concatena los resultados.
# - `minired/models/sequential.py`, `Sequential._prepare_x`: comprueba `x` y la convierte al
#   tipo de coma flotante del modelo (`float64` pasa a `float32`, como hace Keras); si el modelo
#   no tenía `Input`, lo construye con la forma de `x`. `Layer.__call__`
#   (`minired/layers/layer.py`) hace lo mismo cuando llamas a una capa suelta.
#
# ## Pruébalo
#
# Calculamos a mano la salida de una red 4 → 8 → 3 con sus propios pesos y la comparamos con
# `predict`:
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((4,)),
    mr.layers.Dense(8, activation="relu"),
    mr.layers.Dense(3, activation="softmax"),
])
x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")   # N = 5 ejemplos

# Feedforward a mano, con los mismos pesos
W1, b1, W2, b2 = model.get_weights()
z1 = x @ W1 + b1                     # (5, 8)
a1 = np.maximum(z1, 0)               # relu
z2 = a1 @ W2 + b2                    # (5, 3): los logits
e = np.exp(z2 - z2.max(axis=1, keepdims=True))
a2 = e / e.sum(axis=1, keepdims=True)  # softmax

y_hat = model.predict(x, verbose=0)
print(y_hat.shape, y_hat.sum(axis=1).round(6))
print("máx. diferencia:", np.abs(y_hat - a2).max())

# %% [markdown]
# minired hace exactamente las mismas operaciones NumPy, así que la diferencia es 0. Con
# `import keras as mr` el programa también funciona; al escribir esta lección imprimió
# `máx. diferencia: 1.1920929e-07`: TensorFlow suma en otro orden y en `float32` eso cambia el
# último bit de algún resultado (`1.19e-07` es el épsilon de `float32`).
#
# ## Ejercicios
#
# 1. Imprime `z1.shape`, `a1.shape` y `z2.shape`. ¿Qué cambia si `x` tiene un solo ejemplo,
#    `x[:1]`? ¿Y si tiene 1000?
# 2. Compara `model.predict(x, verbose=0)` con `model(x)`. ¿Dan lo mismo? Busca en
#    `minired/models/sequential.py` qué hace `Sequential.__call__`.
# 3. Cambia `relu` por `tanh` en el modelo y en el cálculo a mano. ¿Sigue saliendo 0?
# 4. Quita la resta del máximo en el softmax a mano y multiplica `z2` por 1000. ¿Qué sale?
#    ¿Y en `model.predict` si multiplicas los pesos de la última capa por 1000 con
#    `set_weights`?
# 5. Después de `predict`, mira `model.layers[0].cache.x`, `.z` y `.a`: es la caché del último
#    lote que pasó por la capa.
