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
# # 5. Backpropagation y descenso del gradiente
#
# ## La idea
#
# Entrenar es bajar por la pérdida (*loss*) $L$: mover cada peso un poco en la dirección
# contraria a su gradiente (*gradient*),
#
# $$
# w \leftarrow w - \mathrm{lr} \cdot \frac{\partial L}{\partial w},
# $$
#
# donde $\mathrm{lr}$ es la tasa de aprendizaje (*learning rate*). Es el **descenso del
# gradiente** (*gradient descent*). Para eso hace falta $\partial L / \partial w$ para *todos*
# los pesos, y la **retropropagación** (*backpropagation*) es la forma eficiente de obtenerlos:
# la regla de la cadena aplicada desde la salida hacia la entrada, reutilizando en cada capa el
# gradiente que llega de la de arriba.
#
# En la práctica no se usa todo el conjunto de datos en cada paso, sino **minilotes**
# (*mini-batches*): `fit` baraja (*shuffle*) los datos en cada época (*epoch*), los corta en
# lotes de `batch_size` (32 por defecto; el último lote, más pequeño, se conserva) y da un
# paso por lote. Eso es el descenso del gradiente estocástico (*stochastic gradient descent*,
# SGD).
#
# ## Las matemáticas, en la notación del código
#
# Cada gradiente que viaja hacia atrás se escribe $\delta$ con el nombre de su array:
# $\delta_a = \partial L / \partial a$, $\delta_z = \partial L / \partial z$,
# $\delta_x = \partial L / \partial x$ (en el código, `δa`, `δz`, `δx`). Una capa `Dense`
# recibe $\delta_a$, de forma `(N, units)`, y calcula:
#
# $$
# \begin{aligned}
# \delta_z &= f'(z) \odot \delta_a \\
# \frac{\partial L}{\partial W} &= x^\top \delta_z \\
# \frac{\partial L}{\partial b} &= \sum_n \delta_{z,n} \\
# \delta_x &= \delta_z\, W^\top
# \end{aligned}
# $$
#
# - $\delta_z$ es el paso hacia atrás (*backward pass*) de la activación ($\odot$: producto
#   elemento a elemento);
# - $\partial L / \partial W$ tiene forma `(in, units)`: el producto de matrices suma sobre los
#   $N$ ejemplos;
# - $\partial L / \partial b$ tiene forma `(units,)`; $\delta_{z,n}$ es la fila $n$ de $\delta_z$;
# - $\delta_x$ tiene forma `(N, in)` y es el $\delta_a$ de la capa de abajo.
#
# En una red de $K$ capas (lección 4), el modelo empieza con
# $\delta_a^{(K)} = \partial L / \partial \hat y$, que da la pérdida, y recorre las capas al
# revés: la capa $k$ recibe $\delta_a^{(k)}$ y devuelve
# $\delta_x^{(k)} = \delta_a^{(k-1)}$ (`layer.backward`).
#
# La pérdida es la **media** sobre el lote,
#
# $$
# L = \frac{1}{N} \sum_n \ell_n ,
# $$
#
# así que su gradiente ya lleva el $1/N$: la suma $x^\top \delta_z$ sobre los ejemplos es
# entonces un promedio. Eso hace que la **escala** del gradiente no dependa del tamaño del
# lote: con 8 o con 512 ejemplos, $\partial L / \partial W$ es del mismo orden, mientras que con
# la suma crecería con $N$. Lo que la media *no* consigue es que la mejor tasa de aprendizaje
# deje de depender del lote. Un lote pequeño da un gradiente más ruidoso (el ruido del
# gradiente, *gradient noise*: su varianza baja como $1/N$), que suele pedir pasos más cortos;
# un lote grande da un gradiente más fiable pero menos pasos por época. Por eso, al cambiar
# `batch_size` hay que volver a ajustar la tasa. Una receta habitual es la **regla de escalado
# lineal** (*linear scaling rule*, Goyal et al., 2017): multiplicar el lote y la tasa por el
# mismo factor (el doble de lote, el doble de tasa), con un calentamiento (*warm-up*) de tasas
# pequeñas al principio; funciona hasta cierto tamaño de lote, no siempre.
#
# Un paso de entrenamiento (`Trainer.train_step`):
#
# 1. paso hacia delante (*forward pass*) con `training=True` → $\hat y$;
# 2. pérdida $L = \mathrm{loss}(y, \hat y) + \sum R(W)$ (las penalizaciones $R$, en la
#    lección 9);
# 3. paso hacia atrás → $\partial L / \partial w$ para cada peso;
# 4. `optimizer.apply(gradientes, pesos)`: los pesos se mueven (con SGD,
#    $w \leftarrow w - \mathrm{lr} \cdot g$, con $g = \partial L / \partial w$).
#
# ![Grafo de una neurona con los valores hacia delante en negro y los gradientes hacia atrás en rojo](../docs/img/grafo-backprop.png)
#
# Un ejemplo con números, `Dense(1, activation="sigmoid")` y pérdida `mse`: cada gradiente rojo es el de arriba por la derivada local, y `loss_and_gradients` da los mismos.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 5](../docs/apendice-b-leer-el-codigo.md#leccion-5-backpropagation-y-descenso-del-gradiente).
#
# ## Pruébalo: backpropagation a mano
#
# En `float64`, para que la comparación no tenga ruido de redondeo:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")          # para comparar sin ruido de redondeo
mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((3,)),
    mr.layers.Dense(4, activation="tanh"),
    mr.layers.Dense(2),                  # salida lineal
])
model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss="mse")
rng = np.random.default_rng(1)
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
N, D = y.shape

