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
# # 2. Estructura de una red
#
# ## La idea
#
# Una **neurona** (*neuron* o *unit*) toma un vector de entradas, hace una suma ponderada más
# un **sesgo** (*bias*, el término independiente) y aplica una función de activación no
# lineal: $z = \sum_i x_i w_i + b$, $a = f(z)$. Una **capa densa** (*dense layer*, `Dense`)
# son `units` neuronas que miran todas las mismas entradas; una **red** es una pila de capas
# (*layers*) en la que la salida de una es la entrada de la siguiente:
#
# ```text
# entrada x  ──>  capa oculta (Dense 8, relu)  ──>  capa de salida (Dense 3, softmax)  ──>  ŷ
#    (N, 4)              (N, 8)                              (N, 3)
# ```
#
# Los **pesos** (*weights*: $W$, el `kernel` de Keras) y los **sesgos** ($b$, el `bias`) son
# los números que el entrenamiento ajusta. La **arquitectura** (*architecture*: cuántas capas,
# cuántas unidades, qué activación) la elegimos nosotros.
#
# ## Las matemáticas, en la notación del código
#
# Con un lote (*batch*) de $N$ ejemplos, toda la capa es un producto de matrices:
#
# $$
# z = xW + b, \qquad a = f(z)
# $$
#
# con $x$ de forma `(N, in)`, $W$ de forma `(in, units)`, $b$ de forma `(units,)`, y $z$ y $a$
# de forma `(N, units)`. $b$ se suma a cada fila de $xW$ (la difusión de NumPy, *broadcasting*).
# Una capa `Dense` tiene $\mathrm{in} \cdot \mathrm{units} + \mathrm{units}$ parámetros. $W$
# empieza con valores aleatorios pequeños y $b$ en cero: el inicializador (*initializer*) por
# defecto, `glorot_uniform`, sortea $W$ de la distribución uniforme $U[-l, l]$ con
#
# $$
# l = \sqrt{\frac{6}{\mathrm{in} + \mathrm{units}}},
# $$
#
# para que la varianza de las activaciones no crezca ni se apague de capa en capa.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 2](../docs/apendice-b-leer-el-codigo.md#leccion-2-estructura-de-una-red).
#
# ## Pruébalo
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((4,)),                                  # x: (N, 4)
    mr.layers.Dense(8, activation="relu"),           # W¹: (4, 8), b¹: (8,)
    mr.layers.Dense(3, activation="softmax"),        # W²: (8, 3), b²: (3,)
])
model.summary()
for w in model.get_weights():
    print(w.shape, w.dtype)
print("parámetros:", model.count_params())          # 4·8 + 8 + 8·3 + 3
W1 = model.get_weights()[0]
limite = np.sqrt(6 / (4 + 8))                        # Glorot uniforme: U[-límite, límite]
print("max |W¹| <= límite:", bool(np.abs(W1).max() <= limite))

