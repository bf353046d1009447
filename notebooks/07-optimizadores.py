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
# El optimizador (*optimizer*) decide **cómo** usar el gradiente (*gradient*)
# $g = \partial L / \partial w$ para mover cada peso. El descenso del gradiente (*gradient
# descent*) puro da pasos proporcionales a $g$; los demás añaden memoria del pasado: una
# **velocidad** que acumula la dirección (*momentum*), o una **escala por peso** que agranda los
# pasos de los pesos con gradientes pequeños y acorta los de gradientes grandes (Adagrad,
# RMSprop, Adam).
#
# ![Caminos de SGD, SGD con momentum, RMSprop y Adam sobre un valle alargado, y la pérdida en cada paso](../docs/img/descenso-del-gradiente.png)
#
# En un valle veinte veces más empinado en $w_2$ que en $w_1$, SGD zigzaguea, el momentum acelera a lo largo del valle (y se pasa), y RMSprop y Adam empiezan con pasos del mismo tamaño en las dos direcciones.
#
# ## Las matemáticas, en la forma exacta de Keras
#
# Con $\mathrm{lr}$ la tasa de aprendizaje (*learning rate*), $t$ = `iterations + 1` el
# número de paso, $\mu$ el `momentum`, $\rho$ el `rho` de RMSprop, $\beta_1$ y $\beta_2$ los de
# Adam y $\mathrm{wd}$ el `weight_decay`; todo el estado empieza en 0 salvo donde se dice:
#
# | optimizador | actualización | detalle |
# |---|---|---|
# | SGD | $w \leftarrow w - \mathrm{lr}\, g$ | |
# | SGD con momentum | $v \leftarrow \mu v - \mathrm{lr}\, g$, después $w \leftarrow w + v$ | |
# | SGD Nesterov | $v \leftarrow \mu v - \mathrm{lr}\, g$, después $w \leftarrow w + \mu v - \mathrm{lr}\, g$ | con $v$ ya actualizada |
# | RMSprop | $s \leftarrow \rho s + (1-\rho)\, g^2$, después $w \leftarrow w - \dfrac{\mathrm{lr}\, g}{\sqrt{s + \varepsilon}}$ | $\varepsilon$ dentro de la raíz |
# | Adagrad | $a \leftarrow a + g^2$, después $w \leftarrow w - \dfrac{\mathrm{lr}\, g}{\sqrt{a + \varepsilon}}$ | $a$ empieza en 0.1 |
# | AdamW | $w \leftarrow w - \mathrm{lr} \cdot \mathrm{wd} \cdot w$, después el paso de Adam | a todas las variables |
#
# Y Adam, con la corrección del sesgo de inicialización (*bias correction*) metida en
# $\alpha_t$ y $\varepsilon$ junto a la $\sqrt{v}$ **sin** corregir:
#
# $$
# \begin{aligned}
# \alpha_t &= \mathrm{lr} \, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \\
# m &\leftarrow m + (g - m)(1 - \beta_1) \\
# v &\leftarrow v + (g^2 - v)(1 - \beta_2) \\
# w &\leftarrow w - \frac{\alpha_t\, m}{\sqrt{v} + \varepsilon}
# \end{aligned}
# $$
#
# Valores por defecto: `SGD(learning_rate=0.01)`; `RMSprop`, `Adagrad`, `Adam` y `AdamW` con
# `learning_rate=0.001`; $\varepsilon = 10^{-7}$ en todos (PyTorch usa $10^{-8}$ en Adam y
# RMSprop y $10^{-10}$ en Adagrad, y en esos dos últimos lo suma fuera de la raíz);
# $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\rho = 0.9$; `AdamW(weight_decay=0.004)`.
# `compile(optimizer="adam")` crea el optimizador con esos valores por defecto, y si no indicas
# optimizador `compile` usa `"rmsprop"`.
#
# Tres detalles que cambian números:
#
# - **Dónde va $\varepsilon$ en Adam.** El artículo de Adam (Kingma y Ba, 2015) da dos formas. Su
#   Algoritmo 1 corrige el sesgo de inicialización de $m$ y $v$,
#   $\hat m = m / (1 - \beta_1^t)$ y $\hat v = v / (1 - \beta_2^t)$, y da el paso
#   $\mathrm{lr}\, \hat m / (\sqrt{\hat v} + \varepsilon)$. Al final de la sección 2, justo antes
#   de la 2.1, el mismo artículo propone reordenar las cuentas para ahorrar operaciones:
#   $\alpha_t = \mathrm{lr}\, \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$ y el paso
#   $\alpha_t\, m / (\sqrt{v} + \hat\varepsilon)$. **Keras usa esa segunda forma**, con su
#   $\varepsilon$ en el papel de $\hat\varepsilon$: no se aparta del artículo. Las dos formas
#   coinciden cuando $\hat\varepsilon = \varepsilon \sqrt{1 - \beta_2^t}$; con el mismo número
#   en las dos (Keras $10^{-7}$, PyTorch $10^{-8}$ en la primera) dan igual con gradientes
#   grandes, pero no con gradientes del orden de $\varepsilon$ (mira el fragmento).
# - **RMSprop no corrige el sesgo de inicialización**: como $s$ empieza en 0, el primer paso es
#   $\mathrm{lr}\, g / \sqrt{(1-\rho)\, g^2} \approx \mathrm{lr} / \sqrt{1-\rho}$, unas tres
#   veces $\mathrm{lr}$.
# - **AdamW no es Adam con L2.** Una penalización L2 entra en $g$ y Adam la reescala por peso;
#   el decaimiento de pesos (*weight decay*) de AdamW se aplica aparte,
#   $w \leftarrow w - \mathrm{lr} \cdot \mathrm{wd} \cdot w$, también a los sesgos (*bias*) de
#   las capas.
#
# Alrededor de la regla de cada optimizador, la clase base hace siempre lo mismo en cada llamada:
# recortar (*clipping*) los gradientes (`clipnorm`, `clipvalue` o `global_clipnorm`), aplicar el
# decaimiento `weight_decay` si existe, llamar a `update_step` variable por variable y sumar 1 a
# `iterations`. La tasa de aprendizaje se guarda en el tipo del modelo, como en Keras: en
# `float32`, `SGD(learning_rate=0.1)` da pasos con `float32(0.1) = 0.10000000149...`.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 7](../docs/apendice-b-leer-el-codigo.md#leccion-7-optimizadores).
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
print("minired Adam, paso 1    :", w[0])

