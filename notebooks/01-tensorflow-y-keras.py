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
# # 1. TensorFlow y Keras
#
# ## La idea
#
# Este curso habla de dos bibliotecas que trabajan juntas:
#
# - **TensorFlow** hace las cuentas. Guarda los números en *tensores* (arrays de varias
#   dimensiones), los opera en CPU, GPU o TPU y, sobre todo, **deriva automáticamente**: apunta
#   cada operación que se hace y calcula los gradientes sin que nadie escriba una derivada
#   (diferenciación automática, *automatic differentiation*).
# - **Keras** es la API de alto nivel: capas, modelos, pérdidas, optimizadores y el trío
#   `compile`, `fit`, `evaluate`. Keras no hace las cuentas él mismo: se las pide a un
#   *backend* (motor de cálculo). En Keras 3 ese motor puede ser TensorFlow, JAX o PyTorch.
#
# minired ocupa el lugar de Keras **y** del backend a la vez, con otra prioridad: ser legible.
# Ofrece la misma API, pero debajo solo hay NumPy, y cada derivada está escrita a mano, junto
# a su fórmula:
#
# ```text
# tu programa   model = mr.Sequential([...]);  model.compile(...);  model.fit(x, y)
#                  │                                          │
#                  │  import keras as mr                      │  import minired as mr
#                  ▼                                          ▼
# Keras 3       capas, modelos, fit...            minired    las mismas capas, modelos, fit...
#                  │                                          │
# backend       TensorFlow · JAX · PyTorch        NumPy      cada forward y cada backward,
#               (tensores, derivadas automáticas,            escritos a mano y legibles
#                GPU y TPU)
# ```
#
# ## Historia
#
# | fecha | qué pasó |
# |---|---|
# | marzo de 2015 | François Chollet publica **Keras**: una API para definir y entrenar redes en pocas líneas, sobre otra biblioteca que hace las cuentas (al principio, Theano) |
# | noviembre de 2015 | Google publica **TensorFlow** como código abierto. Keras pronto lo admite como backend, además de Theano |
# | noviembre de 2017 | TensorFlow 1.4 incorpora Keras a su núcleo como **`tf.keras`** |
# | septiembre de 2019 | **TensorFlow 2.0**: Keras es su API oficial de alto nivel y la ejecución *eager* (inmediata) pasa a ser la opción por defecto |
# | 2020 | Keras 2.4 deja de ser multi-backend: el paquete `keras` pasa a ser lo mismo que `tf.keras` |
# | noviembre de 2023 | **Keras 3**, reescrito desde cero, vuelve a ser **multi-backend**: TensorFlow, JAX y PyTorch |
# | marzo de 2024 | TensorFlow 2.16 instala Keras 3 por defecto: desde entonces `tf.keras` es Keras 3 |
#
# La ejecución *eager* cambió la forma de trabajar. En TensorFlow 1 se construía primero un
# **grafo** con todas las operaciones y después se ejecutaba dentro de una `tf.Session`; un
# `print` en medio del modelo no mostraba números, sino la descripción de un nodo del grafo.
# En TensorFlow 2 cada operación se ejecuta en el momento, como en NumPy, y el grafo se pide
# solo cuando hace falta velocidad (`tf.function`, que es lo que `fit` usa por dentro).
#
# ## Pruébalo: lo que hay instalado

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")    # menos mensajes de TensorFlow en stderr
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # el backend se elige antes de importar keras

import keras
import tensorflow as tf

print("Keras", keras.version(), "· backend:", keras.backend.backend())
print("TensorFlow", tf.__version__, "· tf.keras es Keras 3:",
      tf.keras.version() == keras.version())
print("ejecución eager:", tf.executing_eagerly())

x = tf.Variable(3.0)
with tf.GradientTape() as tape:          # TensorFlow apunta cada operación...
    y = x ** 2 + 2 * x
print("y =", float(y), "· dy/dx =", float(tape.gradient(y, x)))   # ...y deriva solo: 2x + 2

