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
# # 15. Diferenciación automática y capas propias
#
# ## La idea
#
# Todas las capas que hemos usado hasta aquí llevan su paso hacia atrás escrito a mano: la
# `Dense` de la lección 5 calcula $\delta_z$, $x^\top \delta_z$ y $\delta_z W^\top$ con fórmulas
# que alguien derivó en papel. Para aprender es lo mejor, pero no escala: cada capa nueva
# pediría derivar y programar su `backward`, y un error en una fórmula no se nota hasta que el
# entrenamiento va mal.
#
# Keras no pide eso. Para una capa propia se escribe solo el cálculo hacia delante, el método
# `call`, y TensorFlow obtiene el gradiente solo. La técnica se llama **diferenciación
# automática en modo inverso** (*reverse-mode automatic differentiation*), y es
# backpropagation hecha por la máquina:
#
# - hacia delante, mientras se calcula, una **cinta** (*tape*) apunta cada operación: su
#   resultado, sus entradas y cómo se deriva;
# - hacia atrás, se lee la cinta al revés, y cada operación convierte el $\delta$ de su salida
#   en el $\delta$ de sus entradas, como cada capa en la lección 5.
#
# No es diferenciación simbólica (no se manipulan fórmulas) ni numérica (no hay diferencias
# finitas): cada operación sabe calcular exactamente su parte de la regla de la cadena, y la
# cinta las encadena. minired la tiene con los nombres de Keras y TensorFlow:
# `mr.autodiff.GradientTape` (la cinta, `tf.GradientTape`), `mr.ops` (las operaciones, las de
# `keras.ops`) y `mr.Variable` (un peso, `keras.Variable`). Con ellas esta lección escribe
# capas, pérdidas y modelos propios que `fit` entrena igual que los de serie.
#
# ## La API, como en Keras
#
# | qué | cómo |
# |---|---|
# | grabar un cálculo | `with mr.autodiff.GradientTape() as tape:` y dentro, operaciones de `mr.ops` (o `+`, `*`, `@`...) |
# | pedir un gradiente | `tape.gradient(L, [W, b])`: $\partial L / \partial W$ y $\partial L / \partial b$ |
# | seguir un array que no es un peso | `x = tape.watch(x)` |
# | un peso | `mr.Variable(valor)`, o en una capa `self.add_weight(shape, initializer, trainable)` |
# | una capa propia | una subclase de `mr.layers.Layer` con `build(input_shape)` y `call(inputs)` |
# | un modelo propio | una subclase de `mr.Model` con sus capas en `__init__` y `call(inputs)` |
# | una pérdida propia | una función `perdida(y_true, y_pred)` escrita con `mr.ops`, en `compile(loss=perdida)` |
# | una pérdida extra | `self.add_loss(valor)` dentro de `call` |
#
# ## La cinta, paso a paso
#
# La capa más sencilla, $y = \tanh(xW + b)$, con la pérdida $L = \operatorname{media}\big((y - t)^2\big)$
# y unos objetivos $t$. Dentro de `GradientTape`, cada operación de `mr.ops` deja un
# **registro** (*record*) en `tape.records`:

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")
rng = np.random.default_rng(0)
x = rng.normal(size=(4, 3))                          # un lote: N = 4 ejemplos, 3 entradas
W = mr.Variable(rng.normal(size=(3, 2)), name="W")   # los pesos: Variables
b = mr.Variable([0.1, -0.2], name="b")
t = rng.normal(size=(4, 2))                          # los objetivos

with mr.autodiff.GradientTape() as tape:
    z1 = ops.matmul(x, W)                            # registro 1
    z = z1 + b                                       # registro 2: `+` es ops.add
    y = ops.tanh(z)                                  # registro 3
    L = ops.mean(ops.square(y - t))                  # la pérdida: tres registros más

for registro in tape.records:
    nombre = registro.vjp.__qualname__.split(".")[0]   # la op que escribió el registro
    print(f"{nombre:8} lee {[np.shape(e) for e in registro.inputs]}, da {registro.output.shape}")
print(f"L = {float(L):.6f}", type(L).__name__)

dW, db = tape.gradient(L, [W, b])
print("∂L/∂W =\n", np.round(dW, 4))
print("∂L/∂b =", np.round(db, 4))