# %% [markdown]
# `None` en `Output Shape` es el tamaño del lote, que puede ser cualquiera. Con
# `import keras as mr` el mismo programa funciona: `summary` dibuja una tabla con otro
# aspecto, pero las formas, los nombres y el número de parámetros son los mismos (los valores
# de los pesos no, porque Keras los sortea con TensorFlow).
#
# ## Ejercicios
#
# 1. Calcula a mano cuántos parámetros tiene la red de `examples/digits.py`
#    (64 → 128 → 10) y compruébalo con `model.summary()`.
#
#     ??? note "Solución"
#         Cada `Dense` tiene $\text{in} \cdot \text{units} + \text{units}$ parámetros:
#         $64 \cdot 128 + 128 = 8320$ en la oculta y $128 \cdot 10 + 10 = 1290$ en la de salida,
#         $9610$ en total. `Dropout` no tiene pesos.
#
#         ```python
#         import minired as mr
#
#         model = mr.Sequential([
#             mr.Input((64,)),
#             mr.layers.Dense(128, activation="relu"),
#             mr.layers.Dropout(0.2),
#             mr.layers.Dense(10, activation="softmax"),
#         ])
#         print("a mano:", 64 * 128 + 128 + 128 * 10 + 10)
#         model.summary()
#         ```
#
#         ```text
#         a mano: 9610
#         Model: "sequential"
#         ──────────────────────────────────────────
#         Layer (type)       Output Shape  Param #  
#         ──────────────────────────────────────────
#         dense (Dense)      (None, 128)   8,320    
#         dropout (Dropout)  (None, 128)   0        
#         dense_1 (Dense)    (None, 10)    1,290    
#         ──────────────────────────────────────────
#          Total params: 9,610 (37.54 KB)
#          Trainable params: 9,610 (37.54 KB)
#          Non-trainable params: 0 (0.00 B)
#         ```
# 2. Añade una segunda capa oculta (*hidden layer*) `Dense(8, activation="relu")`. ¿Qué forma
#    tiene su $W$?
#    ¿Por qué no hace falta decirle cuántas entradas tiene?
#
#     ??? note "Solución"
#         Detrás de la primera oculta, su $W$ tiene forma `(8, 8)`: 8 entradas (las unidades de la
#         capa anterior) por 8 unidades.
#
#         ```python
#         import minired as mr
#
#         model = mr.Sequential([
#             mr.Input((4,)),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(8, activation="relu"),
#             mr.layers.Dense(3, activation="softmax"),
#         ])
#         print("W de la segunda oculta:", model.layers[1].get_weights()[0].shape)
#         ```
#
#         ```text
#         W de la segunda oculta: (8, 8)
#         ```
#
#         No hace falta decirle cuántas entradas tiene porque `Dense` crea sus pesos en `build`, la
#         primera vez que conoce la forma de su entrada: `Sequential` le pasa la salida de la capa
#         anterior, `(None, 8)`, y de ahí saca `in = 8`.
# 3. Crea `mr.layers.Dense(3, use_bias=False)` dentro de un modelo. ¿Cuántos arrays devuelve
#    `get_weights()` y cuántos parámetros tiene?
#
#     ??? note "Solución"
#         Un solo array, el kernel $W$, y $4 \cdot 3 = 12$ parámetros (con 4 entradas): sin sesgo
#         desaparece el término $+\,\text{units}$.
#
#         ```python
#         import minired as mr
#
#         model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, use_bias=False)])
#         print("arrays:", len(model.get_weights()), [w.shape for w in model.get_weights()])
#         print("parámetros:", model.count_params())
#         ```
#
#         ```text
#         arrays: 1 [(4, 3)]
#         parámetros: 12
#         ```
# 4. Pasa a una `Dense(5)` un lote de forma `(N, 3, 4)`, primero tal cual y luego detrás de un
#    `mr.layers.Flatten()`. Compara la forma de la salida y el número de parámetros.
#
#     ??? note "Solución"
#         Como en Keras, `Dense` actúa sobre el último eje: la misma `W` de forma `(4, 5)` se
#         aplica a cada una de las 3 filas de cada ejemplo, la salida es `(N, 3, 5)` y hay
#         4·5 + 5 = 25 parámetros. `Flatten` convierte antes cada ejemplo de `(3, 4)` en un
#         vector de 12, así que la `Dense` ve las 12 entradas a la vez: salida `(N, 5)` y
#         12·5 + 5 = 65 parámetros.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         x = np.zeros((2, 3, 4), dtype="float32")
#         por_filas = mr.Sequential([mr.Input((3, 4)), mr.layers.Dense(5)])
#         aplanada = mr.Sequential([mr.Input((3, 4)), mr.layers.Flatten(), mr.layers.Dense(5)])
#         print(por_filas.predict(x, verbose=0).shape, por_filas.count_params())
#         print(aplanada.predict(x, verbose=0).shape, aplanada.count_params())
#         ```
#
#         ```text
#         (2, 3, 5) 25
#         (2, 5) 65
#         ```