# %% [markdown]
# `tf.GradientTape` es la diferenciación automática: TensorFlow ha calculado
# $\frac{d}{dx}(x^2 + 2x) = 2x + 2 = 8$ en $x = 3$ sin que nadie escribiera la derivada. En
# minired esa derivada está escrita en el código de cada capa (lección 5), y el apéndice A
# comprueba que coincide con la de TensorFlow. Aunque pidas silencio con
# `TF_CPP_MIN_LOG_LEVEL`, TensorFlow todavía escribe algún aviso al arrancar; va a la salida
# de errores (*stderr*), no a la salida normal.
#
# ## Ventajas e inconvenientes
#
# Lo que se gana con Keras y TensorFlow:
#
# - **Una API de alto nivel.** Un modelo, su entrenamiento y su evaluación caben en unas
#   pocas líneas, y se prueba una idea en minutos: cambiar una capa o un optimizador es cambiar una
#   palabra.
# - **Derivadas automáticas.** Cualquier capa nueva que se escriba con sus operaciones se puede
#   entrenar sin escribir su gradiente.
# - **Velocidad y hardware.** Los mismos programas corren en GPU y TPU, y se reparten entre
#   varias.
# - **Un ecosistema.** Modelos preentrenados (`keras.applications`), TensorBoard para mirar el
#   entrenamiento (lección 12), `tf.data` para leer datos, y mucha documentación y ejemplos.
# - **Despliegue.** Un modelo entrenado se sirve en producción con TensorFlow Serving, se lleva
#   al móvil con TensorFlow Lite o al navegador con TensorFlow.js.
#
# Lo que se paga:
#
# - **Menos control y más magia escondida.** `fit` oculta el bucle de entrenamiento, y algunas
#   decisiones numéricas ocurren sin que se vean. Un ejemplo de esta misma lección: con el
#   backend TensorFlow, la entropía cruzada no se calcula con las probabilidades que ves, sino
#   con los logits que viajan pegados a ellas.
# - **Diferencias entre backends.** El mismo programa de Keras 3 no da exactamente los mismos
#   números con TensorFlow, JAX o PyTorch (sección siguiente).
# - **Instalaciones pesadas.** TensorFlow trae su propio motor de cálculo compilado; pesa mucho
#   más que NumPy y sus versiones tienen que casar con las de Python, Keras y, en GPU, CUDA.
# - **Errores lejos de su causa.** Cuando algo falla dentro de `fit`, el mensaje suele hablar de
#   los tensores y argumentos internos del backend, no de tus variables.
#
# Lo último se ve con un error sencillo: un `y` con 5 clases para una red de 3 salidas.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

import minired as mr

x = np.zeros((8, 4), dtype="float32")
y = np.zeros((8, 5), dtype="float32")                 # 5 clases, pero la red tiene 3 salidas
for library in (mr, keras):
    model = library.Sequential([library.Input((4,)),
                                library.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    try:
        model.fit(x, y, epochs=1, verbose=0)
    except ValueError as error:
        print(f"{library.__name__}: {error}")

# %% [markdown]
# Keras nombra `target` y `output`, los argumentos de la función del backend donde saltó el
# error (`keras/src/backend/tensorflow/nn.py`); minired nombra tu `y`. Ese es el motivo de que
# exista minired: para **aprender**, interesa poder leer cada paso y que cada error hable del
# programa que escribiste. Para **trabajar** con modelos grandes, datos grandes y GPU, Keras.
# Como la API es la misma, lo aprendido en uno vale en el otro.
#
# ## Pruébalo: el mismo modelo en Keras y en minired
#
# El programa construye la misma red en las dos bibliotecas, copia a Keras los pesos iniciales
# de minired, entrena las dos con los mismos datos en el mismo orden y compara:

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")    # menos mensajes de TensorFlow en stderr
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # el backend: antes de importar keras

import keras
import numpy as np
from sklearn.datasets import load_iris

import minired as mr

# Los dos en float64. Keras fija su política de tipos la primera vez que una capa la
# consulta, y después set_floatx ya no la cambia: se fija también la política.
mr.config.set_floatx("float64")
keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")

iris = load_iris()                                    # 150 flores, 4 medidas, 3 especies
order = np.random.default_rng(0).permutation(150)     # un orden fijo, con las especies mezcladas
x = iris.data[order]
x = (x - x.mean(axis=0)) / x.std(axis=0)              # cada medida con media 0 y desviación 1
y = mr.utils.to_categorical(iris.target[order], num_classes=3)

# 1. El modelo en minired
mr.utils.set_random_seed(0)
ours = mr.Sequential([mr.Input((4,)),
                      mr.layers.Dense(8, activation="relu"),
                      mr.layers.Dense(3, activation="softmax")])
ours.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1),
             loss="categorical_crossentropy", metrics=["accuracy"])

