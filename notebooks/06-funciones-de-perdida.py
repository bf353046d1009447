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
# # 6. Funciones de pérdida
#
# ## La idea
#
# La pérdida (*loss*) convierte «qué tan mal lo hace la red en este lote (*batch*)» en un solo
# número $L$, y su gradiente (*gradient*) $\partial L / \partial \hat y$ es lo que arranca el
# paso hacia atrás (*backward pass*). Se calcula en dos pasos, como en Keras: una pérdida
# $\ell_n$ por ejemplo y luego la reducción, por defecto `"sum_over_batch_size"`:
#
# $$
# L = \frac{1}{N} \sum_n s_n\, \ell_n ,
# $$
#
# con pesos por ejemplo $s_n$ opcionales (`sample_weight`; 1 si no se dan). El divisor es $N$,
# no $\sum_n s_n$.
#
# | pérdida | problema | salida típica | $\ell_n$ por ejemplo |
# |---|---|---|---|
# | `MeanSquaredError` (`"mse"`) | regresión | lineal | $\frac{1}{D} \sum_d (y_d - \hat y_d)^2$ |
# | `BinaryCrossentropy` | sí/no, multietiqueta | `sigmoid` | $-\frac{1}{D} \sum_d \big[y_d \log p_d + (1-y_d) \log(1-p_d)\big]$ |
# | `CategoricalCrossentropy` | clases, $y$ one-hot | `softmax` | $-\sum_c y_c \log p_c$ |
# | `SparseCategoricalCrossentropy` | clases, $y$ entero $c$ | `softmax` | $-\log p_c$ |
#
# ($D$ es el número de salidas y $p$ la probabilidad que predice la red; «$y$ one-hot» es la
# clase escrita como un vector de ceros con un 1 en su posición, la codificación *one-hot*.) Una
# comprobación útil: una red recién creada con $C$ clases predice más o menos uniforme, así que
# su entropía cruzada (*cross-entropy*) inicial debería rondar $\ln C$.
#
# ## Por qué la entropía cruzada se calcula desde los logits
#
# Si la salida es $p = \operatorname{softmax}(z)$ y calculamos $-\log p_c$, aparecen dos
# problemas numéricos. Con *logits* (la $z$ de la última capa) grandes, $p_c$ se redondea a
# exactamente 0 en `float32` y $-\log 0 = \infty$. Para evitarlo, la fórmula «desde
# probabilidades» de Keras **recorta** (*clipping*):
# $\tilde p = \operatorname{clip}(p, \varepsilon, 1 - \varepsilon)$ con $\varepsilon = 10^{-7}$.
# Pero entonces la pérdida de un ejemplo nunca pasa de $-\log \varepsilon \approx 16.12$, y,
# peor, donde el recorte actúa **el gradiente es cero**: una predicción saturada y equivocada
# deja de aprender justo cuando más lo necesita.
#
# Keras sobre TensorFlow lo resuelve en silencio (solo sobre TensorFlow: lo vemos al final de
# la sección *Pruébalo*): cuando la última capa es un `softmax` (o un `sigmoid`) y la pérdida es
# una entropía cruzada, lee los **logits** $z$ que hay detrás de las probabilidades y calcula la
# pérdida desde ellos. minired hace lo mismo, pero a la vista:
#
# $$
# \begin{aligned}
# \log \operatorname{softmax}(z)_c &= (z_c - \max z) - \log \sum_j e^{z_j - \max z} \\
# \ell &= -\sum_c y_c \log \operatorname{softmax}(z)_c \\
# \frac{\partial \ell}{\partial z} &= \operatorname{softmax}(z) \sum_c y_c - y = p - y
# \qquad (y \text{ one-hot})
# \end{aligned}
# $$
#
# La primera línea nunca toma $\log 0$; la última es el **gradiente fusionado**. Encadenar
# $\partial \ell / \partial p = -y / p$ con el jacobiano del softmax da exactamente $p - y$: en
# lugar de dos pasos (y una división por un $p$ que puede ser 0), una resta estable. Para la
# sigmoide con `BinaryCrossentropy`:
# $\ell = \max(z, 0) - z\,y + \log\big(1 + e^{-\lvert z \rvert}\big)$ y
# $\partial \ell / \partial z = \sigma(z) - y$ (dividido entre las $D$ salidas).
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 6](../docs/apendice-b-leer-el-codigo.md#leccion-6-funciones-de-perdida).
#
# ## Pruébalo

# %%
import numpy as np

import minired as mr

y_onehot = np.array([[0.0, 1.0, 0.0]])
labels = np.array([1])
p = np.array([[0.2, 0.7, 0.1]])
print("CCE       ", round(mr.losses.CategoricalCrossentropy()(y_onehot, p), 4))    # -log 0.7
print("sparse CCE", round(mr.losses.SparseCategoricalCrossentropy()(labels, p), 4))
print("BCE       ", round(mr.losses.BinaryCrossentropy()([[1.0]], [[0.7]]), 4))
print("MSE       ", round(mr.losses.MeanSquaredError()([[1.0, 2.0]], [[1.5, 2.0]]), 4))
print("-log 0.7  ", round(-np.log(0.7), 4))
# Una red recién creada con C clases debería empezar con pérdida ≈ ln C
print("ln 10     ", round(np.log(10), 4),
      round(mr.losses.CategoricalCrossentropy()(np.eye(10), np.full((10, 10), 0.1)), 4))

# %% [markdown]
# Ahora los dos caminos, con logits normales y con logits saturados:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
cce = mr.losses.CategoricalCrossentropy()
softmax = mr.activations.softmax
y = np.array([[0.0, 1.0, 0.0]])                        # la clase correcta es la 1

for z in [np.array([[1.0, 2.0, 0.5]]),                 # logits normales
          np.array([[60.0, -50.0, 0.0]])]:              # saturados y muy equivocados
    p = softmax(z)
    # Camino de las probabilidades: ℓ(p) con p recortada a [ε, 1-ε], y luego el Jacobiano
    loss_p, grad_p = cce.value_and_gradient(y, p)
    grad_z_via_p = softmax.backward(z, p, grad_p) + 0.0
    # Camino de los logits: log_softmax estable y el gradiente fusionado p - y
    loss_z, grad_z = cce.value_and_gradient(y, z, from_logits=True)
    print("z =", z[0], " p =", p[0].round(4))
    print("  pérdida  desde p:", round(loss_p, 4), "  desde z:", round(loss_z, 4))
    print("  δz       desde p:", grad_z_via_p[0].round(4), "  desde z:", grad_z[0].round(4))
print("tope -log ε =", round(-np.log(mr.config.epsilon()), 4))

# %% [markdown]
# Con logits normales los dos caminos coinciden y $\delta_z = p - y$. Saturados,
# $p_1 = e^{-110}$ queda por debajo de $\varepsilon$: el camino de las probabilidades devuelve
# el tope 16.12 y un gradiente nulo; el de los logits, la pérdida verdadera (110) y $p - y$,
# que empuja con fuerza.
#
# Lo mismo dentro de un modelo, donde nadie escribe `from_logits`:
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

rng = np.random.default_rng(0)
x = rng.normal(size=(8, 4)).astype("float32")
y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=8)]