# Paso hacia delante, guardando lo que necesitará el paso hacia atrás
W1, b1, W2, b2 = model.get_weights()
z1 = x @ W1 + b1
a1 = np.tanh(z1)
y_hat = a1 @ W2 + b2

# Backward: la regla de la cadena, de la salida hacia la entrada
delta2 = 2 * (y_hat - y) / (N * D)       # ∂L/∂ŷ del MSE medio (salida lineal: δz² = δa²)
dW2, db2 = a1.T @ delta2, delta2.sum(axis=0)
delta_a1 = delta2 @ W2.T                 # δx de la capa 2 = δa¹
delta1 = delta_a1 * (1 - a1**2)          # tanh'(z) = 1 - a²
dW1, db1 = x.T @ delta1, delta1.sum(axis=0)

loss, grads = model.loss_and_gradients(x, y)
print("L =", round(loss, 6))
for name, ours, lib in zip(["W1", "b1", "W2", "b2"], [dW1, db1, dW2, db2], grads):
    print(f"∂L/∂{name}", np.abs(ours - lib).max())

# Un paso de descenso del gradiente: w <- w - lr·∂L/∂w
expected = [w - 0.1 * g for w, g in zip(model.get_weights(), grads)]
model.train_on_batch(x, y)
print("paso SGD:", max(np.abs(w - e).max() for w, e in zip(model.get_weights(), expected)))

# %% [markdown]
# Las diferencias son del orden de $10^{-17}$: el redondeo de `float64`.
#
# ## Pruébalo: la tasa de aprendizaje
#
# El mismo modelo, 100 pasos de descenso del gradiente escritos a mano con cuatro tasas:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh"), mr.layers.Dense(2)])
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(1)
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
start = model.get_weights()

for lr in [0.01, 0.1, 1.0, 3.0]:
    model.set_weights(start)
    losses = []
    for step in range(100):
        loss, grads = model.loss_and_gradients(x, y)
        losses.append(loss)
        model.set_weights([w - lr * g for w, g in zip(model.get_weights(), grads)])
    print(f"lr={lr:<5} L: {losses[0]:.4f} -> {losses[-1]:.4g}")

