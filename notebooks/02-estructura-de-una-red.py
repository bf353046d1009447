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
# -  `minired/layers/layer.py`, clase `Layer`: el contrato de toda capa. `build(input_shape)`
#   crea los pesos; `forward(inputs, training)` calcula la salida (el paso hacia delante,
#   *forward pass*, lección 4) y guarda lo que necesitará el paso hacia atrás (*backward pass*,
#   lección 5); `backward(grad_outputs)` recibe $\delta_a = \partial L / \partial a$, devuelve
#   $\delta_x = \partial L / \partial x$ y deja el gradiente (*gradient*) de cada peso junto al
#   peso (`kernel_gradient` al lado de `kernel`). `backward` nunca cambia un peso: eso lo hace el
#   optimizador (*optimizer*, lección 7).
# - `minired/layers/dense.py`, `Dense.build`: crea `self.kernel` con forma `(in, units)` y
#   `self.bias` con forma `(units,)`. `Dense` acepta solo entradas 2-D `(N, features)`: con
#   más ejes hay que poner antes un `Flatten` (una simplificación deliberada respecto de Keras).
# - `minired/layers/input_layer.py`: `Input(shape)` fija la forma de un ejemplo, sin la
#   dimensión del lote, y no calcula nada.
# - `minired/models/sequential.py`: `Sequential.add` añade capas; `build` recorre la pila
#   propagando la forma con `compute_output_shape`; `summary` imprime la tabla;
#   `get_weights` devuelve copias en el orden de Keras: por cada `Dense`, primero el kernel y
#   luego el bias.
# - `minired/initializers/random_initializers.py`: `GlorotUniform` es un `VarianceScaling`
#   con `scale=1`, `mode="fan_avg"` y distribución uniforme.
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
# 2. Añade una segunda capa oculta (*hidden layer*) `Dense(8, activation="relu")`. ¿Qué forma
#    tiene su $W$?
#    ¿Por qué no hace falta decirle cuántas entradas tiene?
# 3. Crea `mr.layers.Dense(3, use_bias=False)` dentro de un modelo. ¿Cuántos arrays devuelve
#    `get_weights()` y cuántos parámetros tiene?
# 4. Pasa a una `Dense` un lote de forma `(N, 3, 4)` sin `Flatten`. Lee el mensaje de error y
#    arréglalo con `mr.layers.Flatten()`.