# %% [markdown]
# Cada registro guarda tres cosas: la **salida** que calculó la operación, sus **entradas** y
# una función, `vjp`, que sabe convertir el $\delta$ de la salida en el $\delta$ de cada
# entrada. `L` es un `Tensor`: un array de NumPy que la cinta puede seguir (`mr.autodiff.Tensor`,
# una subclase de `np.ndarray`); fuera de una cinta, las mismas operaciones devuelven arrays
# normales. `x` no es un peso ni se ha vigilado con `tape.watch`, así que es una constante:
# `tape.gradient` solo puede dar gradientes de lo que la cinta sigue.
#
# La figura dibuja los tres primeros registros con un ejemplo de $2 \times 2$, con los números
# que calcula minired (`examples/course_figures.py`). Hacia delante (en negro), cada operación
# deja su registro y su valor; hacia atrás (en rojo), `tape.gradient` visita los registros del
# último al primero, y cada VJP recibe el $\delta$ de su salida y lo reparte entre sus
# entradas:
#
# ![La cinta de y = tanh(x @ W + b): tres registros hacia delante y sus VJP hacia atrás](../docs/img/cinta-autodiff.png)
#
# ## Las matemáticas, en la notación del código
#
# ### Qué es un VJP
#
# Una operación $a = f(x)$ con arrays tiene una derivada que es una matriz enorme, la
# **matriz jacobiana** (*Jacobian*) $\partial a / \partial x$: una fila por cada número de
# $a$ y una columna por cada número de $x$. Para `matmul` con $x$ de $(4, 3)$ y $W$ de
# $(3, 2)$, $\partial z_1 / \partial x$ tiene $8 \times 12 = 96$ números, y 72 son cero (la
# fila $n$ de $z_1$ solo depende de la fila $n$ de $x$). La regla de la cadena solo la
# necesita multiplicada por el $\delta$ que llega:
#
# $$
# \delta_x = \Big(\frac{\partial a}{\partial x}\Big)^{\!\top} \delta_a .
# $$
#
# Esto es un **producto vector-jacobiano** (*vector-Jacobian product*, VJP), y para cada
# operación tiene una fórmula corta que no construye nunca la matriz jacobiana:
#
# | op | hacia delante | VJP |
# |---|---|---|
# | `add` | $a = x_1 + x_2$ | $\delta_{x_1} = \delta_a$, $\delta_{x_2} = \delta_a$ |
# | `multiply` | $a = x_1 \odot x_2$ | $\delta_{x_1} = \delta_a \odot x_2$, $\delta_{x_2} = \delta_a \odot x_1$ |
# | `matmul` | $a = x_1 x_2$ | $\delta_{x_1} = \delta_a\, x_2^\top$, $\delta_{x_2} = x_1^\top \delta_a$ |
# | `tanh` | $a = \tanh x$ | $\delta_x = \delta_a \odot (1 - a^2)$ |
# | `sum` | $a = \sum_n x_n$ | $\delta_x = \delta_a$, copiado a cada sumando |
#
# Son las fórmulas de las lecciones 5 y 13, ahora una por operación en vez de una por capa.
# En minired cada operación de `mr.ops` las lleva escritas en la última línea, al llamar a
# `record` (de `minired/ops/elementwise.py` y `minired/ops/linalg.py`):
#
# ```py
# def add(x1, x2):
#     """``a = x₁ + x₂``. VJP: ``δx₁ = δa``, ``δx₂ = δa``."""
#     v1, v2, dt = _binary(x1, x2)
#     return record(_cast(np.add(v1, v2), dt), (x1, x2), lambda g: (g, g))
#
#
# def tanh(x):
#     """``a = tanh x``. VJP: ``δx = δa ⊙ (1 − a²)``."""
#     a = np.tanh(_float(x))
#     return record(a, (x,), lambda g: (g * (1 - a * a),))
# ```
#
# `record(salida, entradas, vjp)` devuelve la salida y, si hay una cinta grabando y alguna
# entrada es un `Tensor`, añade el registro. `g` es el $\delta_a$ que llegará hacia atrás.
#
# ### Recorrer la cinta al revés
#
# `tape.gradient(L, fuentes)` empieza con $\delta_L = 1$ y visita los registros en orden
# inverso. Cuando le toca a un registro, todas las operaciones que leyeron su salida estaban
# después en la cinta, así que ya han pasado y el $\delta$ de esa salida está completo: es el
# mismo argumento del orden topológico de la lección 13, y la cinta **es** un orden
# topológico, el orden en que se ejecutó el código. Para el ejemplo:
#
# $$
# \begin{aligned}
# \delta_y &= \tfrac{2}{8}\,(y - t) && \text{(los registros de la pérdida)} \\
# \delta_z &= \delta_y \odot (1 - y^2) && \text{(VJP de tanh)} \\
# \delta_{z_1} &= \delta_z, \quad \delta_b = \textstyle\sum_n \delta_{z,n} && \text{(VJP de add, y la difusión)} \\
# \delta_x &= \delta_{z_1} W^\top, \quad \frac{\partial L}{\partial W} = x^\top \delta_{z_1} && \text{(VJP de matmul)}
# \end{aligned}
# $$
#
# Son, línea a línea, las fórmulas de la lección 5 para una `Dense` con `tanh`; la diferencia
# es que nadie las ha escrito para esta capa: salen de encadenar los VJP de tres operaciones.
#
# ### Un valor leído dos veces: las contribuciones se suman
#
# Si un array lo leen dos operaciones, o la misma operación por sus dos entradas, como $x$ en
# $x \odot x$, cada lectura devuelve su parte del $\delta$ y la cinta las **suma**: es la regla
# de la bifurcación de la [lección 13](../docs/13-backpropagation-en-un-grafo.md), con una operación
# en lugar de una capa. Para $y = \sum x \odot x$, el VJP de `multiply` devuelve
# $\delta_a \odot x$ a cada entrada, y las dos son $x$: $\partial y / \partial x = x + x = 2x$.
#
# La **difusión** (*broadcasting*) es otra bifurcación escondida. En $z = z_1 + b$, $b$ tiene
# forma $(2,)$ y NumPy la suma a cada una de las $N$ filas: cada $b_j$ se lee $N$ veces. El
# VJP de `add` devuelve $\delta_z$, de forma $(N, 2)$, y la cinta lo reduce a la forma de $b$
# sumando sobre el eje estirado (`unbroadcast`): $\delta_b = \sum_n \delta_{z,n}$, el
# $\partial L / \partial b$ de la lección 5.
#
# ### Por qué en modo inverso
#
# Hay dos formas de encadenar derivadas. El **modo directo** (*forward mode*) empuja hacia
# delante, junto a cada valor, su derivada respecto de **una** entrada: para $P$ pesos hacen
# falta $P$ pasadas. El **modo inverso** empuja hacia atrás el $\delta$ de **una** salida:
# como la pérdida es un solo número, una pasada hacia atrás da el gradiente de todos los pesos
# a la vez, por un coste de unas pocas pasadas hacia delante, tenga la red 100 parámetros o
# 100 millones. Las diferencias finitas centrales cuestan $2P$ pasadas hacia delante, y además
# son aproximadas. Por eso el deep learning usa el modo inverso: backpropagation es eso.
#
# El precio es la memoria: hacia atrás hacen falta los valores de la ida (el $y$ del VJP de
# `tanh`, el $x$ del de `matmul`), así que la cinta los guarda todos hasta el final, como la
# caché de las capas.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código
# fuente (el [apéndice B](../docs/apendice-b-leer-el-codigo.md#leccion-15-diferenciacion-automatica-y-capas-propias)
# propone un orden de lectura):
#
# - `minired/autodiff/tape.py`: `GradientTape` (`watch`, `gradient`, y `backward`, el
#   recorrido al revés, en una docena de líneas), `record` (lo que llama cada operación) y `unbroadcast`.
# - `minired/autodiff/tensor.py`: `Tensor`, el array que la cinta sigue, y cómo `x @ W`,
#   `x + b` o `np.tanh(x)` se convierten en llamadas a `mr.ops`.
# - `minired/ops/`: las operaciones de `keras.ops`, cada una con su VJP en el docstring y en
#   la última línea (`elementwise.py`, `linalg.py`, `reductions.py`, `nn.py`...).
# - `minired/variables.py`: `Variable`, un peso con nombre, `trainable` y `assign`.
# - `minired/autodiff/layer_calls.py`: cómo corre el `call` de una capa propia sobre una cinta
#   (`run_call`, `backward_call`) y cómo una capa de serie entra en la cinta como una sola
#   operación cuyo VJP es su `backward` (`record_layer_call`).
#
# ## Pruébalo: el mismo gradiente de tres formas
#
# A mano, con las fórmulas de la lección 5; con la cinta; y con diferencias finitas
# (`mr.gradcheck.numerical_gradient`, que mueve cada número $\pm h$ y vuelve a calcular $L$):

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")
rng = np.random.default_rng(0)
x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), np.array([0.1, -0.2])
t = rng.normal(size=(4, 2))

