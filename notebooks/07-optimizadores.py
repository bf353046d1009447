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
# # 7. Optimizadores
#
# ## La idea
#
# El optimizador decide **cómo** usar el gradiente `g = ∂L/∂w` para mover cada peso. El
# descenso del gradiente puro da pasos proporcionales a `g`; los demás añaden memoria del
# pasado: una **velocidad** que acumula la dirección (momentum), o una **escala por peso** que
# agranda los pasos de los pesos con gradientes pequeños y acorta los de gradientes grandes
# (Adagrad, RMSprop, Adam).
#
# ## Las matemáticas, en la forma exacta de Keras
#
# Con `lr` la tasa de aprendizaje y `t = iterations + 1` el número de paso; todo el estado
# empieza en 0 salvo donde se dice:
#
# ```text
# SGD                 w ← w - lr·g
# SGD momentum m      v ← m·v - lr·g ;   w ← w + v
# SGD Nesterov        v ← m·v - lr·g ;   w ← w + (m·v - lr·g)          (con v ya actualizada)
# RMSprop             s ← ρ·s + (1-ρ)·g² ;   w ← w - lr·g / √(s + ε)     (ε dentro de la raíz)
# Adagrad             a ← a + g² ;   w ← w - lr·g / √(a + ε)             (a empieza en 0.1)
# Adam                α = lr·√(1-β₂ᵗ) / (1-β₁ᵗ)                          (corrección de sesgo)
#                     m ← m + (g - m)·(1-β₁) ;   v ← v + (g² - v)·(1-β₂)
#                     w ← w - m·α / (√v + ε)                             (ε junto a la √v SIN corregir)
# AdamW               w ← w - w·wd·lr ;  después el paso de Adam         (todas las variables)
# ```
#
# Valores por defecto: `SGD(learning_rate=0.01)`; `RMSprop`, `Adagrad`, `Adam` y `AdamW` con
# `learning_rate=0.001`; `ε = 1e-7` (PyTorch usa `1e-8`); `β₁ = 0.9`, `β₂ = 0.999`, `ρ = 0.9`;
# `AdamW(weight_decay=0.004)`. `compile(optimizer="adam")` crea el optimizador con esos valores
# por defecto, y si no indicas optimizador `compile` usa `"rmsprop"`.
#
# Tres detalles que cambian números:
#
# - **Dónde va ε en Adam.** El algoritmo del artículo corrige el sesgo de `m` y `v` y suma ε a
#   `√v̂ = √(v / (1-β₂ᵗ))`. Keras mete la corrección en `α` y suma ε a `√v` sin corregir. Con
#   gradientes grandes da igual; con gradientes del orden de ε, no (mira el fragmento).
# - **RMSprop no corrige el sesgo**: como `s` empieza en 0, el primer paso es
#   `lr·g / √((1-ρ)·g²) ≈ lr / √(1-ρ)`, unas tres veces `lr`.
# - **AdamW no es Adam con L2.** Una penalización L2 entra en `g` y Adam la reescala por peso;
#   el decaimiento de AdamW se aplica aparte, `w ← w - w·wd·lr`, también a los sesgos.
#
# Alrededor de la regla de cada optimizador, la clase base hace siempre lo mismo en cada
# llamada: recortar los gradientes (`clipnorm`, `clipvalue` o `global_clipnorm`), aplicar el
# decaimiento `weight_decay` si existe, llamar a `update_step` variable por variable y sumar 1 a
# `iterations`. La tasa de aprendizaje se guarda en el tipo del modelo, como en Keras: en
# `float32`, `SGD(learning_rate=0.1)` da pasos con `float32(0.1) = 0.10000000149...`.
#
# ## Dónde verlo en el código
#
# - `minired/optimizers/optimizer.py`: `Optimizer.apply` (el orden de arriba),
#   `_clip_gradients`, `_apply_weight_decay`, `add_slots` (el estado por variable).
# - `minired/optimizers/sgd.py`, `rmsprop.py`, `adagrad.py`, `adam.py`, `adamw.py`: cada uno
#   con su `update_step` y la fórmula en el docstring. También `nadam.py` (Adam con Nesterov) y
#   `schedules/` (tasas de aprendizaje que cambian con el paso).
# - `comparisons/optimizers.py`: cada optimizador contra el de Keras, paso a paso.
#
# ## Pruébalo: un paso de Adam a mano

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
g = np.array([1e-6])                          # un gradiente diminuto

w = np.array([0.0])
mr.optimizers.Adam(learning_rate=lr).apply_gradients([(g, w)])
print("minired Adam, paso 1  :", w[0])

# El mismo primer paso a mano (t = 1, m = v = 0 al empezar)
m, v = (1 - b1) * g, (1 - b2) * g**2
b1_t, b2_t = float(np.float32(b1)), float(np.float32(b2))   # β^t: Keras pasa β por float32
alpha = lr * np.sqrt(1 - b2_t) / (1 - b1_t)
print("Keras (ε junto a √v)  :", (-(m * alpha) / (np.sqrt(v) + eps))[0])
m_hat, v_hat = m / (1 - b1), v / (1 - b2)                  # corrección de sesgo explícita
print("artículo (ε junto a √v̂):", (-lr * m_hat / (np.sqrt(v_hat) + eps))[0])

# %% [markdown]
# Con `g = 1e-6`, `√v ≈ 3.2e-8` es menor que ε y la forma de Keras da un paso casi cuatro veces
# más corto. (La línea de `b1_t, b2_t` reproduce otra costumbre de Keras: dentro de `β^t` las
# constantes pasan por `float32` incluso en `float64`; ver `as_keras_constant` en `minired/keras_numerics.py`.)
#
# ## Pruébalo: los optimizadores sobre los dígitos
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)

optimizers = {
    "SGD": lambda: mr.optimizers.SGD(learning_rate=0.01),
    "SGD momentum": lambda: mr.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    "SGD Nesterov": lambda: mr.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
    "RMSprop": lambda: mr.optimizers.RMSprop(learning_rate=0.001),
    "Adagrad": lambda: mr.optimizers.Adagrad(learning_rate=0.01),
    "Adam": lambda: mr.optimizers.Adam(learning_rate=0.001),
    "AdamW": lambda: mr.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004),
}
for name, make in optimizers.items():
    mr.utils.set_random_seed(0)                     # los mismos pesos iniciales para todos
    model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(32, activation="relu"),
                           mr.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=make(), loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=32, shuffle=False, verbose=0)
    print(f"{name:13s}", np.round(history.history["loss"], 3))

# %% [markdown]
# Cada fila es la pérdida media de cada época. Con `import keras as mr` las filas siguen el
# mismo patrón con otros números, porque los pesos iniciales son otros.
#
# ## Ejercicios
#
# 1. Reproduce el ejemplo del docstring de `SGD`: `momentum=0.9`, `lr=0.1`, dos pasos con
#    `g = 1` desde `w = 1`. ¿Por qué queda `0.71`?
# 2. Repite el primer fragmento con `g = np.array([1.0])`. ¿Siguen difiriendo las dos formas?
# 3. En el segundo fragmento prueba `SGD(learning_rate=0.1)` y `Adam(learning_rate=0.01)`.
#    ¿Cambia el orden de la tabla?
# 4. Aplica un paso de `AdamW(learning_rate=0.1, weight_decay=0.5)` con gradiente 0 a
#    `w = np.array([1.0], dtype="float32")`. ¿Cuánto vale `w`? ¿Y con `Adam`?
