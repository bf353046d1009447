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
# # 3. Funciones de activación
#
# ## La idea
#
# Sin activaciones no lineales, apilar capas no sirve de nada: dos capas lineales seguidas,
# `(x W¹) W² = x (W¹ W²)`, son una sola capa lineal. La activación `f` dobla el espacio y
# permite a la red representar fronteras curvas; `examples/xor.py` aprende XOR, que ninguna
# capa lineal puede separar, gracias a un `tanh` en la capa oculta.
#
# Para entrenar hace falta además la **derivada** de cada activación: en el paso hacia atrás
# (lección 5) la capa recibe `δa = ∂L/∂a` y tiene que devolver `δz = ∂L/∂z`.
#
# ## Las matemáticas, en la notación del código
#
# | nombre | `a = f(z)` | backward: `δz` |
# |---|---|---|
# | `linear` | `z` | `δa` |
# | `relu` | `max(z, 0)` | `δa · 1[z > 0]` (en `z = 0` la derivada vale 0, como en TensorFlow) |
# | `sigmoid` | `1 / (1 + e^{-z})` | `δa · a (1 - a)` |
# | `tanh` | `tanh(z)` | `δa · (1 - a²)` |
# | `softmax` | `e^{z_i} / Σ_j e^{z_j}` (por filas) | `a ⊙ (δa - Σ_j δa_j a_j)` |
# | `log_softmax` | `z_i - log Σ_j e^{z_j}` | `δa - softmax(z) Σ_j δa_j` |
#
# Fíjate en que varias derivadas se escriben con la salida `a` (`σ'(z) = a(1 - a)`), por eso
# cada backward recibe `z` y `a`.
#
# El **softmax** no es elemento a elemento: cada salida depende de todas las entradas de la
# fila, así que su derivada es una matriz jacobiana `C×C`, `diag(a) - a aᵀ`. El código nunca
# la construye: calcula directamente el producto `δz = a ⊙ (δa - Σ_j δa_j a_j)`. Escribir
# `p (1 - p)` elemento a elemento es un error clásico (el apéndice A lo detecta).
#
# Dos detalles numéricos que el código cuida:
#
# - `sigmoid` usa `e^{-|z|}`, que está en `(0, 1]`: para `z ≥ 0` calcula `1 / (1 + e)` y para
#   `z < 0` calcula `e / (1 + e)`. Así `e^{...}` no se desborda nunca, ni con `z = -1000`.
# - `softmax` y `log_softmax` restan antes el máximo de la fila: `e^{z - max z}` da el mismo
#   resultado y no se desborda.
#
# ## Dónde verlo en el código
#
# - `minired/activations/activations.py`: cada función (`relu`, `sigmoid`...) va seguida de su
#   `*_backward(z, a, grad)`; el decorador `_backward_of` la engancha como `f.backward`.
# - `minired/activations/__init__.py`, `get`: convierte un nombre de Keras (`"relu"`) en la
#   función; `None` da `linear`.
# - `minired/layers/dense.py`: `Dense.forward` hace `a = self.activation(z)` y guarda
#   `(x, z, a)` en `self.cache`; `Dense.backward` llama a `self.activation.backward(z, a, δa)`.
# - `minired/layers/activation.py`: la capa `Activation`, que solo aplica `f`.
#   `Dense(10, activation="softmax")` equivale a `Dense(10)` seguida de `Activation("softmax")`.
#
# ## Pruébalo

# %%
import numpy as np

import minired as mr

z = np.array([[-1000.0, -2.0, 0.0, 2.0, 1000.0]])
for name in ["linear", "relu", "sigmoid", "tanh"]:
    f = mr.activations.get(name)
    print(f"{name:8s}", f(z).round(4))

# Cada activación lleva su derivada al lado: f.backward(z, a, δa) -> δz
f = mr.activations.sigmoid
a = f(z)
delta_a = np.ones_like(z)                 # δa = 1: δz es exactamente f'(z)
print("sigmoid'", f.backward(z, a, delta_a).round(4))

# softmax: resta el máximo antes de exponenciar; sumar una constante no cambia nada
logits = np.array([[1.0, 2.0, 3.0]])
print("softmax ", mr.activations.softmax(logits).round(4))
print("+1000   ", mr.activations.softmax(logits + 1000).round(4))

# %% [markdown]
# Sin avisos de desbordamiento, incluso con `z = ±1000`. Observa la fila `sigmoid'`: la
# derivada vale como mucho 0.25 y es prácticamente 0 lejos del origen. Una sigmoide
# *saturada* deja pasar muy poco gradiente; por eso en capas ocultas se prefiere `relu`.
#
# En Keras las activaciones existen con el mismo nombre (`keras.activations.relu`...), pero no
# tienen `.backward`: Keras obtiene las derivadas por diferenciación automática
# (`tf.GradientTape`). La comparación `python -m comparisons forward` comprueba que los valores
# de `minired.activations` coinciden con los de `keras.activations`.
#
# ## Ejercicios
#
# 1. Comprueba cada derivada con diferencias finitas (apéndice A):
#    `mr.config.set_floatx("float64")` y luego
#    `print(mr.gradcheck.check_function(f, f.backward, np.random.randn(4, 3)))` para cada `f`
#    de `mr.activations.ALL_ACTIVATIONS.values()`.
# 2. Escribe la sigmoide «ingenua» `1 / (1 + np.exp(-z))` y evalúala en `z = -1000`. ¿Qué aviso
#    da NumPy? ¿Por qué la versión de minired no lo da?
# 3. En `examples/xor.py` cambia `activation="tanh"` por `activation="linear"` en la capa
#    oculta. ¿Qué accuracy obtiene ahora? Explica el resultado con la primera frase de esta
#    lección.
# 4. Calcula el softmax de `[[1, 2, 3]]` a mano y compara con la salida de arriba. Después
#    multiplica los logits por 10: ¿qué le pasa a la distribución?
