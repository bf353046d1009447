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
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 8](../docs/apendice-b-leer-el-codigo.md#leccion-8-dropout).
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
#
#     ??? note "Solución"
#         Cada elemento se apaga (0) con probabilidad $0.2$ o se multiplica por
#         $1/(1-0.2) = 1.25$. Espero un 20 % de ceros, y la media sigue siendo 1.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         layer = mr.layers.Dropout(0.2, seed=0)
#         a = layer(np.ones((1000, 100), dtype="float32"), training=True)
#         print("valores:", np.unique(a))
#         print("fracción de ceros:", round(float(np.mean(a == 0)), 3))
#         print("media:", round(float(a.mean()), 3))
#         ```
#
#         ```text
#         valores: [0.   1.25]
#         fracción de ceros: 0.201
#         media: 0.998
#         ```
#
# 2. Usa `noise_shape=(None, 1)` sobre `np.ones((4, 6))`. ¿Qué se apaga ahora, elementos
#    sueltos o filas enteras?
#
#     ??? note "Solución"
#         Con `noise_shape=(None, 1)` la máscara tiene forma `(4, 1)` y se repite a lo ancho de
#         cada fila: se apagan **filas enteras** (ejemplos completos), no elementos sueltos.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         layer = mr.layers.Dropout(0.5, noise_shape=(None, 1), seed=0)
#         print(layer(np.ones((4, 6), dtype="float32"), training=True))
#         ```
#
#         ```text
#         [[2. 2. 2. 2. 2. 2.]
#          [0. 0. 0. 0. 0. 0.]
#          [0. 0. 0. 0. 0. 0.]
#          [0. 0. 0. 0. 0. 0.]]
#         ```
#
# 3. Añade `mr.layers.Dropout(0.5)` a la red de `examples/digits.py` en lugar de `0.2` y
#    compara la exactitud de test. Después prueba sin dropout.
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
#         for rate in (0.5, 0.2, 0.0):
#             mr.utils.set_random_seed(0)
#             layers = [mr.Input((64,)),
#                       mr.layers.Dense(128, activation="relu",
#                                       kernel_regularizer=mr.regularizers.L2(1e-4))]
#             if rate:
#                 layers.append(mr.layers.Dropout(rate))
#             layers.append(mr.layers.Dense(10, activation="softmax"))
#             model = mr.Sequential(layers)
#             model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
#             early_stopping = mr.callbacks.EarlyStopping(monitor="val_loss", patience=5,
#                                                         restore_best_weights=True)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32, validation_split=0.15,
#                                 callbacks=[early_stopping], verbose=0)
#             accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
#             print(f"dropout {rate}: {len(history.epoch)} épocas, exactitud en test {accuracy:.3f}")
#         ```
#
#         ```text
#         dropout 0.5: 60 épocas, exactitud en test 0.973
#         dropout 0.2: 50 épocas, exactitud en test 0.976
#         dropout 0.0: 34 épocas, exactitud en test 0.976
#         ```
#
#         Las tres quedan casi empatadas: con 1797 dígitos, una red de 128 unidades, L2 y
#         parada temprana apenas sobreajusta, así que el dropout aporta poco. Lo que sí cambia
#         es la duración: con más dropout el entrenamiento es más ruidoso y la pérdida de
#         validación tarda más en dejar de bajar, así que entrena más épocas.
#
# 4. Escribe un `Dropout` «sin escala» (solo $x \odot m$) y explica por qué entonces `predict`
#    tendría que multiplicar por $1 - \mathrm{rate}$.
#
#     ??? note "Solución"
#         Sin escala, al entrenar $a = x \odot m$ con $m_i \sim \mathrm{Bernoulli}(1-\mathrm{rate})$, así
#         que $E[a] = (1-\mathrm{rate})\,x$: la capa siguiente aprende sus pesos viendo entradas
#         encogidas. Si en `predict` pasáramos $x$ tal cual, vería entradas mayores que al entrenar;
#         para que la media coincida hay que multiplicar por $1-\mathrm{rate}$. El dropout «invertido»
#         de minired y Keras hace la corrección al entrenar (× $1/(1-\mathrm{rate})$) y deja `predict`
#         como la identidad.
#
#         ```python
#         import numpy as np
#
#
#         class UnscaledDropout:
#             def __init__(self, rate, seed=0):
#                 self.rate, self.rng = rate, np.random.default_rng(seed)
#
#             def __call__(self, x, training=False):
#                 if training:
#                     return x * (self.rng.random(x.shape) >= self.rate)
#                 return x * (1 - self.rate)       # la corrección pasa a la inferencia
#
#
#         layer = UnscaledDropout(0.2)
#         x = np.ones((1000, 1000))
#         print("media al entrenar:", round(float(layer(x, training=True).mean()), 3))
#         print("media en predict: ", round(float(layer(x).mean()), 3))
#         ```
#
#         ```text
#         media al entrenar: 0.8
#         media en predict:  0.8
#         ```
