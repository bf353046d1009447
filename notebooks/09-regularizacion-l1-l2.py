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
# # 9. Regularización L1 y L2
#
# ## La idea
#
# Otra forma de frenar el sobreajuste (*overfitting*) es la regularización (*regularization*) que
# **penaliza los pesos grandes**: se suma a la pérdida (*loss*) una penalización (*penalty*)
# $R(W)$ que crece con el tamaño de los pesos. La red tiene entonces que ganarse cada peso grande
# con una mejora real de la pérdida de los datos.
#
# - **L2** ($\sum w^2$) encoge todos los pesos de forma proporcional: los grandes, mucho.
# - **L1** ($\sum \lvert w \rvert$) empuja con la misma fuerza a todos hacia cero y tiende a
#   dejar muchos pesos exactamente (o casi) en cero: pesos *dispersos* (*sparse*).
#
# ![Pérdida de entrenamiento y de validación de una red que sobreajusta: sin regularizar, con dropout, con L2 y con parada temprana](../docs/img/regularizacion.png)
#
# Con solo 100 puntos, la validación de la red sin regularizar sube mientras el entrenamiento baja; L2, el dropout (lección 8) y la parada temprana (lección 10) estrechan el hueco entre las dos curvas.
#
# ## Las matemáticas, en la convención de Keras
#
# | regularizador | $R(w)$ | $\partial R / \partial w$ | |
# |---|---|---|---|
# | `L1(l1)` | $\lambda_1 \sum_i \lvert w_i \rvert$ | $\lambda_1 \operatorname{sign}(w)$ | 0 en $w = 0$ |
# | `L2(l2)` | $\lambda_2 \sum_i w_i^2$ | $2\, \lambda_2\, w$ | ¡sin el factor $\tfrac12$! |
# | `L1L2(l1, l2)` | la suma de las dos | la suma de las dos | |
#
# (Aquí $\lambda_1$ y $\lambda_2$ son los factores `l1` y `l2`.) Muchos libros escriben
# $\frac{\lambda}{2} \sum w^2$ para que la derivada sea $\lambda w$; Keras **no** pone el
# $\tfrac12$, así que el gradiente (*gradient*) es $2\, \lambda_2\, w$. Al copiar un valor de
# $\lambda$ de un libro hay que dividirlo entre 2 para obtener $\lambda_2$.
#
# Una capa con `kernel_regularizer=R` suma $R(W)$ a la pérdida del lote (*batch*) **sin dividir
# entre el tamaño del lote**, y $\partial R / \partial W$ a $\partial L / \partial W$ en su
# paso hacia atrás (*backward pass*):
#
# $$
# L = L_{\text{datos}}(y, \hat y) + \sum_{\text{capas}} R(W), \qquad
# \frac{\partial L}{\partial W} = x^\top \delta_z + \frac{\partial R}{\partial W}.
# $$
#
# Con SGD puro, L2 es un **decaimiento de pesos** (*weight decay*):
#
# $$
# w \leftarrow w - \mathrm{lr}\,(g + 2\, \lambda_2\, w) = (1 - 2\, \mathrm{lr}\, \lambda_2)\, w - \mathrm{lr}\, g .
# $$
#
# Con Adam ya no: el término $2\, \lambda_2\, w$ entra en $g$ y Adam lo reescala peso a peso. Para
# un decaimiento desacoplado se usa `AdamW` (lección 7).
#
# Otros detalles del código: `L1()` y `L2()` valen 0.01 por defecto, pero `L1L2()` y la cadena
# `"l1l2"` tienen ambos factores a 0 (ninguna penalización). Y, como TensorFlow convierte el
# factor en un tensor `float32`, `L2(0.01)` multiplica por `0.009999999776482582` incluso en
# `float64` (la función `coefficient` de `regularizer.py`).
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 9](../docs/apendice-b-leer-el-codigo.md#leccion-9-regularizacion-l1-y-l2).
#
# ## Pruébalo: la penalización y su gradiente

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
w = np.array([1.0, -2.0, 0.0])
l1, l2 = mr.regularizers.L1(0.5), mr.regularizers.L2(0.5)
print("L1:", l1(w), l1.gradient(w))          # 0.5·Σ|w|,  0.5·sign(w)
print("L2:", l2(w), l2.gradient(w))          # 0.5·Σw² (sin ½),  2·0.5·w

# En un modelo: R(W) se suma a la pérdida y ∂R/∂W a ∂L/∂W
mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((3,)),
    mr.layers.Dense(2, kernel_regularizer=mr.regularizers.L2(0.01)),   # salida lineal
])
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(0)
x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
W, b = model.get_weights()
loss, (dW, db) = model.loss_and_gradients(x, y)

