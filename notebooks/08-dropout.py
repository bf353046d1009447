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
# # 8. Dropout
#
# ## La idea
#
# Una red grande puede memorizar el conjunto de entrenamiento (*training set*), el
# sobreajuste (*overfitting*): unas pocas unidades aprenden a depender unas de otras para
# reconocer ejemplos concretos. El **dropout** (a veces traducido «desactivación aleatoria») lo
# dificulta: en cada paso de entrenamiento apaga al azar una fracción `rate` de las
# activaciones, de modo que ninguna unidad puede contar con que otra esté ahí. Es como entrenar
# a la vez muchas redes más pequeñas que comparten pesos. Al predecir (en inferencia,
# *inference*) no se apaga nada.
#
# ![Una red 4-6-6-2 con tres máscaras de dropout distintas en entrenamiento y la red completa en inferencia](../docs/img/dropout-mascaras.png)
#
# Las máscaras son las que sortean dos capas `mr.layers.Dropout(0.5, seed=...)` en tres llamadas con `training=True` (`layer.mask`); en inferencia no hay máscara.
#
# ## Las matemáticas, en la notación del código
#
# Keras usa **dropout invertido** (*inverted dropout*): escala en el entrenamiento, no en la
# inferencia. Con `training=True`, cada llamada sortea $u \sim U[0, 1)$ y forma la máscara
# $m = \mathbb{1}[u \ge \mathrm{rate}]$ (1 conserva, 0 apaga); el paso hacia delante (*forward
# pass*) y el paso hacia atrás (*backward pass*) usan la misma máscara y la misma escala:
#
# $$
# a = \frac{x \odot m}{1 - \mathrm{rate}}, \qquad
# \mathbb{E}[a] = x, \qquad
# \delta_x = \frac{\delta_a \odot m}{1 - \mathrm{rate}}.
# $$
#
# Con `training=False` la capa es la identidad: $a = x$ y $\delta_x = \delta_a$.
#
# La escala $1/(1 - \mathrm{rate})$ compensa las unidades apagadas para que el valor esperado de
# cada activación sea el mismo en entrenamiento y en inferencia; por eso `predict` no tiene que
# corregir nada. Los tres errores típicos de las implementaciones caseras son: hacer el paso
# hacia atrás sin la máscara, dejar el dropout activo al predecir y escalar dos veces (al
# entrenar y al predecir).
#
# ## Dónde verlo en el código
#
# - `minired/layers/dropout.py`: `Dropout.forward` sortea $u$, guarda la máscara y la escala
#   (en el tipo de la entrada) en su caché, `self.cache = (mask, scale)`, y devuelve
#   `inputs * scale * mask`; con `training=False` devuelve `inputs` tal cual (y lo dice
#   `passes_logits_through`). `Dropout.backward` multiplica por la misma escala y máscara.
#   `noise_shape` permite compartir la máscara entre ejes, y `seed` fija el generador de la
#   capa (sin `seed`, lo saca del flujo aleatorio del dropout que reinicia
#   `mr.utils.set_random_seed`).
# - `minired/trainers/trainer.py`: `train_step` hace el paso hacia delante con `training=True`;
#   `test_step` (usado por `evaluate` y por la validación) y `predict`, con `training=False`.
# - `comparisons/dropout.py`: como TensorFlow sortea sus máscaras con otro generador, la
#   comparación con Keras se hace de dos formas: pasando a Keras la máscara de minired
#   (`same_mask`) y comprobando estadísticamente que cada biblioteca conserva una fracción
#   $1 - \mathrm{rate}$ de las entradas (`keep_rate`).
#
# ## Pruébalo: la capa sola

# %%
import numpy as np

import minired as mr

layer = mr.layers.Dropout(0.5, seed=0)
x = np.ones((2, 8), dtype="float32")

print(layer(x, training=True))             # entrenamiento: la mitad a 0, el resto × 1/(1-0.5)
mask, scale = layer.cache                  # lo que necesita el paso hacia atrás: m y 1/(1-rate)
print("máscara:", mask[0], "escala:", scale)
print(layer(x, training=False))            # inferencia: la identidad

# El paso hacia atrás usa la misma máscara y la misma escala
layer(x, training=True)
mask, scale = layer.cache
delta_out = np.ones_like(x)
print("δx == δa·escala·m:", np.array_equal(layer.backward(delta_out), scale * mask))

# La escala conserva la media: E[a] = x
big = np.ones((1000, 1000), dtype="float32")
print("media con training=True:", round(float(layer(big, training=True).mean()), 3))

# %% [markdown]
# ## Pruébalo: dentro de un modelo
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((4,)),
    mr.layers.Dense(16, activation="relu"),
    mr.layers.Dropout(0.5),
    mr.layers.Dense(1),
])
x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
a, b = model(x, training=True), model(x, training=True)        # dos máscaras distintas
print("training=True, dos llamadas iguales:", np.array_equal(a, b))
p, q = model.predict(x, verbose=0), model.predict(x, verbose=0)  # sin dropout
print("predict, dos llamadas iguales:      ", np.array_equal(p, q))

# %% [markdown]
# Con `import keras as mr` la salida es la misma.
#
# Una consecuencia que sorprende al mirar las curvas: la exactitud (*accuracy*) de
# entrenamiento que registra `fit` en `accuracy` se mide con el dropout **activo** (y antes de
# cada actualización), mientras que `val_accuracy` se mide sin él. Con un dropout fuerte la
# exactitud de entrenamiento puede quedar por debajo de la de validación; en la tabla de la
# lección 11 se ve.
#
# ## Ejercicios
#
# 1. Con `rate=0.2`, ¿qué valores toma la salida de la capa sobre una entrada de unos? ¿Qué
#    fracción de ceros esperas?
# 2. Usa `noise_shape=(None, 1)` sobre `np.ones((4, 6))`. ¿Qué se apaga ahora, elementos
#    sueltos o filas enteras?
# 3. Añade `mr.layers.Dropout(0.5)` a la red de `examples/digits.py` en lugar de `0.2` y
#    compara la exactitud de test. Después prueba sin dropout.
# 4. Escribe un `Dropout` «sin escala» (solo $x \odot m$) y explica por qué entonces `predict`
#    tendría que multiplicar por $1 - \mathrm{rate}$.