# El mismo primer paso a mano (t = 1, m = v = 0 al empezar)
m, v = (1 - b1) * g, (1 - b2) * g**2
b1_t, b2_t = float(np.float32(b1)), float(np.float32(b2))   # β^t: Keras pasa β por float32
alpha = lr * np.sqrt(1 - b2_t) / (1 - b1_t)
print("Keras (forma de la §2)  :", (-(m * alpha) / (np.sqrt(v) + eps))[0])
m_hat, v_hat = m / (1 - b1), v / (1 - b2)    # corrección del sesgo de inicialización, aparte
print("artículo, Algoritmo 1   :", (-lr * m_hat / (np.sqrt(v_hat) + eps))[0])

# %% [markdown]
# Con $g = 10^{-6}$, $\sqrt{v} \approx 3.2 \cdot 10^{-8}$ es menor que $\varepsilon$ y la
# forma de Keras da un paso casi cuatro veces más corto que el Algoritmo 1 con el mismo
# $\varepsilon$. Las dos son del artículo: lo que cambia es a qué raíz se suma el
# $\varepsilon$. (La línea de `b1_t, b2_t` reproduce otra costumbre de Keras: dentro de
# $\beta^t$ las constantes pasan por `float32` incluso en `float64`; ver `as_keras_constant` en
# `minired/keras_numerics.py`.)
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
# Cada fila es la pérdida (*loss*) media de cada época (*epoch*). Con `import keras as mr` las
# filas siguen el mismo patrón con otros números, porque los pesos iniciales son otros.
#
# ## Ejercicios
#
# 1. Reproduce el ejemplo del docstring de `SGD`: `momentum=0.9`, `lr=0.1`, dos pasos con
#    `g = 1` desde `w = 1`. ¿Por qué queda `0.71`?
#
#     ??? note "Solución"
#         Con momentum, $v \leftarrow \mu v - \mathrm{lr}\, g$ y $w \leftarrow w + v$. Paso 1:
#         $v = -0.1$, $w = 0.9$. Paso 2: $v = 0.9 \cdot (-0.1) - 0.1 = -0.19$, $w = 0.9 - 0.19 = 0.71$.
#         El segundo paso es casi el doble que el primero porque la velocidad acumula los gradientes
#         anteriores; sin momentum quedaría $0.8$.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         w = np.array([1.0], dtype="float32")
#         opt = mr.optimizers.SGD(learning_rate=0.1, momentum=0.9)
#         for step in range(2):
#             opt.apply_gradients([(np.array([1.0], dtype="float32"), w)])
#             print(f"paso {step + 1}: w = {w[0]:.4f}")
#         ```
#
#         ```text
#         paso 1: w = 0.9000
#         paso 2: w = 0.7100
#         ```
# 2. Repite el primer fragmento con `g = np.array([1.0])`. ¿Siguen difiriendo las dos formas?
#
#     ??? note "Solución"
#         Casi nada: con $g = 1$, $\sqrt{v} \approx 0.032$ es mucho mayor que $\varepsilon = 10^{-7}$ y el
#         sitio donde se suma $\varepsilon$ apenas importa. Las dos dan un primer paso de $\mathrm{lr}$,
#         $-0.001$, y difieren en la octava cifra decimal.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
#         g = np.array([1.0])
#
#         w = np.array([0.0])
#         mr.optimizers.Adam(learning_rate=lr).apply_gradients([(g, w)])
#         print("minired Adam, paso 1    :", round(w[0], 9))
#
#         m, v = (1 - b1) * g, (1 - b2) * g**2
#         b1_t, b2_t = float(np.float32(b1)), float(np.float32(b2))
#         alpha = lr * np.sqrt(1 - b2_t) / (1 - b1_t)
#         print("Keras (forma de la §2)  :", round((-(m * alpha) / (np.sqrt(v) + eps))[0], 9))
#         m_hat, v_hat = m / (1 - b1), v / (1 - b2)
#         print("artículo, Algoritmo 1   :", round((-lr * m_hat / (np.sqrt(v_hat) + eps))[0], 9))
#         ```
#
#         ```text
#         minired Adam, paso 1    : -0.00099999
#         Keras (forma de la §2)  : -0.00099999
#         artículo, Algoritmo 1   : -0.001
#         ```
# 3. En el segundo fragmento prueba `SGD(learning_rate=0.1)` y `Adam(learning_rate=0.01)`.
#    ¿Cambia el orden de la tabla?
#
#     ??? note "Solución"
#         Sí. Con una tasa diez veces mayor, SGD pasa de ser el último a quedar cerca de momentum
#         (que con $\mu = 0.9$ y $\mathrm{lr} = 0.01$ da pasos efectivos de unos
#         $\mathrm{lr}/(1 - \mu) = 0.1$), y Adam con $0.01$ pasa a ser el primero. La tabla original
#         comparaba sobre todo tasas de aprendizaje, no optimizadores: antes de comparar hay que
#         ajustar la tasa de cada uno.
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
#         optimizers = {
#             "SGD 0.1": lambda: mr.optimizers.SGD(learning_rate=0.1),
#             "SGD momentum": lambda: mr.optimizers.SGD(learning_rate=0.01, momentum=0.9),
#             "SGD Nesterov": lambda: mr.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
#             "RMSprop": lambda: mr.optimizers.RMSprop(learning_rate=0.001),
#             "Adagrad": lambda: mr.optimizers.Adagrad(learning_rate=0.01),
#             "Adam 0.01": lambda: mr.optimizers.Adam(learning_rate=0.01),
#             "AdamW": lambda: mr.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004),
#         }
#         for name, make in optimizers.items():
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(32, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=make(), loss="categorical_crossentropy")
#             history = model.fit(x, y, epochs=5, batch_size=32, shuffle=False, verbose=0)
#             print(f"{name:13s}", np.round(history.history["loss"], 3))
#         ```
#
#         ```text
#         SGD 0.1       [1.786 0.88  0.483 0.336 0.267]
#         SGD momentum  [1.954 1.054 0.551 0.372 0.292]
#         SGD Nesterov  [1.936 1.032 0.539 0.365 0.287]
#         RMSprop       [2.032 1.572 1.159 0.848 0.636]
#         Adagrad       [2.153 1.859 1.606 1.383 1.195]
#         Adam 0.01     [0.983 0.312 0.219 0.177 0.129]
#         AdamW         [2.107 1.652 1.192 0.842 0.629]
#         ```
# 4. Aplica un paso de `AdamW(learning_rate=0.1, weight_decay=0.5)` con gradiente 0 a
#    `w = np.array([1.0], dtype="float32")`. ¿Cuánto vale `w`? ¿Y con `Adam`?
#
#     ??? note "Solución"
#         Con AdamW, $w \leftarrow w - \mathrm{lr} \cdot \mathrm{wd} \cdot w = 1 - 0.1 \cdot 0.5 = 0.95$:
#         el decaimiento se aplica aparte y actúa aunque el gradiente sea 0 (el paso de Adam es
#         $0 / (0 + \varepsilon) = 0$). Con Adam, sin decaimiento, `w` se queda en 1.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         for optimizer in [mr.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5),
#                           mr.optimizers.Adam(learning_rate=0.1)]:
#             w = np.array([1.0], dtype="float32")
#             optimizer.apply_gradients([(np.zeros(1, dtype="float32"), w)])
#             print(f"{type(optimizer).__name__:5s} w = {w[0]:.4f}")
#         ```
#
#         ```text
#         AdamW w = 0.9500
#         Adam  w = 1.0000
#         ```