y_hat = x @ W + b
data_loss = np.mean((y_hat - y) ** 2)
l2_factor = float(np.float32(0.01))          # Keras redondea el factor a float32
print("L - pérdida de datos:", loss - data_loss)
print("l2·ΣW²              :", l2_factor * np.sum(W**2))
data_grad = x.T @ (2 * (y_hat - y) / y.size)
print("∂L/∂W = datos + 2·l2·W:", np.allclose(dW, data_grad + 2 * l2_factor * W, rtol=1e-12))

# %% [markdown]
# ## Pruébalo: el efecto sobre los pesos
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)

for name, reg in [("ninguno", None), ("L2(0.01)", mr.regularizers.L2(0.01)),
                  ("L1(0.001)", mr.regularizers.L1(0.001))]:
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((64,)),
                           mr.layers.Dense(32, activation="relu", kernel_regularizer=reg),
                           mr.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    W = model.get_weights()[0]
    print(f"{name:10s} ‖W‖={np.sqrt(np.sum(W**2)):6.2f}  |w|<1e-3: {np.mean(np.abs(W) < 1e-3):.0%}"
          f"  loss={history.history['loss'][-1]:.3f}  acc={history.history['accuracy'][-1]:.3f}")

# %% [markdown]
# La norma de $W$ baja con las dos penalizaciones, y L1 deja más de la cuarta parte de los pesos
# por debajo de $10^{-3}$. La `loss` que registra `fit` **incluye** la penalización: por eso es
# mayor con regularización aunque la exactitud (*accuracy*) apenas cambie. Con
# `import keras as mr` el programa imprime valores parecidos, no idénticos (otros pesos
# iniciales).
#
# ## Regularizar las activaciones: `activity_regularizer`
#
# Las mismas penalizaciones pueden ir sobre lo que una capa **produce** en lugar de sobre sus
# pesos: `Dense(64, activation="relu", activity_regularizer=L1(0.001))`. Con L1 sobre las
# activaciones, la red aprende representaciones en las que pocas neuronas se encienden a la vez
# (un *autoencoder disperso*, *sparse autoencoder*). Para las salidas $a$ de un lote de $N$
# muestras, Keras suma a la pérdida la penalización **dividida entre el tamaño del lote**
# (al revés que `kernel_regularizer`):
#
# $$
# R = \frac{r(a)}{N}, \qquad
# \delta_a \leftarrow \delta_a + \frac{\partial R}{\partial a} = \delta_a + \frac{r'(a)}{N} .
# $$
#
# El gradiente de la penalización entra en el paso hacia atrás **por $\delta_a$**, no por
# $\partial L / \partial W$: cambia el gradiente de los pesos de la capa regularizada y de todas
# las de debajo, pero no el de las capas de encima. En el código:
# `minired/layers/activity.py`.

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((3,)),
    mr.layers.Dense(4, activation="relu", activity_regularizer=mr.regularizers.L1(0.1)),
    mr.layers.Dense(2),
])
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(0)
x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
loss, grads = model.loss_and_gradients(x, y)
R = float(model.losses[0])                     # la penalización de esta pasada