# 1. A mano: las fórmulas de la lección 5
y = np.tanh(x @ W + b)
delta_y = 2 * (y - t) / y.size                 # L = media de (y − t)² sobre los 8 números
delta_z = delta_y * (1 - y**2)                 # tanh'(z) = 1 − y²
mano = {"W": x.T @ delta_z, "b": delta_z.sum(axis=0), "x": delta_z @ W.T}

# 2. La cinta: el mismo cálculo, escrito con mr.ops, y tape.gradient
with mr.autodiff.GradientTape() as tape:
    fuentes = {"W": mr.Variable(W), "b": mr.Variable(b), "x": tape.watch(x)}
    y_cinta = ops.tanh(ops.matmul(fuentes["x"], fuentes["W"]) + fuentes["b"])
    L = ops.mean(ops.square(y_cinta - t))
cinta = dict(zip(fuentes, tape.gradient(L, list(fuentes.values()))))

# 3. Diferencias finitas: mover cada número ±h y volver a calcular L (con NumPy)
def perdida():
    return float(np.mean((np.tanh(x @ W + b) - t) ** 2))

finitas = {nombre: mr.gradcheck.numerical_gradient(perdida, array)
           for nombre, array in (("W", W), ("b", b), ("x", x))}

for nombre in ("W", "b", "x"):
    print(f"∂L/∂{nombre} {str(mano[nombre].shape):7}"
          f"  |mano − cinta| = {np.abs(mano[nombre] - cinta[nombre]).max():.1e}"
          f"  |mano − finitas| = {np.abs(mano[nombre] - finitas[nombre]).max():.1e}")

# %% [markdown]
# La cinta y las fórmulas coinciden **exactamente**: hacen las mismas multiplicaciones en el
# mismo orden. Las diferencias finitas se quedan a unos $10^{-11}$, el error de aproximar una
# derivada con un paso $h = 10^{-6}$ en `float64`.
#
# ## Pruébalo: los VJP de cinco operaciones
#
# Cada operación, sola, con un $\delta_a$ cualquiera: el VJP de la cinta
# (`tape.gradient(a, entradas, output_gradient=δa)`), la fórmula de la tabla y las diferencias
# finitas de $\sum a \odot \delta_a$, cuyo gradiente es justo ese VJP:

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")
rng = np.random.default_rng(1)
A, B, C = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(3, 2))