# 2. El mismo modelo en Keras, empezando con los pesos de minired
theirs = keras.Sequential([keras.Input((4,)),
                           keras.layers.Dense(8, activation="relu"),
                           keras.layers.Dense(3, activation="softmax")])
theirs.set_weights(ours.get_weights())
theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
               loss="categorical_crossentropy", metrics=["accuracy"])

# 3. Los mismos lotes, en el mismo orden (shuffle=False)
h_ours = ours.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history
h_theirs = theirs.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history

print("pérdida  minired:", np.round(h_ours["loss"], 6))
print("pérdida  Keras:  ", np.round(h_theirs["loss"], 6))
print("accuracy minired:", np.round(h_ours["accuracy"], 4))
print("accuracy Keras:  ", np.round(h_theirs["accuracy"], 4))

# 4. La mayor diferencia: en las pérdidas, en los pesos finales y en las predicciones
diffs = [np.max(np.abs(np.subtract(h_ours["loss"], h_theirs["loss"])))]
diffs += [np.max(np.abs(a - b)) for a, b in zip(ours.get_weights(), theirs.get_weights())]
diffs += [np.max(np.abs(ours.predict(x, verbose=0) - theirs.predict(x, verbose=0)))]
print("pesos de Keras en", theirs.get_weights()[0].dtype)
print("mayor diferencia por debajo de 1e-12:", bool(max(diffs) < 1e-12))

# %% [markdown]
# Las dos curvas son la misma. La mayor diferencia, entre pérdidas, pesos y predicciones,
# queda por debajo de $10^{-12}$: lo que queda es el redondeo de `float64`. (La línea final
# dice solo si queda por debajo, sin imprimir el número, porque los últimos dígitos de algo
# tan pequeño pueden cambiar de una máquina a otra.) Cada detalle del programa está ahí por
# una razón:
#
# - **`set_weights`.** Keras sortea sus pesos iniciales con el generador de TensorFlow y
#   minired con el de NumPy: con la misma semilla salen números distintos. Copiarlos hace que
#   las dos redes empiecen en el mismo punto.
# - **`shuffle=False`** y un orden fijado de antemano con NumPy. Con `shuffle=True`, cada
#   biblioteca barajaría con su propio generador y los lotes serían otros.
# - **SGD.** Es el optimizador más sencillo de seguir. Los demás también coinciden: el
#   ejercicio 1 prueba Adam, y las comparaciones del apéndice A prueban todos los que tiene
#   minired.
# - **`float64`.** En `float32` los redondeos de dos programas que suman en distinto orden se
#   notan mucho antes (ejercicio 1); en `float64` la comparación puede ser mucho más
#   estricta. Keras decide la precisión de sus capas con una *política de tipos* que fija la
#   primera vez que una capa la consulta; si en el mismo proceso ya se creó alguna capa antes
#   (en un notebook, por ejemplo), un `set_floatx` posterior no la cambia y las capas nuevas
#   siguen en `float32`. `keras.config.set_dtype_policy("float64")` cambia la política
#   directamente. (En un proceso nuevo, como este, bastaría con `set_floatx`.)
#
# La carpeta `comparisons/` hace esto mismo para cada capa, activación, pérdida, optimizador y
# callback, en `float64` y en `float32`: lo cuenta el
# [apéndice A](../docs/apendice-a-comprobar-contra-keras.md). `comparisons/mirror.py` tiene
# `to_keras(model)`, que construye el gemelo de Keras de un modelo de minired (capas, pesos,
# pérdida y optimizador) en una línea.
#
# ## Lo que depende del backend
#
# Keras 3 promete el mismo programa sobre tres motores, pero algunos detalles numéricos los
# decide el motor. Tres que importan en este curso:
#
# ### La entropía cruzada: desde los logits o recortada
#
# Cuando la última capa es un softmax y la pérdida es `categorical_crossentropy`, hay dos
# formas de calcular $-\log p_c$ (la [lección 6](../docs/06-funciones-de-perdida.md) lo explica a
# fondo):
#
# - **Desde las probabilidades, recortadas**:
#   $-\log \operatorname{clip}(p_c, \varepsilon, 1 - \varepsilon)$ con $\varepsilon = 10^{-7}$.
#   Nunca da $\log 0$, pero la pérdida de un ejemplo no pasa de $-\log \varepsilon$ y, donde
#   el recorte actúa, el gradiente es cero.
# - **Desde los logits** $z$, con la fórmula estable
#   $\log \operatorname{softmax}(z)_c = z_c - \log \sum_j e^{z_j}$: la pérdida verdadera,
#   sin techo.
#
# Con el backend TensorFlow, el softmax devuelve un tensor que lleva **pegados sus logits** en
# un atributo, `_keras_logits`, y la entropía cruzada, si lo encuentra, calcula desde ellos
# aunque `from_logits=False`. Una copia de las mismas probabilidades ya no lleva el atributo y
# toma el camino recortado:

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