W1, b1, W2, b2 = model.get_weights()
a = np.maximum(x @ W1 + b1, 0)                 # las activaciones de la capa oculta
y_hat = a @ W2 + b2
l1 = float(np.float32(0.1))                    # Keras redondea el factor a float32
print("R = l1·Σ|a|/N :", round(R, 12), round(l1 * np.abs(a).sum() / len(x), 12))
print("L = datos + R :", np.isclose(loss, np.mean((y_hat - y) ** 2) + R, rtol=1e-12))

# δa recibe además ∂R/∂a = l1·sign(a)/N: ∂L/∂W1 cambia, ∂L/∂W2 no
delta_a = 2 * (y_hat - y) / y.size @ W2.T + l1 * np.sign(a) / len(x)
delta_z = delta_a * (a > 0)
print("∂L/∂W1 = xᵀ δz:", np.allclose(grads[0], x.T @ delta_z, rtol=1e-12))

# %% [markdown]
# ## Ejercicios
#
# 1. Calcula a mano `L2(0.5)` y `L1(0.5)` sobre `[1, -2, 0]` y compara con la primera salida.
#
#     ??? note "Solución"
#         Con $w = [1, -2, 0]$: `L2(0.5)` da $0.5\,(1^2 + 2^2 + 0^2) = 2.5$ y su gradiente
#         $2 \cdot 0.5\, w = [1, -2, 0]$; `L1(0.5)` da $0.5\,(1 + 2 + 0) = 1.5$ y su gradiente
#         $0.5\,\operatorname{sign}(w) = [0.5, -0.5, 0]$. Coincide con las dos primeras líneas de la
#         salida (`L1: 1.5 [ 0.5 -0.5  0. ]` y `L2: 2.5 [ 1. -2.  0.]`).
#
# 2. Con `SGD(learning_rate=0.1)`, una `L2(0.01)` y un gradiente de datos nulo, ¿por cuánto se
#    multiplica cada peso en cada paso?
#
#     ??? note "Solución"
#         Con $g = 0$, $w \leftarrow w - \mathrm{lr} \cdot 2\lambda_2 w = (1 - 2 \cdot 0.1 \cdot 0.01)\,w
#         = 0.998\,w$: cada paso encoge cada peso un 0.2 %.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         l2 = mr.regularizers.L2(0.01)
#         w = np.array([1.0, -2.0, 0.5])
#         for step in range(3):
#             w = w - 0.1 * l2.gradient(w)             # SGD con gradiente de datos nulo
#             print(step + 1, np.round(w, 6))
#         print("factor por paso:", round(float(w[0] ** (1 / 3)), 6))
#         ```
#
#         ```text
#         1 [ 0.998 -1.996  0.499]
#         2 [ 0.996004 -1.992008  0.498002]
#         3 [ 0.994012 -1.988024  0.497006]
#         factor por paso: 0.998
#         ```
#
# 3. ¿Qué filas de $W$ (qué píxeles de entrada) quedan cerca de cero con L1? Pista: hay píxeles
#    de los bordes que casi nunca se encienden (`digits.data.max(axis=0)`).
#
#     ??? note "Solución"
#         Las filas de $W$ de los píxeles que siempre valen 0 no reciben gradiente de datos
#         ($\partial L / \partial W = x^\top \delta_z$ y esa columna de $x$ es nula), así que solo actúa
#         la penalización, que las lleva a cero. Con L1 caen también las de píxeles de los bordes que
#         casi nunca se encienden.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([mr.Input((64,)),
#                                mr.layers.Dense(32, activation="relu",
#                                                kernel_regularizer=mr.regularizers.L1(0.001)),
#                                mr.layers.Dense(10, activation="softmax")])
#         model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
#         model.fit(x, y, epochs=10, batch_size=32, verbose=0)
#         W = model.get_weights()[0]                   # (64, 32): una fila por píxel
#
#         row_size = np.abs(W).mean(axis=1)
#         small = np.flatnonzero(row_size < 0.01)
#         print("filas casi nulas (píxel):", small)
#         print("máximo de esos píxeles:  ", digits.data.max(axis=0)[small])
#         print("píxeles siempre apagados:", np.flatnonzero(digits.data.max(axis=0) == 0))
#         print(np.round(row_size.reshape(8, 8), 2))
#         ```
#
#         ```text
#         filas casi nulas (píxel): [ 0  7  8 16 23 24 31 32 39 40 47 48 56 57]
#         máximo de esos píxeles:   [ 0. 15.  2.  2.  8.  1.  1.  0.  0.  4.  6.  8.  1.  9.]
#         píxeles siempre apagados: [ 0 32 39]
#         [[0.   0.01 0.14 0.12 0.1  0.12 0.16 0.01]
#          [0.   0.09 0.15 0.11 0.14 0.17 0.06 0.01]
#          [0.   0.1  0.14 0.15 0.18 0.16 0.1  0.  ]
#          [0.   0.11 0.22 0.17 0.16 0.14 0.17 0.  ]
#          [0.   0.16 0.13 0.13 0.14 0.15 0.15 0.  ]
#          [0.   0.12 0.19 0.19 0.15 0.13 0.16 0.  ]
#          [0.   0.05 0.15 0.14 0.12 0.13 0.15 0.01]
#          [0.   0.01 0.11 0.12 0.11 0.15 0.12 0.08]]
#         ```
#
#         Son las columnas primera y última de la imagen de 8x8 (píxeles 0, 8, 16, …, y 7, 23,
#         31, …): los bordes izquierdo y derecho, donde los dígitos casi nunca llegan. Los
#         píxeles siempre apagados (0, 32, 39) salen todos; los demás tienen un máximo alto
#         pero se encienden en muy pocas imágenes, y L1, que empuja a todos los pesos hacia
#         cero con la misma fuerza, gana a su escasa señal.
#
# 4. `examples/digits.py` ya usa `L2(1e-4)` en su capa oculta (*hidden layer*). Quítala, o súbela a
#    `L2(1e-2)`, y compara la exactitud de test y el número de épocas (*epochs*) que entrena.
#
#     ??? note "Solución"
#         ```python
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#         x_train, x_test, y_train, y_test = train_test_split(
#             x, y, test_size=0.25, random_state=0, stratify=digits.target)
#
#         for name, reg in [("sin L2", None), ("L2(1e-4)", mr.regularizers.L2(1e-4)),
#                           ("L2(1e-2)", mr.regularizers.L2(1e-2))]:
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([
#                 mr.Input((64,)),
#                 mr.layers.Dense(128, activation="relu", kernel_regularizer=reg),
#                 mr.layers.Dropout(0.2),
#                 mr.layers.Dense(10, activation="softmax"),
#             ])
#             model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
#             early_stopping = mr.callbacks.EarlyStopping(monitor="val_loss", patience=5,
#                                                         restore_best_weights=True)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32, validation_split=0.15,
#                                 callbacks=[early_stopping], verbose=0)
#             accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
#             print(f"{name:9s} {len(history.epoch):3d} épocas, exactitud en test {accuracy:.3f}")
#         ```
#
#         ```text
#         sin L2     50 épocas, exactitud en test 0.976
#         L2(1e-4)   50 épocas, exactitud en test 0.976
#         L2(1e-2)  100 épocas, exactitud en test 0.967
#         ```
#
#         Quitar `L2(1e-4)` no cambia nada visible: es una penalización muy suave (la
#         red ya tiene dropout y parada temprana). Con `L2(1e-2)` entrena las 100 épocas sin
#         que la parada temprana llegue a cortar, y la exactitud baja un poco (0.967): la
#         penalización frena el crecimiento de los pesos, así que la pérdida de validación baja
#         más despacio y sigue mejorando, poco a poco, hasta el final.
