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
# # Apéndice A. Comprobar contra Keras (y contra las diferencias finitas)
#
# ## La idea
#
# Un paso hacia atrás (*backward pass*) equivocado no da error: la red entrena peor y nadie
# sabe por qué. minired se defiende con dos jueces independientes:
#
# 1. **Las diferencias finitas** (*finite differences*, `mr.gradcheck`): la derivada se puede
#    aproximar sin saber nada de retropropagación (*backpropagation*), perturbando cada número
#    y viendo cómo cambia la pérdida (*loss*).
# 2. **Keras** (`comparisons/`): el mismo modelo, con los mismos pesos y datos, debe dar en
#    minired y en Keras los mismos valores, gradientes (*gradients*), pasos del optimizador
#    (*optimizer*) y curvas de entrenamiento.
#
# ## `mr.gradcheck`: diferencias finitas
#
# La derivada central de una función escalar $f$, elemento a elemento (error $O(h^2)$,
# $h = 10^{-6}$; $e_i$ es el vector con un 1 en la posición $i$):
#
# $$
# \frac{\partial f}{\partial x_i} \approx \frac{f(x + h\, e_i) - f(x - h\, e_i)}{2h}
# $$
#
# Una capa devuelve un array, no un escalar, así que se comprueba un producto
# vector-jacobiano: se sortea un gradiente de arriba $\delta_{\text{out}}$ (el `δout` del
# código) y se deriva $f(x) = \sum \text{capa}(x) \odot \delta_{\text{out}}$, cuyo gradiente es
# exactamente lo que devuelve `capa.backward(δout)`. El error se mide **por array**, con $a$ el
# gradiente analítico y $n$ el numérico:
#
# $$
# \text{error relativo} = \frac{\max \lvert a - n \rvert}{\max\big(\max \lvert a \rvert,\ \max \lvert n \rvert,\ 10^{-8}\big)}
# $$
#
# Así un elemento que casi se cancela no domina el resultado. Hay que trabajar en `float64`:
# en `float32` el redondeo de $f$ dividido entre $2h$ lo tapa todo (las funciones se niegan a
# trabajar con otra cosa). Funciones de `minired/gradcheck.py`: `numerical_gradient`,
# `check_function` (activaciones), `check_layer` (entradas y pesos de una capa, incluidas sus
# penalizaciones; a un `Dropout` le repite la misma máscara), `check_loss` y `check_model`
# (todos los pesos de un modelo, vía `loss_and_gradients`).

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")             # las comprobaciones numéricas exigen float64
mr.utils.set_random_seed(0)
rng = np.random.default_rng(0)

# Una activación: ¿coincide f.backward con las diferencias finitas?
result = mr.gradcheck.check_function(mr.activations.tanh, mr.activations.tanh.backward,
                                     rng.normal(size=(4, 3)))
print(result)

# Una capa, con regularizador: entradas, kernel y bias
layer = mr.layers.Dense(3, activation="sigmoid", kernel_regularizer=mr.regularizers.L2(0.1))
for result in mr.gradcheck.check_layer(layer, rng.normal(size=(5, 4))):
    print(result)

# Un modelo entero: softmax + entropía cruzada (el camino de los logits)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(6, activation="relu"),
                       mr.layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
x, y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, size=8)]
worst = max(mr.gradcheck.check_model(model, x, y), key=lambda r: r.relative_error)
print("peor del modelo ->", worst)

# Un backward equivocado: el softmax derivado elemento a elemento, p(1 - p), sin el Jacobiano
def wrong_softmax_backward(z, a, grad):
    return grad * a * (1 - a)


print(mr.gradcheck.check_function(mr.activations.softmax, wrong_softmax_backward,
                                  rng.normal(size=(4, 3))))