dtype = keras.config.floatx()                        # "float32" salvo que lo cambies
z = np.array([[0.0, 20.0, 40.0]], dtype=dtype)       # logits muy separados
y = np.array([[1.0, 0.0, 0.0]], dtype=dtype)         # y la clase correcta es la 0
p = keras.activations.softmax(z)                     # p_0 es del orden de e^-40
print("p =", np.array(p))
print("¿lleva sus logits?", hasattr(p, "_keras_logits"))

cce = keras.losses.CategoricalCrossentropy()         # from_logits=False, el valor por defecto
print("pérdida con la salida del softmax:   ", round(float(cce(y, p)), 4))
print("pérdida con una copia de p (NumPy):  ", round(float(cce(y, np.array(p))), 4))
print("-log(epsilon), el techo del recorte: ", round(float(-np.log(keras.config.epsilon())), 4))

# %% [markdown]
# Las mismas probabilidades, dos pérdidas: $40 = -\log \operatorname{softmax}(z)_0$, calculada
# desde los logits, y $16.1181 = -\log 10^{-7}$, el techo del recorte. Esto es lo que dice el
# código de Keras 3.15.1 instalado (las rutas son relativas a `keras/src/`, dentro de
# `.venv/lib/python3.11/site-packages/`):
#
# - `backend/tensorflow/nn.py`: `softmax` (línea 162) y `sigmoid` (línea 41) guardan la
#   entrada en `output._keras_logits` (líneas 172 y 44). `_get_logits` (línea 1262), si la
#   salida tiene `_keras_logits`, toma esos logits y pone `from_logits_ = True`
#   (líneas 1267-1270); en modo grafo hace lo mismo si la operación que produjo la salida es
#   un `Softmax` o un `Sigmoid` (líneas 1272-1285). `categorical_crossentropy` (línea 1298)
#   llama a `_get_logits` y, con logits, usa `tf.nn.softmax_cross_entropy_with_logits`
#   (líneas 1360-1366); solo si no los hay, renormaliza, recorta con
#   `tf.clip_by_value(output, epsilon, 1 - epsilon)` y toma el logaritmo (líneas 1372-1378).
#   `sparse_categorical_crossentropy` (línea 1402) y `binary_crossentropy` (línea 1474, con
#   `Sigmoid`) llaman también a `_get_logits`.
# - `backend/jax/nn.py`, `categorical_crossentropy` (líneas 963-986): con
#   `from_logits=False` renormaliza, recorta con `jnp.clip(output, epsilon, 1 - epsilon)` y
#   toma el logaritmo (líneas 980-985, el recorte en la 984). No mira `_keras_logits` en
#   ninguna parte: el archivo no contiene ese nombre. Igual `sparse_categorical_crossentropy`
#   (recorte en la línea 1011) y `binary_crossentropy` (línea 1033).
# - `backend/torch/nn.py`, `categorical_crossentropy` (líneas 849-872): el mismo esquema
#   (líneas 866-871, con `torch.clip` en la 870), y tampoco menciona `_keras_logits`. Igual
#   `sparse_categorical_crossentropy` (línea 915) y `binary_crossentropy` (línea 955).
# - `activations/activations.py`, `softmax` y `sigmoid` (líneas 158-164 y 497-503): intentan
#   pegar `output._keras_logits = x` en cualquier backend, dentro de un `try` que ignora el
#   `AttributeError` de los tensores que no admiten atributos nuevos. Aunque el atributo
#   llegue a pegarse, solo el backend TensorFlow lo lee.
#
# Así que con JAX o PyTorch una red con softmax y `from_logits=False` entrena con la pérdida
# recortada y, con salidas saturadas, con gradiente cero; con TensorFlow, desde los logits.
# minired hace lo que hace el backend TensorFlow, pero a la vista: `logits_call` en
# `minired/keras_numerics.py` y `Trainer._output_loss` (lección 6). Con cualquier backend, la
# forma de no depender de esto es una última capa sin activación y `from_logits=True` en la
# pérdida, el uso que recomienda el docstring de `keras.losses.BinaryCrossentropy`
# («Recommended Usage»).
#
# ### Los números aleatorios
#
# Cada backend sortea con su propio generador: `keras/src/backend/tensorflow/random.py` llama a
# `tf.random.stateless_normal` y `stateless_uniform`, `backend/jax/random.py` a
# `jax.random.normal` y `jax.random.uniform`, y `backend/torch/random.py` a `torch.normal`.
# `keras.utils.set_random_seed(0)` hace reproducible cada backend consigo mismo, pero la misma
# semilla da pesos iniciales distintos en cada uno, y distintos de los de minired (que usa
# NumPy). Tampoco coinciden con minired las máscaras de dropout ni el barajado de `fit`. Por
# eso las comparaciones copian los pesos y usan `shuffle=False`, y con dropout, o le pasan a
# Keras las máscaras de minired, o comprueban solo su estadística (apéndice A).
#
# ### `float64`
#
# Keras calcula por defecto en `float32`, y `float64` depende del backend. TensorFlow lo
# admite (la comparación de arriba lo usa, en CPU). JAX trabaja por defecto solo con 32 bits:
# para `float64` hay que activar su opción `jax_enable_x64`, y Keras no la activa por ti (no
# aparece en su código). PyTorch tiene `float64` en CPU y en CUDA, pero no en las GPU de Apple
# (MPS).
#
# Hay además un detalle propio de TensorFlow: un número de Python que se convierte en tensor
# pasa antes por `float32`, aunque el destino sea `float64`.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

