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
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 4](../docs/apendice-b-leer-el-codigo.md#leccion-4-feedforward-de-la-entrada-a-la-prediccion).
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
#
#     ??? note "Solución"
#         Solo cambia el primer eje, el del lote: $z^{(1)}$ y $a^{(1)}$ son `(N, 8)` y $z^{(2)}$ es
#         `(N, 3)`. Los pesos no dependen de $N$, así que la misma red sirve para cualquier tamaño de
#         lote (por eso `summary` escribe `None`). Con `x[:1]` el resultado sigue siendo 2-D, `(1, 3)`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         W1, b1, W2, b2 = model.get_weights()
#         x = np.random.default_rng(0).normal(size=(1000, 4)).astype("float32")
#         for n in (5, 1, 1000):
#             z1 = x[:n] @ W1 + b1
#             a1 = np.maximum(z1, 0)
#             z2 = a1 @ W2 + b2
#             print(f"N = {n:4d}:", z1.shape, a1.shape, z2.shape)
#         ```
#
#         ```text
#         N =    5: (5, 8) (5, 8) (5, 3)
#         N =    1: (1, 8) (1, 8) (1, 3)
#         N = 1000: (1000, 8) (1000, 8) (1000, 3)
#         ```
# 2. Compara `model.predict(x, verbose=0)` con `model(x)`. ¿Dan lo mismo? Busca en
#    `minired/models/sequential.py` qué hace `Sequential.__call__`.
#
#     ??? note "Solución"
#         Dan lo mismo. `Sequential.__call__` prepara `x` con `_prepare_x` (la pasa a `float32`) y
#         llama a `self.forward(x, training=False)`, de una vez y sin lotes; `predict` corta `x` en
#         lotes de 32 y hace el mismo `forward` con `training=False`. Con 5 ejemplos hay un solo lote,
#         y aunque hubiera varios cada fila se calcula igual. (En Keras, `model(x)` devuelve un tensor
#         y no un array de NumPy.)
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         x = np.random.default_rng(0).normal(size=(5, 4))         # float64
#         y_predict = model.predict(x, verbose=0)
#         y_call = model(x)
#         print(type(y_predict).__name__, y_predict.dtype, type(y_call).__name__, y_call.dtype)
#         print("máx. diferencia:", np.abs(y_predict - y_call).max())
#         ```
#
#         ```text
#         ndarray float32 ndarray float32
#         máx. diferencia: 0.0
#         ```
# 3. Cambia `relu` por `tanh` en el modelo y en el cálculo a mano. ¿Sigue saliendo 0?
#
#     ??? note "Solución"
#         Sí: basta cambiar `np.maximum(z1, 0)` por `np.tanh(z1)`, y minired usa el mismo
#         `np.tanh`, con las mismas operaciones en el mismo orden.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="tanh"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
#         W1, b1, W2, b2 = model.get_weights()
#         a1 = np.tanh(x @ W1 + b1)
#         z2 = a1 @ W2 + b2
#         e = np.exp(z2 - z2.max(axis=1, keepdims=True))
#         a2 = e / e.sum(axis=1, keepdims=True)
#         print("máx. diferencia:", np.abs(model.predict(x, verbose=0) - a2).max())
#         ```
#
#         ```text
#         máx. diferencia: 0.0
#         ```
# 4. Quita la resta del máximo en el softmax a mano y multiplica `z2` por 1000. ¿Qué sale?
#    ¿Y en `model.predict` si multiplicas los pesos de la última capa por 1000 con
#    `set_weights`?
#
#     ??? note "Solución"
#         Sin restar el máximo, $e^{z}$ con logits de miles se desborda a `inf`, e `inf / inf` da
#         `nan` (las filas cuyo máximo aún cabe en un `float32`, hasta unos 88, salen bien). En
#         `model.predict` los logits también se multiplican por 1000 (por ser la última capa lineal
#         antes del softmax), pero el softmax de minired resta el máximo de la fila y sale una
#         distribución válida, casi un *one-hot*: por fila, 1 en la clase con el mayor logit.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
#         W1, b1, W2, b2 = model.get_weights()
#         z2 = 1000 * (np.maximum(x @ W1 + b1, 0) @ W2 + b2)
#         with np.errstate(over="ignore", invalid="ignore"):
#             e = np.exp(z2)                       # sin restar el máximo
#             print("a mano:\n", (e / e.sum(axis=1, keepdims=True)).round(4))
#         model.set_weights([W1, b1, 1000 * W2, 1000 * b2])
#         print("predict:\n", model.predict(x, verbose=0).round(4))
#         ```
#
#         ```text
#         a mano:
#          [[ 0.  1.  0.]
#          [nan  0.  0.]
#          [ 1.  0.  0.]
#          [nan  0. nan]
#          [nan  0.  0.]]
#         predict:
#          [[0. 1. 0.]
#          [1. 0. 0.]
#          [1. 0. 0.]
#          [1. 0. 0.]
#          [1. 0. 0.]]
#         ```
# 5. Después de `predict`, mira `model.layers[0].cache.x`, `.z` y `.a`: es la caché del último
#    lote que pasó por la capa.
#
#     ??? note "Solución"
#         `predict` trabaja en lotes de 32 y cada `forward` sobrescribe la caché, así que con 40
#         ejemplos queda la del último lote, de 8: `x` `(8, 4)`, `z` y `a` `(8, 8)`, con
#         $a = \operatorname{relu}(z)$.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
#         model.predict(x, verbose=0)              # lotes de 32: el último tiene 8 ejemplos
#         cache = model.layers[0].cache
#         print(cache.x.shape, cache.z.shape, cache.a.shape)
#         print("x del último lote:", np.array_equal(cache.x, x[32:]))
#         print("a = relu(z):", np.array_equal(cache.a, np.maximum(cache.z, 0)))
#         ```
#
#         ```text
#         (8, 4) (8, 8) (8, 8)
#         x del último lote: True
#         a = relu(z): True
#         ```
