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
# Sin funciones de activación (*activation functions*) no lineales, apilar capas no sirve de
# nada: dos capas lineales seguidas, $(xW^{(1)})\,W^{(2)} = x\,(W^{(1)} W^{(2)})$, son una sola
# capa lineal. La activación $f$ dobla el espacio y permite a la red representar fronteras
# curvas; `examples/xor.py` aprende XOR, que ninguna capa lineal puede separar, gracias a un
# `tanh` en la capa oculta (*hidden layer*).
#
# Para entrenar hace falta además la **derivada** de cada activación: en el paso hacia atrás
# (*backward pass*, lección 5) la capa recibe $\delta_a = \partial L / \partial a$ y tiene que
# devolver $\delta_z = \partial L / \partial z$.
#
# ## Las matemáticas, en la notación del código
#
# | nombre | $a = f(z)$ | paso hacia atrás: $\delta_z$ |
# |---|---|---|
# | `linear` | $z$ | $\delta_a$ |
# | `relu` | $\max(z, 0)$ | $\delta_a \cdot \mathbb{1}[z > 0]$ (en $z = 0$ la derivada vale 0, como en TensorFlow) |
# | `sigmoid` | $\dfrac{1}{1 + e^{-z}}$ | $\delta_a \cdot a\,(1 - a)$ |
# | `tanh` | $\tanh(z)$ | $\delta_a \cdot (1 - a^2)$ |
# | `softmax` | $\dfrac{e^{z_i}}{\sum_j e^{z_j}}$ (por filas) | $a \odot \big(\delta_a - \sum_j \delta_{a,j}\, a_j\big)$ |
# | `log_softmax` | $z_i - \log \sum_j e^{z_j}$ | $\delta_a - \operatorname{softmax}(z) \sum_j \delta_{a,j}$ |
#
# ($\delta_{a,j}$ es la componente $j$ de $\delta_a$ en la misma fila; $\odot$, el producto
# elemento a elemento.) Fíjate en que varias derivadas se escriben con la salida $a$, como
# $\sigma'(z) = a\,(1 - a)$: por eso el paso hacia atrás de cada activación recibe $z$ y $a$.
#
# El **softmax** no es elemento a elemento: cada salida depende de todas las entradas de la
# fila, así que su derivada es una matriz jacobiana (*Jacobian*) de $C \times C$,
# $\operatorname{diag}(a) - a\,a^\top$. El código nunca la construye: calcula directamente el
# producto
#
# $$
# \delta_z = a \odot \Big(\delta_a - \sum_j \delta_{a,j}\, a_j\Big).
# $$
#
# Escribir $p\,(1 - p)$ elemento a elemento es un error clásico (el apéndice A lo detecta).
#
# ![Las cinco activaciones de minired y sus derivadas; en el softmax, la salida a₁ y dos entradas de su jacobiana](../docs/img/activaciones.png)
#
# Cada curva sale del código de minired, `f(z)` y `f.backward(z, a, 1)` (`examples/course_figures.py`); en el softmax, $a_1(1 - a_1)$ es solo la diagonal de la jacobiana.
#
# Dos detalles numéricos que el código cuida:
#
# - `sigmoid` usa $u = e^{-\lvert z \rvert}$, que está en $(0, 1]$: para $z \ge 0$ calcula
#   $1/(1 + u)$ y para $z < 0$ calcula $u/(1 + u)$. Así la exponencial no se desborda nunca, ni
#   con $z = -1000$.
# - `softmax` y `log_softmax` restan antes el máximo de la fila: $e^{z - \max z}$ da el mismo
#   resultado y no se desborda.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 3](../docs/apendice-b-leer-el-codigo.md#leccion-3-funciones-de-activacion).
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
# Sin avisos de desbordamiento, incluso con $z = \pm 1000$. Observa la fila `sigmoid'`: la
# derivada vale como mucho 0.25 y es prácticamente 0 lejos del origen. Una sigmoide *saturada*
# (en la zona de saturación, *saturation*) deja pasar muy poco gradiente (*gradient*); por eso en
# capas ocultas se prefiere `relu`.
#
# En Keras las activaciones existen con el mismo nombre (`keras.activations.relu`...), pero no
# tienen `.backward`: Keras obtiene las derivadas por diferenciación automática (*automatic
# differentiation*, `tf.GradientTape`). La comparación `python -m comparisons forward` comprueba
# que los valores de `minired.activations` coinciden con los de `keras.activations`.
#
# ## Ejercicios
#
# 1. Comprueba cada derivada con diferencias finitas (*finite differences*, apéndice A):
#    `mr.config.set_floatx("float64")` y luego
#    `print(mr.gradcheck.check_function(f, f.backward, np.random.randn(4, 3)))` para cada `f`
#    de `mr.activations.ALL_ACTIVATIONS.values()`.
#
#     ??? note "Solución"
#         `print(result)` muestra el error relativo exacto, del orden de $10^{-10}$ (sus últimas
#         cifras dependen de la máquina); aquí se imprime solo si queda por debajo de $10^{-7}$.
#         Todas las derivadas pasan, también la del softmax, que usa el producto con la jacobiana.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         np.random.seed(0)
#         for f in mr.activations.ALL_ACTIVATIONS.values():
#             result = mr.gradcheck.check_function(f, f.backward, np.random.randn(4, 3))
#             print(f"{result.name:12s} error relativo < 1e-7: {result.relative_error < 1e-7}")
#         ```
#
#         ```text
#         linear       error relativo < 1e-7: True
#         relu         error relativo < 1e-7: True
#         sigmoid      error relativo < 1e-7: True
#         tanh         error relativo < 1e-7: True
#         softmax      error relativo < 1e-7: True
#         log_softmax  error relativo < 1e-7: True
#         ```
# 2. Escribe la sigmoide «ingenua» `1 / (1 + np.exp(-z))` y evalúala en $z = -1000$. ¿Qué aviso
#    da NumPy? ¿Por qué la versión de minired no lo da?
#
#     ??? note "Solución"
#         Con $z = -1000$, $e^{-z} = e^{1000}$ no cabe en un `float64` (el máximo ronda $e^{709}$):
#         NumPy da `inf` y avisa `overflow encountered in exp`. El resultado, $1/(1 + \infty) = 0$, es
#         correcto por suerte, pero el aviso delata el desbordamiento. minired calcula
#         $u = e^{-\lvert z \rvert} = e^{-1000}$, que como mucho se redondea a 0, y para $z < 0$
#         devuelve $u/(1 + u)$: la exponencial nunca crece.
#
#         ```python
#         import warnings
#
#         import numpy as np
#
#         import minired as mr
#
#         z = np.array([-1000.0])
#         with warnings.catch_warnings(record=True) as caught:
#             warnings.simplefilter("always")
#             naive = 1 / (1 + np.exp(-z))
#         print("ingenua:", naive, "| aviso:", caught[0].message)
#         print("minired:", mr.activations.sigmoid(z))
#         ```
#
#         ```text
#         ingenua: [0.] | aviso: overflow encountered in exp
#         minired: [0.]
#         ```
# 3.  En `examples/xor.py` cambia `activation="tanh"` por `activation="linear"` en la capa
#    oculta. ¿Qué exactitud (*accuracy*) obtiene ahora? Explica el resultado con la primera frase
#    de esta lección.
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.utils.set_random_seed(0)
#         x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
#         y = np.array([[0], [1], [1], [0]], dtype="float32")
#         model = mr.Sequential([
#             mr.Input((2,)),
#             mr.layers.Dense(8, activation="linear"),
#             mr.layers.Dense(1, activation="sigmoid"),
#         ])
#         model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.05),
#                       loss="binary_crossentropy", metrics=["accuracy"])
#         model.fit(x, y, epochs=300, batch_size=4, verbose=0)
#         loss, accuracy = model.evaluate(x, y, verbose=0)
#         print(f"XOR lineal: pérdida {loss:.4f}, exactitud {accuracy:.2%}")
#         print("predicciones:", np.round(model.predict(x, verbose=0).ravel(), 3))
#         ```
#
#         ```text
#         XOR lineal: pérdida 0.6931, exactitud 50.00%
#         predicciones: [0.5 0.5 0.5 0.5]
#         ```
#
#         Un 50 %: predice 0.5 para los cuatro puntos. Con la oculta lineal, las dos capas son una
#         sola capa lineal, $x\,(W^{(1)} W^{(2)})$ más un sesgo, seguida de la sigmoide: una regresión
#         logística, cuya frontera es una recta. Ninguna recta separa XOR, y lo mejor que puede
#         hacer con la entropía cruzada es no decidir, $p = 0.5$ en todos, con pérdida
#         $\ln 2 \approx 0.6931$.
# 4. Calcula el softmax de `[[1, 2, 3]]` a mano y compara con la salida de arriba. Después
#    multiplica los *logits* (la $z$ de la última capa, lección 6) por 10: ¿qué le pasa a la
#    distribución?
#
#     ??? note "Solución"
#         $e^1 + e^2 + e^3 \approx 2.718 + 7.389 + 20.086 = 30.193$, y dividiendo cada término:
#         $0.0900$, $0.2447$, $0.6652$, lo mismo que el fragmento. Con los logits por 10, la
#         distribución se concentra casi entera en la clase mayor: $e^{10}/e^{30} \approx 2 \cdot 10^{-9}$
#         y $e^{20}/e^{30} \approx 4.5 \cdot 10^{-5}$ para las otras. Escalar los logits es como bajar la
#         «temperatura»: el orden no cambia, pero el softmax se vuelve casi un argmax.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         z = np.array([[1.0, 2.0, 3.0]])
#         e = np.exp(z)
#         print("a mano  ", (e / e.sum()).round(4))
#         print("minired ", mr.activations.softmax(z).round(4))
#         print("logits·10", mr.activations.softmax(10 * z).round(4))
#         ```
#
#         ```text
#         a mano   [[0.09   0.2447 0.6652]]
#         minired  [[0.09   0.2447 0.6652]]
#         logits·10 [[0. 0. 1.]]
#         ```