print(float(keras.ops.cast(0.9, "float64")))               # un float de Python
print(float(keras.ops.cast(0.01, "float64")))
print(float(keras.ops.cast(np.float64(0.9), "float64")))   # un float64 de NumPy

# %% [markdown]
# Por eso, con el backend TensorFlow y en `float64`, Keras multiplica un `L2(0.01)` por
# 0.009999999776482582, y el `momentum=0.9` de SGD vale 0.8999999761581421. minired reproduce
# esas constantes redondeadas en `minired/keras_numerics.py` (su punto 1 dice cuáles son),
# para que la comparación en `float64` pueda ser estricta.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 1](../docs/apendice-b-leer-el-codigo.md#leccion-1-tensorflow-y-keras).
#
# ## Ejercicios
#
# 1. Convierte la comparación en una función `compare(dtype, optimizer, copy_weights)` que
#    devuelva la mayor diferencia entre las pérdidas, y responde: (a) ¿qué pasa en `float32`?
#    (b) ¿siguen coincidiendo con `Adam` en lugar de `SGD`? (c) ¿y si no copias los pesos,
#    aunque fijes la misma semilla en los dos?
#
#     ??? note "Solución"
#         ```python
#         import os
#
#         os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
#         os.environ.setdefault("KERAS_BACKEND", "tensorflow")
#
#         import keras
#         import numpy as np
#         from sklearn.datasets import load_iris
#
#         import minired as mr
#
#         iris = load_iris()
#         order = np.random.default_rng(0).permutation(150)
#         x = iris.data[order]
#         x = (x - x.mean(axis=0)) / x.std(axis=0)
#         y = mr.utils.to_categorical(iris.target[order], num_classes=3)
#
#
#         def compare(dtype="float64", optimizer="SGD", copy_weights=True):
#             """La mayor diferencia entre las pérdidas de minired y de Keras tras 5 épocas."""
#             mr.config.set_floatx(dtype)
#             keras.config.set_floatx(dtype)
#             keras.config.set_dtype_policy(dtype)
#             mr.utils.set_random_seed(0)
#             keras.utils.set_random_seed(0)
#             ours = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
#                                   mr.layers.Dense(3, activation="softmax")])
#             theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
#                                        keras.layers.Dense(3, activation="softmax")])
#             if copy_weights:
#                 theirs.set_weights(ours.get_weights())
#             ours.compile(optimizer=getattr(mr.optimizers, optimizer)(learning_rate=0.1),
#                          loss="categorical_crossentropy")
#             theirs.compile(optimizer=getattr(keras.optimizers, optimizer)(learning_rate=0.1),
#                            loss="categorical_crossentropy")
#             a = ours.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history["loss"]
#             b = theirs.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history["loss"]
#             return np.max(np.abs(np.subtract(a, b)))
#
#
#         print("float64, SGD:         < 1e-12:", bool(compare() < 1e-12))
#         float32 = compare("float32")
#         print("float32, SGD:         < 1e-12:", bool(float32 < 1e-12),
#               "· entre 1e-8 y 1e-6:", bool(1e-8 < float32 < 1e-6))
#         print("float64, Adam:        < 1e-12:", bool(compare(optimizer="Adam") < 1e-12))
#         print("sin copiar los pesos: < 1e-2:", bool(compare(copy_weights=False) < 1e-2))
#         ```
#
#         ```text
#         float64, SGD:         < 1e-12: True
#         float32, SGD:         < 1e-12: False · entre 1e-8 y 1e-6: True
#         float64, Adam:        < 1e-12: True
#         sin copiar los pesos: < 1e-2: False
#         ```
#
#         (a) En `float32` las curvas siguen coincidiendo hasta el redondeo de `float32`: la
#         diferencia está entre $10^{-8}$ y $10^{-6}$, lejos del listón de $10^{-12}$ que
#         cumple `float64`. Por eso las comparaciones del apéndice A usan una tolerancia más
#         ancha en `float32`. (b) Con Adam
#         coinciden igual; sus fórmulas son las de Keras (lección 7). (c) Sin copiar los pesos,
#         las curvas se separan ya en la primera época: la misma semilla no da los mismos pesos
#         iniciales en NumPy y en TensorFlow.
#
# 2. Reescribe la comparación con `to_keras` de `comparisons/mirror.py` (desde la raíz del
#    repositorio, porque `comparisons` no es un paquete instalado). ¿Cuántas líneas te
#    ahorras?
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_iris
#
#         from comparisons.keras_env import mr, precision
#         from comparisons.mirror import to_keras
#
#         iris = load_iris()
#         order = np.random.default_rng(0).permutation(150)
#         x = iris.data[order]
#         x = (x - x.mean(axis=0)) / x.std(axis=0)
#         y = mr.utils.to_categorical(iris.target[order], num_classes=3)
#
#         with precision("float64"):                   # minired y Keras en float64 a la vez
#             mr.utils.set_random_seed(0)
#             ours = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
#                                   mr.layers.Dense(3, activation="softmax")])
#             ours.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1),
#                          loss="categorical_crossentropy")
#             theirs = to_keras(ours)                  # capas, pesos, pérdida y optimizador
#             a = ours.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history["loss"]
#             b = theirs.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0).history["loss"]
#
#         print("Keras:", np.round(b, 6))
#         print("mayor diferencia por debajo de 1e-12:", bool(np.max(np.abs(np.subtract(a, b))) < 1e-12))
#         ```
#
#         ```text
#         Keras: [1.133172 0.634096 0.485292 0.40601  0.357271]
#         mayor diferencia por debajo de 1e-12: True
#         ```
#
#         Desaparecen la segunda definición del modelo, su `compile`, el `set_weights` y las
#         tres líneas de la precisión de Keras: `to_keras` lee todo eso del modelo de minired, y
#         `precision` fija a la vez `set_floatx` en los dos y `set_dtype_policy` en Keras.
#
# 3. En el fragmento de la entropía cruzada, crea `z` e `y` con `dtype="float64"` sin cambiar
#    `floatx` (que sigue en `float32`). ¿Qué pérdida da ahora la salida del softmax? ¿Por qué?
#
#     ??? note "Solución"
#         ```python
#         import os
#
#         os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
#         os.environ.setdefault("KERAS_BACKEND", "tensorflow")
#
#         import keras
#         import numpy as np
#
#         z = np.array([[0.0, 20.0, 40.0]], dtype="float64")
#         y = np.array([[1.0, 0.0, 0.0]], dtype="float64")
#         p = keras.activations.softmax(z)
#         print(p.dtype.name, "· ¿lleva sus logits?", hasattr(p, "_keras_logits"))
#         cce = keras.losses.CategoricalCrossentropy()
#         print("pérdida con la salida del softmax:", round(float(cce(y, p)), 4))
#         ```
#
#         ```text
#         float64 · ¿lleva sus logits? True
#         pérdida con la salida del softmax: 16.1181
#         ```
#
#         El tensor `p` lleva sus logits, pero la pérdida trabaja en la precisión de `floatx`,
#         `float32`, y convierte `p` antes de calcular. La conversión crea un tensor **nuevo**,
#         sin el atributo `_keras_logits`, y la pérdida toma el camino recortado. Dentro de un
#         modelo no pasa, porque la salida ya tiene la precisión de la pérdida; pero muestra lo
#         frágil que es un comportamiento que depende de un atributo escondido.
#
# 4. Lee `categorical_crossentropy` en `keras/src/backend/jax/nn.py`. Si el fragmento de la
#    entropía cruzada se ejecutara con `KERAS_BACKEND=jax`, ¿qué imprimiría en la línea
#    «pérdida con la salida del softmax»?
#
#     ??? note "Solución"
#         El techo del recorte, como la copia de NumPy: $-\log 10^{-7} \approx 16.1181$. La
#         función de JAX no busca `_keras_logits`: con `from_logits=False` renormaliza, recorta
#         a $[\varepsilon, 1 - \varepsilon]$ y toma el logaritmo. Con PyTorch, igual. (Este
#         entorno no tiene JAX ni PyTorch instalados: la respuesta sale de leer el código.)
#
# 5. Pon en una tabla dos columnas, «Keras sobre TensorFlow» y «minired», y una fila por
#    ventaja o inconveniente de la lista de arriba. ¿Para qué usarías cada uno?
#
#     ??? note "Solución"
#         | | Keras sobre TensorFlow | minired |
#         |---|---|---|
#         | API | la de Keras 3 | la misma |
#         | derivadas | automáticas | escritas a mano para cada capa de serie, y comprobadas; automáticas (una cinta) para las capas que escribas tú |
#         | hardware | CPU, GPU, TPU | CPU (NumPy) |
#         | capas | muchas: convolucionales, recurrentes, de atención... | densas, convolucionales, de *pooling*, `BatchNormalization`, `Dropout`, de fusión y las que escribas tú; no recurrentes ni de atención |
#         | despliegue | TensorFlow Serving, TensorFlow Lite, TensorFlow.js | ninguno propio; `to_keras` pasa el modelo a Keras |
#         | leer el código | varias capas de abstracción hasta llegar a las cuentas | NumPy, con la fórmula en cada docstring |
#         | errores | a menudo con los nombres internos del backend | nombran tus argumentos y cómo arreglarlo |
#
#         minired, para entender qué pasa en cada línea de un entrenamiento; Keras, para
#         entrenar de verdad. Y `to_keras` para pasar de uno a otro.