# op: (la función, sus entradas, su VJP escrito a mano: δa -> un δ por entrada)
casos = {
    "add":      (ops.add,      (A, B), lambda g: (g, g)),
    "multiply": (ops.multiply, (A, B), lambda g: (g * B, g * A)),
    "matmul":   (ops.matmul,   (A, C), lambda g: (g @ C.T, A.T @ g)),
    "tanh":     (ops.tanh,     (A,),   lambda g: (g * (1 - np.tanh(A) ** 2),)),
    "sum":      (lambda v: ops.sum(v, axis=0), (A,), lambda g: (np.ones_like(A) * g,)),
}
for nombre, (op, entradas, vjp) in casos.items():
    a = op(*entradas)                                  # sin cinta: un array de NumPy
    delta_a = rng.normal(size=np.shape(a))             # un δa cualquiera, de la forma de a
    with mr.autodiff.GradientTape() as tape:
        hojas = [tape.watch(e) for e in entradas]
        salida = op(*hojas)
    cinta = tape.gradient(salida, hojas, output_gradient=delta_a)
    finitas = [mr.gradcheck.numerical_gradient(lambda: float(np.sum(op(*entradas) * delta_a)), e)
               for e in entradas]
    formula = vjp(delta_a)
    print(f"{nombre:8} a {str(np.shape(a)):6}"
          f" |cinta − fórmula| = {max(np.abs(c - f).max() for c, f in zip(cinta, formula)):.0e}"
          f"  |cinta − finitas| = {max(np.abs(c - n).max() for c, n in zip(cinta, finitas)):.0e}")

# %% [markdown]
# `tape.watch(e)` convierte cada entrada en una **hoja** (*leaf*): un valor que no sale de
# ninguna operación de la cinta y respecto del cual se puede pedir el gradiente. Las
# `Variable` son hojas siempre. `output_gradient` es el $\delta$ con el que empieza el recorrido
# (sin él, unos: el gradiente de la suma de la salida).
#
# ## Pruébalo: las bifurcaciones y la difusión

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")

# Un valor leído dos veces: x ⊙ x lee x por sus dos entradas
with mr.autodiff.GradientTape() as tape:
    x = tape.watch(np.array([1.0, 2.0, 3.0]))
    y = ops.sum(x * x)
registro = tape.records[0]                                  # el de multiply
print("las dos entradas son el mismo array:", registro.inputs[0] is registro.inputs[1])
print("lo que el VJP devuelve a cada una:", *registro.vjp(np.ones(3)))
print("∂y/∂x =", tape.gradient(y, x), " (2x: las dos partes sumadas)")

# La difusión: b, de forma (2,), se suma a cada una de las 4 filas
delta_z = np.arange(8.0).reshape(4, 2)                      # un δz cualquiera
with mr.autodiff.GradientTape() as tape:
    b = mr.Variable([0.1, -0.2])
    z = ops.zeros((4, 2)) + b
print("∂L/∂b =", tape.gradient(z, b, output_gradient=delta_z),
      " Σ filas de δz =", delta_z.sum(axis=0))
print("unbroadcast:", mr.autodiff.tape.unbroadcast(delta_z, (2,)),
      mr.autodiff.tape.unbroadcast(delta_z, (1, 2)).tolist())

# %% [markdown]
# El VJP de `multiply` no sabe que sus dos entradas son el mismo array: devuelve $x$ a cada
# una, y es el recorrido de la cinta el que las suma (`_accumulate` en `tape.py`, la misma
# línea `δ += ...` que la bifurcación de `Functional.backward`). `unbroadcast` suma los ejes
# que la difusión estiró: los que faltan a la izquierda, o los que valían 1.
#
# ## Pruébalo: el coste, contado
#
# Una red con $P = 369$ pesos. Cuántas pasadas hacia delante y hacia atrás cuesta su gradiente
# con backpropagation y con diferencias finitas centrales, contadas envolviendo los métodos
# `forward` y `backward` del modelo:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(16, activation="tanh"),
                       mr.layers.Dense(16, activation="tanh"), mr.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(0)
x, y = rng.normal(size=(32, 4)), rng.normal(size=(32, 1))
P = model.count_params()

pasadas = {"hacia delante": 0, "hacia atrás": 0}
forward, backward = model.forward, model.backward


def contar_forward(*args, **kwargs):
    pasadas["hacia delante"] += 1
    return forward(*args, **kwargs)


def contar_backward(*args, **kwargs):
    pasadas["hacia atrás"] += 1
    return backward(*args, **kwargs)


model.forward, model.backward = contar_forward, contar_backward
_, grads = model.loss_and_gradients(x, y)                  # el modo inverso
print(f"P = {P} parámetros. Backpropagation:", pasadas)

pasadas.update({"hacia delante": 0, "hacia atrás": 0})


def perdida():                                             # solo hacia delante
    return float(np.mean((model(x) - y) ** 2))


finitas = [mr.gradcheck.numerical_gradient(perdida, w) for w in model.weights]
print("Diferencias finitas centrales:", pasadas, f"(2P = {2 * P})")
error = max(np.abs(g - n).max() for g, n in zip(grads, finitas))
print(f"máx. |backprop − finitas| = {error:.0e}")

# %% [markdown]
# Una ida y una vuelta frente a 738 idas. Una pasada hacia atrás cuesta más o menos lo que dos
# hacia delante (cada `matmul` de la ida pide dos de vuelta, $\delta_{x_1}$ y $\delta_{x_2}$),
# así que aquí el modo inverso es unas 250 veces más barato; con el millón de pesos de una red
# pequeña de verdad, la proporción sería de cientos de miles. Las diferencias finitas
# solo sirven para **comprobar** un gradiente, nunca para entrenar.
#
# ## Capas propias
#
# ### Una capa `Linear`
#
# Una capa propia es una subclase de `mr.layers.Layer` con dos métodos:
#
# - `build(input_shape)` crea los pesos con `self.add_weight(shape, initializer, trainable,
#   name)` cuando se conoce la forma de la entrada (la primera vez que se llama a la capa);
#   cada uno es una `mr.Variable`, y la capa los recoge en `weights`;
# - `call(inputs)` calcula la salida con `mr.ops` (o con operadores de NumPy sobre los
#   `Tensor`: `inputs @ self.w` también vale).
#
# No hay `backward`: durante `fit`, minired ejecuta `call` sobre una cinta y la recorre hacia
# atrás. `get_config` devuelve los argumentos del constructor, para poder guardar el modelo
# (lección 14).
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")