# %% [markdown]
# Una tasa pequeña avanza despacio; una demasiado grande hace que cada paso se pase de largo y
# la pérdida **diverja**. Dentro del `fit` de minired, una pérdida `inf` o `nan` detiene el
# entrenamiento con un `ValueError` que dice en qué época y lote ocurrió. Eso es una decisión de
# minired, **no** lo que hace Keras: el `fit` de Keras sigue entrenando hasta la última época y
# apunta `nan` en `History` (una vez que la pérdida es `nan`, los pesos también lo son y ya no
# se recuperan). Para que Keras pare hay que pedírselo con el callback
# `keras.callbacks.TerminateOnNaN()`, que detiene el entrenamiento al final del lote en el que
# la pérdida sale `nan` o `inf` (`keras/src/callbacks/terminate_on_nan.py`).
#
# ![Caminos de SGD, momentum, RMSprop y Adam sobre un valle alargado, y un SGD con tasa demasiado grande que diverge](../docs/img/descenso-del-gradiente.png)
#
# Arriba a la derecha, SGD con una tasa demasiado grande: en la dirección empinada cada paso multiplica $w_2$ por $-1.2$ y el camino se aleja del mínimo.
#
# Estos fragmentos no funcionan con `import keras as mr`: `loss_and_gradients` es de minired.
# En Keras los gradientes salen de `tf.GradientTape`; `keras_loss_and_gradients` en
# `comparisons/common.py` muestra cómo, y el apéndice A compara los dos.
#
# ## Ejercicios
#
# 1. Cambia la capa oculta (*hidden layer*) a `sigmoid` y adapta la línea `delta1`
#    ($\sigma'(z) = a\,(1 - a)$).
#
#     ??? note "Solución"
#         Cambian dos líneas: la activación del paso hacia delante, $a^{(1)} = 1/(1 + e^{-z^{(1)}})$,
#         y la derivada, `delta1 = delta_a1 * a1 * (1 - a1)`. Como en el fragmento, los gradientes
#         coinciden con los de `loss_and_gradients` hasta el redondeo de `float64`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([
#             mr.Input((3,)),
#             mr.layers.Dense(4, activation="sigmoid"),
#             mr.layers.Dense(2),
#         ])
#         model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss="mse")
#         rng = np.random.default_rng(1)
#         x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
#         N, D = y.shape
#
#         W1, b1, W2, b2 = model.get_weights()
#         a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
#         y_hat = a1 @ W2 + b2
#         delta2 = 2 * (y_hat - y) / (N * D)
#         dW2, db2 = a1.T @ delta2, delta2.sum(axis=0)
#         delta1 = (delta2 @ W2.T) * a1 * (1 - a1)     # σ'(z) = a(1 - a)
#         dW1, db1 = x.T @ delta1, delta1.sum(axis=0)
#
#         loss, grads = model.loss_and_gradients(x, y)
#         for name, ours, lib in zip(["W1", "b1", "W2", "b2"], [dW1, db1, dW2, db2], grads):
#             print(f"∂L/∂{name} coincide:", np.allclose(ours, lib, rtol=0, atol=1e-15))
#         ```
#
#         ```text
#         ∂L/∂W1 coincide: True
#         ∂L/∂b1 coincide: True
#         ∂L/∂W2 coincide: True
#         ∂L/∂b2 coincide: True
#         ```
# 2. Sustituye el bucle del segundo fragmento por `model.train_on_batch(x, y)` con
#    `mr.optimizers.SGD(learning_rate=lr)` (créalo después de `set_floatx`). ¿Obtienes las
#    mismas pérdidas?
#
#     ??? note "Solución"
#         Sí, las mismas. `train_on_batch` devuelve la pérdida calculada en el paso hacia delante,
#         antes de mover los pesos, igual que `losses.append(loss)` antes del `set_weights` del bucle,
#         y SGD sin momentum hace exactamente $w \leftarrow w - \mathrm{lr} \cdot g$. Hay que compilar
#         de nuevo con cada tasa; con `lr=3.0` la pérdida diverge igual (fuera de `fit` no salta
#         el `ValueError`).
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh"), mr.layers.Dense(2)])
#         rng = np.random.default_rng(1)
#         x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
#         start = model.get_weights()
#
#         for lr in [0.01, 0.1, 1.0, 3.0]:
#             model.set_weights(start)
#             model.compile(optimizer=mr.optimizers.SGD(learning_rate=lr), loss="mse")
#             losses = [model.train_on_batch(x, y) for step in range(100)]
#             print(f"lr={lr:<5} L: {losses[0]:.4f} -> {losses[-1]:.4g}")
#         ```
#
#         ```text
#         lr=0.01  L: 1.1420 -> 0.9338
#         lr=0.1   L: 1.1420 -> 0.4156
#         lr=1.0   L: 1.1420 -> 0.3168
#         lr=3.0   L: 1.1420 -> 1.381e+220
#         ```
# 3. Si la pérdida fuera la **suma** sobre el lote en vez de la media, ¿qué tasa de aprendizaje
#    daría los mismos pasos que $\mathrm{lr} = 0.1$ con lotes de 32? ¿Seguiría valiendo esa tasa
#    con lotes de 128?
#
#     ??? note "Solución"
#         Con la suma, el gradiente es $N$ veces el de la media:
#         $\partial L_{\text{suma}} / \partial w = N \, \partial L_{\text{media}} / \partial w$. Para
#         dar los mismos pasos hay que dividir la tasa entre $N$: $\mathrm{lr} = 0.1 / 32 = 0.003125$.
#         Con lotes de 128 esa tasa ya no vale: el gradiente suma cuatro veces más ejemplos y los
#         pasos serían unas cuatro veces más largos (como $\mathrm{lr} = 0.4$ con la media); haría falta
#         $0.1 / 128 \approx 0.00078$. Por eso se usa la media: la escala del gradiente no depende del
#         tamaño del lote.
# 4. ¿Por qué `backward` no actualiza los pesos él mismo? Piensa en `loss_and_gradients` y en
#    la comprobación numérica del apéndice A.
#
#     ??? note "Solución"
#         Porque calcular gradientes y usarlos son cosas distintas. `loss_and_gradients` necesita
#         los gradientes **sin tocar** los pesos, y la comprobación numérica del apéndice A compara
#         esos gradientes con diferencias finitas evaluadas en los mismos pesos: si `backward` los
#         moviera, cada comprobación cambiaría el modelo. Además, cómo se da el paso lo decide el
#         optimizador (SGD, momentum, Adam, con su estado), y las penalizaciones de la lección 9
#         suman su gradiente antes del paso. Así `backward` solo acumula $\partial L / \partial w$ y
#         `optimizer.apply` mueve los pesos.
#
# Cuando la red deja de ser una línea (conexiones residuales, varias entradas o salidas, una
# capa llamada dos veces), la retropropagación es la misma con una regla más, que cuenta la
# [lección 13](../docs/13-backpropagation-en-un-grafo.md): donde un array se bifurca, los gradientes se suman.