# %% [markdown]
# Los gradientes correctos quedan en torno a $10^{-9}$ (el límite de las diferencias finitas);
# el softmax mal derivado, cerca de 1. `tests/test_gradients.py` hace estas comprobaciones
# sobre formas y valores sorteados con *hypothesis* y exige un error relativo menor que
# $10^{-6}$.
#
# ## `comparisons/`: minired contra Keras
#
# - `comparisons/mirror.py`: `to_keras(model)` construye el gemelo de Keras (capas,
#   activaciones, inicializadores, regularizadores, pesos actuales y, si está compilado,
#   pérdida, optimizador y métricas); `from_keras` va al revés.
# - `comparisons/common.py`: `twins(...)` crea un modelo minired y su gemelo;
#   `keras_loss_and_gradients` saca la pérdida y los gradientes de Keras con
#   `tf.GradientTape`; `gradient_pairs` los empareja con los de `loss_and_gradients`.
# - `comparisons/registry.py`: un caso es una función `caso(dtype) -> Outcome` registrada con
#   `@case("área", "nombre", kind=...)`, que devuelve tríos `(etiqueta, minired, keras)`;
#   `judge` mide cada par con la **diferencia relativa por array**
#   $\max \lvert \text{minired} - \text{keras} \rvert / \max \lvert \text{keras} \rvert$ y el
#   caso pasa si todas quedan por debajo de su tolerancia (*tolerance*).
# - Las áreas: `forward`, `gradients`, `optimizers`, `training`, `saturation`, `dropout`,
#   `initializers` y `graphs` (modelos que son grafos: conexiones residuales, varias entradas
#   y salidas, capas compartidas, modelos dentro de modelos y cada capa de fusión; ver la
#   [lección 13](../docs/13-backpropagation-en-un-grafo.md)).
#   Cada una se ejecuta en `float64` y en `float32` (los dos a la vez, con
#   `comparisons.keras_env.precision`).
#
# | tipo de caso (`kind`) | float64 | float32 | qué compara |
# |---|---|---|---|
# | `"step"` | 1e-10 | 1e-5 | valores del paso hacia delante (*forward pass*), gradientes, pasos sueltos del optimizador |
# | `"training"` | 1e-10 | 1e-4 | pérdidas, métricas y pesos tras varias épocas (*epochs*) de `fit` (5 en la mayoría) |
# | `"statistical"` | 5 | 5 | sorteos (máscaras de dropout), en errores estándar: $z = (\hat p - p) / \sqrt{p(1-p)/n}$ |
#
# En `float32` el entrenamiento acumula redondeos época a época, por eso su tolerancia es más
# ancha que la de un paso suelto. Las máscaras de dropout no se pueden reproducir (TensorFlow
# usa otro generador): o se le pasa a Keras la máscara de minired, o se comprueba la
# estadística con una cota de 5 sigmas. `training` usa `shuffle=False` en los dos, porque el
# orden aleatorio de Keras tampoco se puede reproducir.
#
# ```bash
# .venv/bin/python -m comparisons --list                          # todos los casos
# .venv/bin/python -m comparisons --precision float64 training     # un área, una precisión
# .venv/bin/python -m comparisons gradients/cce_softmax training/early_stopping dropout/keep_rate \
#     --report /tmp/informe                                      # tres casos, informe en /tmp
# ```
#
# La última orden imprimió (los valores más pequeños pueden variar un poco de una ejecución a
# otra):
#
# ```text
#           area        case                           precision    max abs    max rel tolerance  result
# ------------------------------------------------------------------------------------------------------
# [  1/6] gradients   cce_softmax                    float64     5.55e-17   2.88e-16     1e-10  pass
# [  2/6] gradients   cce_softmax                    float32     1.19e-07   1.67e-07     1e-05  pass
# [  3/6] training    early_stopping                 float64     4.44e-16   3.84e-16     1e-10  pass
# [  4/6] training    early_stopping                 float32     1.19e-07   1.04e-07     1e-04  pass
# [  5/6] dropout     keep_rate                      float64     1.26e+00   1.26e+00     5e+00  pass
# [  6/6] dropout     keep_rate                      float32     2.12e+00   2.12e+00     5e+00  pass
# ------------------------------------------------------------------------------------------------------
# 6 passed, 0 failed in 2 s. Report: /tmp/informe/summary.md
# ```
#
# En `keep_rate` la columna «max rel» es $\lvert z \rvert$, en errores estándar. La lección 12
# muestra la figura que deja este informe para `training/early_stopping` en `float32`. Si algún
# caso falla, el programa termina con código 1.
#
# ## Pruébalo: tu propia comparación
#
# `to_keras` sirve también para comparar a mano (desde la raíz del repositorio, porque
# `comparisons` no es un paquete instalado):
#
# <!-- repo -->

# %%
import numpy as np

from comparisons.keras_env import mr, precision
from comparisons.mirror import to_keras

with precision("float64"):                       # minired y Keras en float64 a la vez
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="tanh"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy")
    twin = to_keras(model)                       # mismas capas, pesos, pérdida y optimizador
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), np.eye(3)[rng.integers(0, 3, size=32)]
    ours = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0).history["loss"]
    theirs = twin.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0).history["loss"]

ours, theirs = np.array(ours), np.array(theirs)
print("minired:", ours.round(6))
print("Keras:  ", theirs.round(6))
print(f"error relativo: {np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)):.1e}")