class Linear(mr.layers.Layer):
    """z = x W + b, como Dense sin activación, pero sin backward escrito a mano."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="glorot_uniform", name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


mr.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3))
y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2 - x[:, 2:3]

model = mr.Sequential([mr.Input((3,)), Linear(16, name="oculta"),
                       mr.layers.Activation("tanh"), Linear(1, name="salida")])
model.compile(optimizer=mr.optimizers.Adam(0.03), loss="mse")
model.summary()
historia = model.fit(x, y, epochs=50, batch_size=16, verbose=0)
print("pérdida, época 1 y 50:", [round(historia.history["loss"][i], 4) for i in (0, -1)])
print([(w.name, w.shape) for w in model.weights[:2]], type(model.weights[0]).__name__)

# %% [markdown]
# Con `import keras as mr` y `from keras import ops` el fragmento funciona igual, con otros
# números porque Keras sortea otros pesos iniciales (la sección [En Keras](#en-keras) lo
# comprueba partiendo de los mismos pesos). `Linear` se mezcla con las capas de serie: aquí, con una
# `Activation`.
#
# ### El cruce: el mismo gradiente por los dos caminos
#
# `Linear` con `Activation("tanh")` calcula lo mismo que `Dense(16, activation="tanh")`. Una
# recibe su gradiente de la cinta; la otra, de su `backward` escrito a mano. Con los mismos
# pesos, los dos caminos deben dar los mismos números, y las diferencias finitas de
# `mr.gradcheck.check_model` también funcionan con capas propias:

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")


class Linear(mr.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


mr.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
propio = mr.Sequential([mr.Input((3,)), Linear(16), mr.layers.Activation("tanh"), Linear(1)])
de_serie = mr.Sequential([mr.Input((3,)), mr.layers.Dense(16, activation="tanh"),
                          mr.layers.Dense(1)])
de_serie.set_weights(propio.get_weights())
for model in (propio, de_serie):
    model.compile(optimizer="sgd", loss="mse")

(L1, g1), (L2, g2) = propio.loss_and_gradients(x, y), de_serie.loss_and_gradients(x, y)
print("|ΔL| =", abs(L1 - L2), "  máx. |Δ ∂L/∂w| =",
      max(np.abs(a - b).max() for a, b in zip(g1, g2)))
errores = [r.relative_error for r in mr.gradcheck.check_model(propio, x, y)]
print(f"gradcheck de la capa propia: error relativo máximo {max(errores):.0e}")

# %% [markdown]
# Esta es la idea con la que minired comprueba sus dos mitades: el `backward` escrito a mano de
# cada capa de serie (lo que enseña el curso) y la cinta (lo que usan tus capas) son dos
# cálculos independientes del mismo gradiente. Si coinciden entre sí y con las diferencias
# finitas, es muy difícil que los dos estén mal de la misma manera.
#
# ### Una pérdida propia y un modelo propio
#
# Una **pérdida** puede ser una función `perdida(y_true, y_pred)` escrita con `mr.ops`, que
# devuelva un número por ejemplo; `compile(loss=perdida)` la promedia sobre el lote, como las
# de serie. Un **modelo** puede ser una subclase de `mr.Model`: sus capas son atributos creados
# en `__init__` (el modelo las encuentra solo) y `call` dice cómo se conectan, con cualquier
# código de Python en medio:

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")


def mi_mse(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)      # un número por ejemplo


class MLP(mr.Model):
    def __init__(self, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.oculta = mr.layers.Dense(hidden, activation="tanh")
        self.salida = mr.layers.Dense(1)

    def call(self, inputs):
        return self.salida(self.oculta(inputs))


mr.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3))
y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2 - x[:, 2:3]

model = MLP()
model.compile(optimizer=mr.optimizers.Adam(0.03), loss=mi_mse)
historia = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
print("pérdida, época 1 y 20:", [round(historia.history["loss"][i], 4) for i in (0, -1)])
print("pesos:", [w.shape for w in model.weights])

L_propia, g_propia = model.loss_and_gradients(x, y)
model.compile(optimizer="sgd", loss="mse")                     # la de serie
L_serie, g_serie = model.loss_and_gradients(x, y)
print("mi_mse − mse:", L_propia - L_serie, " gradientes:",
      max(np.abs(a - b).max() for a, b in zip(g_propia, g_serie)))

# %% [markdown]
# `mi_mse` pasa por la cinta (su $\partial L / \partial \hat y$ sale de los VJP de `subtract`,
# `square` y `mean`); `"mse"` usa el `value_and_gradient` escrito a mano de la lección 6. Dan
# lo mismo. Hasta `fit` el fragmento es código de Keras; `loss_and_gradients` es de minired.
# `MLP` tiene la misma pérdida en la época 1 que la red `Linear` de antes: las
# mismas formas de pesos, sorteados con la misma semilla.
#
# ### `add_loss` y los pesos no entrenables
#
# Dos cosas más que una capa puede hacer en `call`:
#
# - `self.add_loss(valor)` suma un término a la pérdida del modelo: una penalización que
#   depende de las activaciones, por ejemplo (la regularización de la lección 9 penaliza los
#   pesos; esta, lo que la capa calcula). La cinta lo deriva como el resto: su $\delta$ inicial
#   es 1;
# - `self.add_weight(..., trainable=False)` crea un peso que el optimizador no toca: un
#   contador, una media móvil. Se cambia con `assign` o `assign_add`, y `summary` lo cuenta
#   aparte.
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")


class Actividad(mr.layers.Layer):
    """Deja pasar la entrada y añade a la pérdida rate · media de Σ a² por ejemplo."""

    def __init__(self, rate=0.01, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(ops.sum(ops.square(inputs), axis=-1)))
        return inputs


class Contador(mr.layers.Layer):
    """Cuenta los ejemplos que ha visto entrenando: un peso que no se entrena."""

    def build(self, input_shape):
        self.vistos = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                      name="vistos")

    def call(self, inputs, training=False):
        if training:
            self.vistos.assign_add(ops.shape(inputs)[0])
        return inputs


mr.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
contador, actividad = Contador(name="contador"), Actividad(name="actividad")
model = mr.Sequential([mr.Input((3,)), contador, mr.layers.Dense(8, activation="tanh"),
                       actividad, mr.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.summary()
model.fit(x, y, epochs=2, batch_size=16, verbose=0)
print("ejemplos vistos:", float(contador.vistos), " no entrenables:",
      [w.name for w in model.non_trainable_weights])

a = np.tanh(x @ model.layers[1].get_weights()[0] + model.layers[1].get_weights()[1])
mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
extra = 0.01 * float(np.mean(np.sum(a**2, axis=-1)))
print(f"evaluate = {model.evaluate(x, y, verbose=0):.6f}   mse + extra = {mse + extra:.6f}")

# %% [markdown]
# Dos épocas de 64 ejemplos: 128. `predict` y `evaluate` llaman a las capas con
# `training=False` y no cuentan. La pérdida de `evaluate` es el `mse` más lo que añadió
# `Actividad`. Con `import keras as mr` y `from keras import ops` el fragmento también
# funciona, con otros números.
#
# ## Cómo conviven las dos formas en minired
#
# minired tiene ahora dos maneras de ir hacia atrás:
#
# - las **capas de serie** (`Dense`, `Dropout`, las de unión...) conservan su `backward`
#   escrito a mano, el de las lecciones 5 a 13: es lo que enseña el curso, y se puede leer;
# - las **capas propias**, los modelos con `call`, las pérdidas escritas como funciones y
#   cualquier cálculo con `mr.ops` dentro de un `GradientTape` van por la cinta.
#
# Se mezclan sin costuras en los dos sentidos. Una capa propia dentro de un modelo funcional o
# de un `Sequential` es, para el modelo, una capa más con su `backward`: `backward_call`
# recorre la cinta de su `call`. Y una capa de serie llamada dentro del `call` de una capa
# propia entra en la cinta como **un solo registro**, cuyo VJP es su propio `backward`
# (`record_layer_call`). Un bloque residual escrito como capa propia, comparado con el mismo
# bloque hecho con la API funcional de la lección 13:

# %%
import numpy as np

import minired as mr
from minired import ops

mr.config.set_floatx("float64")


class BloqueResidual(mr.layers.Layer):
    """s = x + F(x): F es una Dense de minired, con su backward escrito a mano."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.rama = mr.layers.Dense(units, activation="tanh", name="rama")

    def call(self, inputs):
        return inputs + self.rama(inputs)