model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
W = (50 * rng.normal(size=(4, 3))).astype("float32")       # pesos enormes: logits saturados
model.set_weights([W, np.zeros(3, dtype="float32")])

p = model.predict(x, verbose=0)
print("probabilidades redondeadas a 0 o 1:", np.mean((p == 0) | (p == 1)))
clipped = float(mr.losses.CategoricalCrossentropy()(y, p))   # desde p: recorta a [ε, 1-ε]
print("pérdida desde p (recortada):", round(clipped, 3))
print("model.evaluate (logits)    :", round(model.evaluate(x, y, verbose=0), 3))

# %% [markdown]
# Con `import keras as mr` este programa imprimió exactamente lo mismo: Keras también evalúa
# desde los logits sin decirlo. Pero eso vale **solo con el backend de TensorFlow**, el que
# instala este curso. El atajo está en `keras/src/backend/tensorflow/nn.py`, que busca los logits
# detrás de un softmax o una sigmoide (el atributo `_keras_logits` del tensor, o la operación
# que lo produjo). Las mismas funciones de los backends de JAX y de PyTorch
# (`keras/src/backend/jax/nn.py`, `keras/src/backend/torch/nn.py`, que se eligen con
# `KERAS_BACKEND=jax` o `KERAS_BACKEND=torch`) no buscan nada: recortan las probabilidades a
# $[\varepsilon, 1 - \varepsilon]$, así que allí `model.evaluate` daría una pérdida recortada,
# como la de la segunda línea, y el gradiente de los ejemplos saturados sería cero. Si quieres
# el mismo comportamiento en los tres backends, usa una última capa lineal y
# `from_logits=True`. Las comparaciones con Keras (sobre TensorFlow) lo comprueban con pesos
# multiplicados por 200:
#
# ```bash
# .venv/bin/python -m comparisons saturation
# ```
#
# Cada caso compara la pérdida y los gradientes de minired con los de Keras, y en la sección
# *Notes* del informe (`reports/comparisons/summary.md`) anota lo lejos que queda la fórmula
# recortada de ambos («logits path … vs clipped probabilities …»).
#
# ## Ejercicios
#
# 1. Construye y compila el modelo de `examples/digits.py` y, antes de `fit`, llama a
#    `model.evaluate(x_test, y_test)`. ¿Se parece la pérdida a $\ln 10$?
#
#     ??? note "Solución"
#         Sí: con los pesos iniciales, pequeños, los logits están cerca de 0 y el softmax da casi
#         $1/10$ a cada clase, así que $-\log p \approx \ln 10 \approx 2.3026$ (la pérdida incluye también
#         la pequeña penalización L2, lección 9). Una pérdida inicial muy distinta de $\ln C$ suele
#         delatar una inicialización o unos datos mal preparados. La exactitud está cerca del azar,
#         $1/10$.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#         x_train, x_test, y_train, y_test = train_test_split(
#             x, y, test_size=0.25, random_state=0, stratify=digits.target)
#
#         model = mr.Sequential([
#             mr.Input((64,)),
#             mr.layers.Dense(128, activation="relu", kernel_regularizer=mr.regularizers.L2(1e-4)),
#             mr.layers.Dropout(0.2),
#             mr.layers.Dense(10, activation="softmax"),
#         ])
#         model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
#         loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
#         print(f"antes de fit: pérdida {loss:.4f}, exactitud {accuracy:.3f}; ln 10 = {np.log(10):.4f}")
#         ```
#
#         ```text
#         antes de fit: pérdida 2.2991, exactitud 0.178; ln 10 = 2.3026
#         ```
# 2. Repite el segundo fragmento con `mr.losses.BinaryCrossentropy()`, `y = [[1.0]]`,
#    `z = [[-40.0]]` y `mr.activations.sigmoid`. ¿Qué da cada camino?
#
#     ??? note "Solución"
#         $p = \sigma(-40) \approx 4 \cdot 10^{-18}$ queda por debajo de $\varepsilon$. El camino de las
#         probabilidades recorta $p$ a $\varepsilon$: devuelve el tope $-\log \varepsilon \approx 16.12$ y un
#         gradiente nulo, porque el recorte está activo. El de los logits calcula
#         $\ell = \log(1 + e^{-z}) \approx 40$ de forma estable y $\delta_z = p - y \approx -1$, que empuja
#         con fuerza a subir $z$.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         bce = mr.losses.BinaryCrossentropy()
#         sigmoid = mr.activations.sigmoid
#         y = np.array([[1.0]])
#         z = np.array([[-40.0]])
#         p = sigmoid(z)
#         loss_p, grad_p = bce.value_and_gradient(y, p)
#         grad_z_via_p = sigmoid.backward(z, p, grad_p) + 0.0
#         loss_z, grad_z = bce.value_and_gradient(y, z, from_logits=True)
#         print(f"p = {p[0, 0]:.3g}")
#         print("pérdida  desde p:", round(loss_p, 4), "  desde z:", round(loss_z, 4))
#         print("δz       desde p:", grad_z_via_p[0].round(4), "  desde z:", grad_z[0].round(4))
#         ```
#
#         ```text
#         p = 4.25e-18
#         pérdida  desde p: 16.1181   desde z: 40.0
#         δz       desde p: [0.]   desde z: [-1.]
#         ```
# 3. Con `from_logits=True` y una salida lineal (`Dense(3)`), `predict` devuelve logits, no
#    probabilidades. ¿Cómo obtienes las probabilidades?
#
#     ??? note "Solución"
#         Aplicando tú el softmax a la salida de `predict`, `mr.activations.softmax(logits)` (en
#         Keras, `keras.ops.softmax`): cada fila suma 1 y el argmax, la clase predicha, no cambia.
#         Con una salida binaria y `BinaryCrossentropy(from_logits=True)` sería la sigmoide.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3)])
#         model.compile(optimizer="adam",
#                       loss=mr.losses.CategoricalCrossentropy(from_logits=True))
#         x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
#         logits = model.predict(x, verbose=0)
#         p = mr.activations.softmax(logits)
#         print("logits:\n", logits.round(4))
#         print("probabilidades:\n", p.round(4))
#         print("suman:", p.sum(axis=1).round(4))
#         ```
#
#         ```text
#         logits:
#          [[-0.5563  0.7421  0.029 ]
#          [-0.1313  1.0493  1.359 ]]
#         probabilidades:
#          [[0.1548 0.5672 0.278 ]
#          [0.115  0.3745 0.5105]]
#         suman: [1. 1.]
#         ```
# 4. Da pesos por ejemplo (`sample_weight`) `[1, 0]` a un lote de dos ejemplos con MSE. ¿Se
#    divide entre 1 o entre 2? Compruébalo con `Loss.__call__`.
#
#     ??? note "Solución"
#         Entre 2. La reducción por defecto, como `"sum_over_batch_size"` en Keras, divide
#         $\sum_n s_n \ell_n$ entre el número de ejemplos $N$, no entre $\sum_n s_n$: con $\ell = (1, 9)$
#         y pesos $[1, 0]$ da $1 / 2 = 0.5$, no 1.
#
#         ```python
#         import minired as mr
#
#         mse = mr.losses.MeanSquaredError()
#         y_true = [[0.0], [0.0]]
#         y_pred = [[1.0], [3.0]]                  # ℓ = 1 y 9
#         print("sin pesos:   ", mse(y_true, y_pred))
#         print("pesos [1, 0]:", mse(y_true, y_pred, sample_weight=[1.0, 0.0]))
#         ```
#
#         ```text
#         sin pesos:    5.0
#         pesos [1, 0]: 0.5
#         ```