# %% [markdown]
# ## Ejercicios
#
# 1. Escribe un paso hacia atrás de `relu` equivocado, que devuelva `grad` sin la máscara $z > 0$, y
#    pásalo a `check_function` junto a `mr.activations.relu`. ¿Qué error relativo da?
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         rng = np.random.default_rng(0)
#
#
#         def wrong_relu_backward(z, a, grad):
#             return grad                                  # falta la máscara z > 0
#
#
#         x = rng.normal(size=(4, 3))
#         print(mr.gradcheck.check_function(mr.activations.relu, mr.activations.relu.backward, x))
#         print(mr.gradcheck.check_function(mr.activations.relu, wrong_relu_backward, x))
#         ```
#
#         ```text
#         relu: relative error 2.28e-10 (worst element at (2, 0))
#         relu: relative error 9.70e-01 (worst element at (3, 0))
#         ```
#
#         Del orden de 1: donde $z < 0$ la derivada de verdad es 0, pero el paso equivocado deja
#         pasar el gradiente de arriba entero, así que el error es tan grande como el propio
#         gradiente. El correcto da un error minúsculo (la relu es lineal a trozos y las
#         diferencias centrales son exactas salvo redondeo).
#
# 2. Ejecuta `check_layer` sobre `mr.layers.Dropout(0.3)` con `training=True`. ¿Por qué hace
#    falta repetir la misma máscara en cada evaluación de `f`?
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         layer = mr.layers.Dropout(0.3, seed=0)
#         for result in mr.gradcheck.check_layer(layer, np.random.default_rng(0).normal(size=(5, 4)),
#                                                training=True):
#             print(result)
#         ```
#
#         ```text
#         dropout/inputs: relative error 3.12e-10 (worst element at (0, 0))
#         ```
#
#         Las diferencias finitas evalúan $f(x + h e_i)$ y $f(x - h e_i)$ y restan. Si cada llamada
#         sortease una máscara nueva, la diferencia mediría sobre todo el cambio de máscara (un
#         salto de tamaño $x_i/(1-0.3)$ dividido entre $2h = 2 \cdot 10^{-6}$), no la derivada. Con la
#         máscara fija el dropout es una función lineal, $x \odot m / (1-\mathrm{rate})$, y su
#         derivada es justo lo que devuelve `backward`: por eso `check_layer` restaura el estado del
#         generador antes de cada paso hacia delante.
#
# 3. Añade un caso nuevo a `comparisons/optimizers.py` copiando el ejemplo de su docstring
#    (`adam_beta2`) y ejecútalo con `python -m comparisons optimizers/adam_beta2`.
#
#     ??? note "Solución"
#         Las tres líneas del docstring van al final de `comparisons/optimizers.py`; `@case` registra
#         la función en `CASES` con el identificador `optimizers/adam_beta2`, y `python -m comparisons
#         optimizers/adam_beta2` la ejecuta en `float64` y en `float32`. Lo mismo, sin tocar el
#         fichero (registrando el caso en este proceso y llamando a `Case.run`, que es lo que hace la
#         línea de órdenes):
#
#         ```python
#         from comparisons.optimizers import compare_steps
#         from comparisons.registry import CASES, case
#
#
#         @case("optimizers", "adam_beta2", kind="step")
#         def adam_beta2(dtype):
#             '''Adam with a short second-moment memory.'''
#             return compare_steps(dtype, lambda o: o.Adam(learning_rate=0.1, beta_2=0.9))
#
#
#         for dtype in ("float64", "float32"):
#             m = CASES["optimizers/adam_beta2"].run(dtype)
#             print(f"{m.area}/{m.name} {m.dtype}: tolerancia {m.tolerance:.0e},",
#                   "pass" if m.passed else "FAIL")
#         ```
#
#         ```text
#         optimizers/adam_beta2 float64: tolerancia 1e-10, pass
#         optimizers/adam_beta2 float32: tolerancia 1e-05, pass
#         ```
#
#         Pasa en las dos precisiones: con `beta_2=0.9` el segundo momento olvida antes, pero minired
#         y Keras aplican la misma fórmula, así que el desplazamiento de los pesos coincide hasta el
#         redondeo (en esta máquina, `m.max_rel` sale incluso 0).
#
# 4. En el último fragmento cambia `precision("float64")` por `precision("float32")`. ¿De qué
#    orden es ahora el error relativo? ¿Cabe en la tolerancia de `"training"`?
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#
#         from comparisons.keras_env import mr, precision
#         from comparisons.mirror import to_keras
#
#         with precision("float32"):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="tanh"),
#                                    mr.layers.Dense(3, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy")
#             twin = to_keras(model)
#             rng = np.random.default_rng(0)
#             x, y = rng.normal(size=(32, 4)), np.eye(3)[rng.integers(0, 3, size=32)]
#             ours = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0).history["loss"]
#             theirs = twin.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0).history["loss"]
#
#         ours, theirs = np.array(ours), np.array(theirs)
#         print(f"pérdidas, error relativo: {np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)):.1e}")
#         worst = max(float(np.max(np.abs(w - v)) / np.max(np.abs(v)))
#                     for w, v in zip(model.get_weights(), twin.get_weights()))
#         print(f"pesos finales, peor error relativo: {worst:.1e}")
#         print("¿cabe en la tolerancia de training (1e-4)?", worst < 1e-4)
#         ```
#
#         ```text
#         pérdidas, error relativo: 0.0e+00
#         pesos finales, peor error relativo: 1.9e-07
#         ¿cabe en la tolerancia de training (1e-4)? True
#         ```
#
#         Del orden de $10^{-7}$, el épsilon de `float32` ($2^{-23} \approx 1.2 \cdot 10^{-7}$), en
#         lugar del $10^{-16}$ de `float64`. Las cinco pérdidas incluso salen idénticas al
#         redondearlas a `float32`; los pesos difieren en el último bit porque las dos librerías suman
#         en otro orden. Cabe de sobra en la tolerancia de `"training"` en `float32` ($10^{-4}$), que
#         deja margen para los redondeos que se acumulan época a época.