rng = np.random.default_rng(0)
x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 1))
bloque = BloqueResidual(4, name="bloque")
with mr.autodiff.GradientTape() as tape:
    s = bloque(x)
    L = ops.mean(s)
print("en la cinta:", [r.vjp.__qualname__.split(".")[0] for r in tape.records])
print([g.shape for g in tape.gradient(L, bloque.trainable_weights)])

# El mismo modelo de dos formas: capa propia (cinta) y API funcional (backward a mano)
mr.utils.set_random_seed(0)
propio = mr.Sequential([mr.Input((4,)), BloqueResidual(4), mr.layers.Dense(1)])
entrada = mr.Input((4,))
s = mr.layers.add([entrada, mr.layers.Dense(4, activation="tanh")(entrada)])
funcional = mr.Model(entrada, mr.layers.Dense(1)(s))
funcional.set_weights(propio.get_weights())
for model in (propio, funcional):
    model.compile(optimizer="sgd", loss="mse")
(L1, g1), (L2, g2) = propio.loss_and_gradients(x, y), funcional.loss_and_gradients(x, y)
print("|ΔL| =", abs(L1 - L2), " máx. |Δ ∂L/∂w| =", max(np.abs(a - b).max() for a, b in zip(g1, g2)))

# %% [markdown]
# La `Dense` de la rama es un solo registro (`record_layer_call`): la cinta no ve su `matmul`
# ni su `tanh`, solo la capa entera, con su `backward` como VJP y sus pesos entre las entradas
# del registro, así que `tape.gradient(L, bloque.trainable_weights)` los encuentra. El `+` del
# salto es el `add` de `mr.ops`, y $x$, leída por la rama y por el salto, recibe la suma de las
# dos partes, como en la lección 13.
#
# ## En Keras
#
# Todo lo de las secciones de capas propias es código de Keras 3: `keras.layers.Layer` con
# `build`, `call`, `add_weight`, `add_loss` y `get_config`; `keras.Model` con `call`; una
# pérdida como función de `keras.ops`. Para comprobarlo, el mismo código (una capa `Linear`,
# una pérdida `mi_mse`, un `Sequential` que las usa y cinco épocas de SGD) se ejecuta dos
# veces: una con `keras=minired, ops=minired.ops` y otra con los módulos de Keras, desde los
# mismos pesos:

# %%
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras
import numpy as np

import minired as mr


def entrenar(keras, ops, pesos, x, y):
    """El código de la lección, con los nombres de Keras: `keras` y `ops` son argumentos."""

    class Linear(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="glorot_uniform")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    def mi_mse(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    keras.config.set_floatx("float64")
    model = keras.Sequential([keras.Input((3,)), Linear(8), keras.layers.Activation("tanh"),
                              Linear(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=mi_mse)
    model.set_weights(pesos)
    historia = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0)
    return historia.history["loss"], model.get_weights()


rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3))
y = np.sin(x[:, :1]) - x[:, 2:3]
pesos = [rng.normal(size=(3, 8)) * 0.5, np.zeros(8), rng.normal(size=(8, 1)) * 0.5, np.zeros(1)]

perdidas_mr, pesos_mr = entrenar(mr, mr.ops, pesos, x, y)
perdidas_keras, pesos_keras = entrenar(keras, keras.ops, pesos, x, y)
print("minired:", np.round(perdidas_mr, 6))
print("Keras:  ", np.round(perdidas_keras, 6))
diferencia = max(np.abs(a - b).max() for a, b in zip(pesos_mr, pesos_keras))
print("máx. diferencia de los pesos < 1e-12:", bool(diferencia < 1e-12))

# %% [markdown]
# Las mismas pérdidas época a época y los mismos pesos al final (la diferencia es del orden de
# $10^{-16}$, el redondeo de `float64`). En Keras, quien recorre la cinta es TensorFlow (o JAX,
# o PyTorch, según el *backend*); en un bucle de entrenamiento escrito a mano se usa
# `tf.GradientTape` exactamente como aquí `mr.autodiff.GradientTape`:
#
# ```py
# with tf.GradientTape() as tape:
#     y_pred = model(x, training=True)
#     loss = loss_fn(y, y_pred)
# grads = tape.gradient(loss, model.trainable_weights)
# optimizer.apply_gradients(zip(grads, model.trainable_weights))
# ```
#
# Las diferencias de minired: su cinta solo sigue las operaciones de `mr.ops` (y los operadores
# y funciones de NumPy que se traducen a ellas), y una operación que no sabe derivar da un
# error en vez de un gradiente equivocado. Como en TensorFlow, `tape.gradient` da el
# gradiente respecto de cualquier valor grabado: de las hojas (`Variable` y arrays vigilados
# con `watch`) y también de un valor intermedio, como la `y` de la primera sección.
#
# ## Ejercicios
#
# 1. Calcula con la cinta el gradiente de $y = \sum_i (x_i^2 + 3 x_i)$ para
#    $x = (1, 2, 3)$. ¿Cuántos registros hay y cuántas veces se lee $x$? ¿Qué daría si la cinta
#    se quedara solo con la última contribución que llega a $x$?
#
#     ??? note "Solución"
#         $\partial y / \partial x = 2x + 3 = (5, 7, 9)$. Hay cuatro registros (`multiply`,
#         `multiply` por el 3, `add` y `sum`) y $x$ se lee tres veces: dos en $x \odot x$ y una en
#         $3x$. Cada lectura devuelve su parte: $x$, $x$ y $3$; la cinta las suma. Quedarse con la
#         última sería quedarse con una de las tres, y el gradiente saldría mal.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#         from minired import ops
#
#         mr.config.set_floatx("float64")
#         with mr.autodiff.GradientTape() as tape:
#             x = tape.watch(np.array([1.0, 2.0, 3.0]))
#             y = ops.sum(x * x + 3 * x)
#         print([r.vjp.__qualname__.split(".")[0] for r in tape.records])
#         print("∂y/∂x =", tape.gradient(y, x), " 2x + 3 =", 2 * np.array([1.0, 2.0, 3.0]) + 3)
#         partes = [tape.records[0].vjp(np.ones(3)), tape.records[1].vjp(np.ones(3))]
#         print("por x ⊙ x:", *partes[0], " por 3x:", partes[1][1])
#         ```
#
#         ```text
#         ['multiply', 'multiply', 'add', 'sum']
#         ∂y/∂x = [5. 7. 9.]  2x + 3 = [5. 7. 9.]
#         por x ⊙ x: [1. 2. 3.] [1. 2. 3.]  por 3x: [3. 3. 3.]
#         ```
# 2. Escribe tu propia operación `mi_sigmoide(x)` con `mr.autodiff.record`, con el VJP
#    $\delta_x = \delta_a \odot a(1 - a)$, y compruébala contra `mr.ops.sigmoid` y contra las
#    diferencias finitas. ¿Qué pasa si te equivocas en el VJP y escribes $\delta_a \odot a$?
#
#     ??? note "Solución"
#         Una operación es una función que calcula su salida con NumPy y la devuelve a través de
#         `record(salida, entradas, vjp)`. Con el VJP correcto coincide con `ops.sigmoid` y con
#         las diferencias finitas; con el equivocado, la cinta calcula sin protestar un gradiente
#         falso, y solo la comparación lo descubre: por eso minired comprueba cada VJP con
#         diferencias finitas en sus tests.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#         from minired import ops
#
#         mr.config.set_floatx("float64")
#
#
#         def mi_sigmoide(x, vjp_bien=True):
#             a = 1 / (1 + np.exp(-np.asarray(x)))
#             if vjp_bien:
#                 return mr.autodiff.record(a, (x,), lambda g: (g * a * (1 - a),))
#             return mr.autodiff.record(a, (x,), lambda g: (g * a,))
#
#
#         x = np.random.default_rng(0).normal(size=(3, 4))
#         finitas = mr.gradcheck.numerical_gradient(lambda: float(np.sum(mi_sigmoide(x) ** 2)), x)
#         for nombre, f in [("ops.sigmoid", ops.sigmoid), ("mi_sigmoide", mi_sigmoide),
#                           ("VJP equivocado", lambda v: mi_sigmoide(v, vjp_bien=False))]:
#             with mr.autodiff.GradientTape() as tape:
#                 hoja = tape.watch(x)
#                 L = ops.sum(ops.square(f(hoja)))
#             print(f"{nombre:15} |cinta − finitas| = {np.abs(tape.gradient(L, hoja) - finitas).max():.0e}")
#         ```
#
#         ```text
#         ops.sigmoid     |cinta − finitas| = 4e-10
#         mi_sigmoide     |cinta − finitas| = 4e-10
#         VJP equivocado  |cinta − finitas| = 1e+00
#         ```
# 3. Escribe una capa `Parabola` con tres pesos escalares, $a$, $b$ y $c$, que calcule
#    $a x^2 + b x + c$, y entrénala con `fit` sobre puntos de $y = 2x^2 - x + 0.5$. ¿Recupera
#    los coeficientes?
#
#     ??? note "Solución"
#         Sí: los tres pesos empiezan en 0 y, como el modelo es lineal en $a$, $b$ y $c$ y los
#         datos no tienen ruido, el descenso del gradiente llega a $(2, -1, 0.5)$. No hay que
#         escribir el gradiente de $a x^2 + bx + c$ respecto de cada coeficiente: la cinta lo
#         saca de los VJP de `multiply`, `square` y `add`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#         from minired import ops
#
#         mr.config.set_floatx("float64")
#
#
#         class Parabola(mr.layers.Layer):
#             def build(self, input_shape):
#                 self.a, self.b, self.c = (self.add_weight(shape=(), initializer="zeros", name=n)
#                                           for n in "abc")
#
#             def call(self, inputs):
#                 return self.a * ops.square(inputs) + self.b * inputs + self.c
#
#
#         x = np.linspace(-1, 1, 41).reshape(-1, 1)
#         y = 2 * x**2 - x + 0.5
#         model = mr.Sequential([mr.Input((1,)), Parabola()])
#         model.compile(optimizer=mr.optimizers.Adam(0.05), loss="mse")
#         model.fit(x, y, epochs=300, batch_size=41, verbose=0)
#         print("a, b, c =", [round(float(w), 3) for w in model.weights])
#         ```
#
#         ```text
#         a, b, c = [2.0, -1.0, 0.5]
#         ```
# 4. Escribe la pérdida de Huber como una función con `mr.ops`,
#    $\ell = \frac12 e^2$ si $|e| \le 1$ y $|e| - \frac12$ si no ($e = \hat y - y$), usando
#    `ops.where`. Compara su valor y sus gradientes con los de `loss="huber"`.
#
#     ??? note "Solución"
#         `ops.where(condición, a, b)` elige elemento a elemento, y su VJP manda $\delta$ solo a
#         la rama elegida: donde $|e| \le 1$ la derivada es $e$, y donde no, $\operatorname{sign}(e)$.
#         La pérdida propia y la de serie (con su `value_and_gradient` escrito a mano) dan el
#         mismo valor y los mismos gradientes.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#         from minired import ops
#
#         mr.config.set_floatx("float64")
#
#
#         def mi_huber(y_true, y_pred):
#             e = ops.abs(y_pred - y_true)
#             return ops.mean(ops.where(e <= 1.0, 0.5 * ops.square(e), e - 0.5), axis=-1)
#
#
#         mr.utils.set_random_seed(0)
#         rng = np.random.default_rng(0)
#         x, y = rng.normal(size=(32, 3)), 3 * rng.normal(size=(32, 1))
#         model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh"),
#                                mr.layers.Dense(1)])
#         resultados = []
#         for perdida in (mi_huber, "huber"):
#             model.compile(optimizer="sgd", loss=perdida)
#             resultados.append(model.loss_and_gradients(x, y))
#         (L1, g1), (L2, g2) = resultados
#         print(f"L = {L1:.6f} y {L2:.6f}   máx. |Δ ∂L/∂w| = "
#               f"{max(np.abs(a - b).max() for a, b in zip(g1, g2)):.0e}")
#         ```
#
#         ```text
#         L = 1.869435 y 1.869435   máx. |Δ ∂L/∂w| = 0e+00
#         ```
#
# ## Y después
#
# Con esto se cierra un círculo: las lecciones 2 a 13 escribieron a mano el paso hacia
# atrás de cada pieza para entenderlo, y esta muestra cómo lo hace Keras para cualquier código.
# La [lección 16](../docs/16-redes-convolucionales.md) vuelve a las capas escritas a mano con las que
# ven imágenes: la convolución, el *pooling* y la normalización por lotes.
# Cuando escribas una capa propia en Keras, su `call` es todo lo que hace falta; si el
# entrenamiento no va como esperabas, compara su gradiente con las diferencias finitas, como
# hace el [apéndice A](../docs/apendice-a-comprobar-contra-keras.md) con minired.
