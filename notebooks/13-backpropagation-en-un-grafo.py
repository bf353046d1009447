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
# # 13. Backpropagation en un grafo
#
# ## La idea
#
# Hasta aquí todos los modelos del curso han sido una línea: `Sequential` pasa la salida de cada
# capa a la siguiente, y solo a ella. Muchos modelos reales no caben en una línea:
#
# - una **conexión residual** (*residual connection* o *skip connection*) suma la entrada de un
#   bloque a su salida, $s = x + F(x)$, con $x$ la entrada del bloque y $F$ lo que calculan sus
#   capas; las ResNet (He et al., 2015) apilan decenas de bloques así, y cada bloque de un
#   transformer lleva dos;
# - un modelo con **dos entradas** lee, por ejemplo, unas medidas numéricas y una categoría, y
#   las une antes de seguir;
# - un modelo con **dos salidas** predice a la vez una clase y un número desde la misma capa
#   oculta.
#
# Son **grafos** (*graphs*): cada llamada a una capa es un **nodo** (*node*) y cada array que
# pasa de una capa a otra es una flecha. Cuando varias capas leen el mismo array hay una
# **bifurcación** (*fork*). Nada de lo aprendido cambia: el paso hacia delante (*forward pass*)
# es el de la lección 4, recorriendo los nodos en un orden que respete las flechas, y el paso
# hacia atrás (*backward pass*) es el de la lección 5, recorriéndolos al revés. Solo hay una
# regla nueva, y sale de la regla de la cadena: **en una bifurcación, los gradientes que vuelven
# se suman**.
#
# ## La API funcional
#
# Keras construye los grafos con la **API funcional** (*functional API*). `mr.Input(forma)` da
# un **tensor simbólico** (*symbolic tensor*, `KerasTensor`): no lleva números, solo una forma.
# Llamar a una capa sobre tensores simbólicos no calcula nada: apunta la llamada (un nodo) y
# devuelve otro tensor simbólico. Al final, `mr.Model(inputs, outputs)` recoge el grafo que va
# de unos a otros. Las **capas de unión** (*merge layers*) reciben una lista de tensores:
# `mr.layers.add([x, rama])` es `mr.layers.Add()([x, rama])`, y `mr.layers.concatenate` pone
# los tensores uno al lado del otro.
#
# Los tres grafos de la idea, escritos como en Keras:
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

mr.utils.set_random_seed(0)

# 1. Una conexión residual: la salida del bloque es x + F(x)
x = mr.Input((4,), name="x")
rama = mr.layers.Dense(4, activation="relu", name="rama")(x)
s = mr.layers.add([x, rama], name="suma")           # x lo leen rama y suma: una bifurcación
residual = mr.Model(x, mr.layers.Dense(1, name="salida")(s), name="residual")

# 2. Dos entradas: unas medidas y una categoría one-hot, unidas en un solo vector
medidas = mr.Input((3,), name="medidas")
categoria = mr.Input((5,), name="categoria")
juntas = mr.layers.concatenate([medidas, categoria], name="juntas")    # (None, 8)
oculta = mr.layers.Dense(8, activation="relu", name="oculta")(juntas)
dos_entradas = mr.Model([medidas, categoria], mr.layers.Dense(1, name="precio")(oculta),
                        name="dos_entradas")

# 3. Dos salidas: una clase y un número, calculados desde la misma capa oculta
entrada = mr.Input((4,), name="entrada")
comun = mr.layers.Dense(8, activation="relu", name="comun")(entrada)
clase = mr.layers.Dense(3, activation="softmax", name="clase")(comun)
valor = mr.layers.Dense(1, name="valor")(comun)
dos_salidas = mr.Model(entrada, [clase, valor], name="dos_salidas")

rng = np.random.default_rng(0)
print(residual.predict(rng.normal(size=(5, 4)), verbose=0).shape)
print(dos_entradas.predict([rng.normal(size=(5, 3)), np.eye(5)], verbose=0).shape)
print([y.shape for y in dos_salidas.predict(rng.normal(size=(5, 4)), verbose=0)])
for model in (residual, dos_entradas, dos_salidas):
    print(f"{model.name}:", [layer.name for layer in model.layers])

# %% [markdown]
# Con `import keras as mr` la salida es la misma: es el código que se escribe en Keras. Con
# varias entradas, `predict` recibe una lista de arrays en el orden de `inputs`; con varias
# salidas, devuelve una lista en el orden de `outputs`. `model.layers` empieza por las entradas
# (las `InputLayer`) y pone cada capa después de las que lee.
#
# ## Las matemáticas, en la notación del código
#
# ### Hacia delante, en orden topológico
#
# Un **orden topológico** (*topological order*) es una lista de los nodos en la que cada uno va
# después de todos los que lee. Existe siempre que el grafo no tenga ciclos (Keras no los
# admite) y puede haber varios: en el modelo de dos salidas, `clase` y `valor` pueden ir en
# cualquier orden. El paso hacia delante recorre esa lista: cada nodo encuentra ya calculadas
# sus entradas, calcula su salida y guarda su caché (*cache*), como en la lección 4. En el
# modelo `residual`, con $W^{(1)}, b^{(1)}$ los pesos de `rama` y $W^{(2)}, b^{(2)}$ los de
# `salida`:
#
# $$
# \begin{aligned}
# z^{(1)} &= x W^{(1)} + b^{(1)}, \quad a^{(1)} = \operatorname{relu}\big(z^{(1)}\big) && \text{(rama)} \\
# s &= x + a^{(1)} && \text{(suma)} \\
# \hat y &= s\, W^{(2)} + b^{(2)} && \text{(salida)}
# \end{aligned}
# $$
#
# ### Hacia atrás: en una bifurcación, los gradientes se suman
#
# Supongamos que un array $v$ lo leen dos capas, 1 y 2, con salidas $a^{(1)}$ y $a^{(2)}$. La
# pérdida $L$ depende de $v$ solo a través de ellas, y la **regla de la cadena con varias
# variables** dice:
#
# $$
# \frac{\partial L}{\partial v}
# = \frac{\partial L}{\partial a^{(1)}} \frac{\partial a^{(1)}}{\partial v}
# + \frac{\partial L}{\partial a^{(2)}} \frac{\partial a^{(2)}}{\partial v}.
# $$
#
# Por qué una suma: si $v$ cambia un poco, $\Delta v$, cambian las dos salidas,
# $\Delta a^{(k)} \approx \frac{\partial a^{(k)}}{\partial v} \Delta v$, y los dos cambios
# llegan a $L$ y se suman:
# $\Delta L \approx \frac{\partial L}{\partial a^{(1)}} \Delta a^{(1)} + \frac{\partial L}{\partial a^{(2)}} \Delta a^{(2)}$.
# Con arrays, cada término es lo que devuelve el `backward` de esa capa: su $\delta_x$,
# calculado con su propia caché. Así que
#
# $$
# \delta_v = \delta_x^{(1)} + \delta_x^{(2)},
# $$
#
# con un término por cada capa que lee $v$. En un `Sequential` cada array tiene un solo lector
# y la suma tiene un solo término: es la lección 5 tal cual.
#
# El paso hacia atrás recorre el orden topológico **al revés**. Cuando le toca a un nodo, todos
# los que leen su salida iban después en el orden hacia delante, así que ya han devuelto su
# parte y el $\delta$ de su salida está completo. En el modelo `residual`, $x$ lo leen `rama` y
# `suma`:
#
# $$
# \begin{aligned}
# \delta_s &= \delta_{\hat y}\, W^{(2)\top} \\
# \delta_{a^{(1)}} &= \delta_s && \text{(Add copia su } \delta\text{)} \\
# \delta_{z^{(1)}} &= \operatorname{relu}'\big(z^{(1)}\big) \odot \delta_{a^{(1)}} \\
# \delta_x &= \underbrace{\delta_s}_{\text{por el salto}}
#           + \underbrace{\delta_{z^{(1)}} W^{(1)\top}}_{\text{por la rama}}
# \end{aligned}
# $$
#
# La última línea es la de la conexión residual: el $\delta$ de arriba llega a $x$ **entero**
# por el salto, pase lo que pase en la rama. En una red sin saltos, en cambio, cada capa
# multiplica el $\delta$ por $f'(z)$ y por $W^\top$; con la sigmoide, $f'(z) \le 1/4$, y el
# gradiente se encoge capa a capa (el desvanecimiento del gradiente, *vanishing gradients*).
# Con $K$ bloques $s^{(k)} = s^{(k-1)} + F^{(k)}(s^{(k-1)})$, el camino hecho solo de saltos
# lleva $\delta_{s^{(K)}}$ hasta la entrada sin tocarlo; los caminos que pasan por las ramas se
# le suman.
#
# ### Las capas de unión
#
# Cada capa de unión devuelve, en su `backward`, una lista: un $\delta$ por entrada, de la forma
# de esa entrada. Con dos entradas $x_1$ y $x_2$ (la primera con $d_1$ columnas):
#
# | capa | hacia delante | hacia atrás |
# |---|---|---|
# | `Add` | $a = x_1 + x_2$ | $\delta_{x_1} = \delta_a$, $\delta_{x_2} = \delta_a$: **copia** |
# | `Subtract` | $a = x_1 - x_2$ | $\delta_{x_1} = \delta_a$, $\delta_{x_2} = -\delta_a$ |
# | `Concatenate` | $a = [x_1 \mid x_2]$ | $\delta_{x_1} = \delta_a$`[:, :d₁]`, $\delta_{x_2} = \delta_a$`[:, d₁:]`: **reparte** |
# | `Multiply` | $a = x_1 \odot x_2$ | $\delta_{x_1} = \delta_a \odot x_2$, $\delta_{x_2} = \delta_a \odot x_1$: **intercambia** |
#
# `Add` y la bifurcación son la misma idea vista desde los dos lados: una bifurcación copia un
# array hacia delante y suma los $\delta$ hacia atrás; `Add` suma hacia delante y copia el
# $\delta$ hacia atrás. `Multiply` es el $\times$ de la figura de la lección 5: la derivada de
# $x_1 x_2$ respecto de un factor es el otro factor. Si las formas no coinciden y una entrada se
# estira por difusión (*broadcasting*), esa entrada se usa varias veces, otra bifurcación, y su
# $\delta$ es la suma sobre el eje estirado.
#
# ### Capas compartidas
#
# Una **capa compartida** (*shared layer*) es una sola capa llamada varias veces: un solo $W$
# y un solo $b$, y un nodo por llamada, cada uno con su $x$, su $z$ y su caché. El peso es
# ahora el array que se bifurca, y la misma regla da, para dos llamadas 1 y 2:
#
# $$
# \frac{\partial L}{\partial W} = x_1^\top \delta_{z_1} + x_2^\top \delta_{z_2},
# \qquad
# \frac{\partial L}{\partial b} = \sum_n \delta_{z_1, n} + \sum_n \delta_{z_2, n}.
# $$
#
# Por eso `backward` **suma** el gradiente de cada peso en `kernel_gradient` en vez de
# escribirlo: el modelo lo pone a 0 antes del paso hacia atrás, devuelve a la capa la caché de
# cada llamada antes de su `backward` (`model.calls` guarda una por llamada) y cada llamada
# añade su parte.
#
# ### Varias salidas
#
# Con varias salidas hay una pérdida por salida, y la que se minimiza es su suma ponderada,
#
# $$
# L = \sum_i \lambda_i L_i ,
# $$
#
# donde los $\lambda_i$ son los `loss_weights` de `compile` (1 si no se dan; la letra $w$ queda
# para los pesos de la red). El paso hacia atrás empieza en cada salida con
# $\delta_{\hat y_i} = \lambda_i\, \partial L_i / \partial \hat y_i$, y donde las ramas se
# juntan, en la capa común, los $\delta$ se suman: $\partial L / \partial W = \sum_i \lambda_i\,
# \partial L_i / \partial W$. `fit` y `evaluate` reciben una `y` por salida, en una lista.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código
# fuente:
#
# - `minired/layers/keras_tensor.py` (`KerasTensor`) y `minired/layers/node.py` (`Node`): un
#   tensor simbólico y la llamada que lo hizo; `Layer.__call__` y `Layer._symbolic_call`, en
#   `minired/layers/layer.py`, apuntan un nodo cuando la capa se llama sobre tensores
#   simbólicos.
# - `minired/models/graph.py`, `map_graph`: la búsqueda en profundidad desde las salidas que da
#   el orden topológico y el orden de `model.layers` (el de Keras).
# - `minired/models/functional.py`: `Functional.forward` recorre los nodos en orden;
#   `Functional.backward`, al revés, y `_accumulate` hace la suma de una bifurcación,
#   `δt += δ`.
# - `minired/layers/merging/`: `add.py`, `subtract.py`, `concatenate.py`, `multiply.py`... con
#   su `backward` al lado del `forward`; `base_merge.py`, `unbroadcast` (la suma sobre un eje
#   estirado).
# - `minired/layers/layer.py`: el docstring del módulo explica por qué `backward` suma los
#   gradientes de los pesos (las capas compartidas).
# - `minired/trainers/compile_utils.py`, `resolve_losses` (los `loss_weights`), y
#   `Trainer._output_loss` en `minired/trainers/trainer.py` (el $\delta$ de cada salida, ya
#   multiplicado por su $\lambda_i$).
# - `minired/models/summary_table.py`, `functional_summary`: la columna «Connected to».
#
# ## Pruébalo: el grafo hacia delante y `summary`
#
# El modelo `residual`, calculado a mano nodo a nodo y comparado con `predict`; y con
# `model.get_layer(...).output`, un modelo nuevo que termina en una capa intermedia (extraer
# características, *feature extraction*):
#
# <!-- keras -->

# %%
import numpy as np

import minired as mr

mr.utils.set_random_seed(0)
inputs = mr.Input((4,), name="x")
rama = mr.layers.Dense(4, activation="relu", name="rama")(inputs)
s = mr.layers.add([inputs, rama], name="suma")
model = mr.Model(inputs, mr.layers.Dense(1, name="salida")(s), name="residual")
model.summary()

# Feedforward a mano, nodo a nodo en el orden de model.layers
W1, b1, W2, b2 = model.get_weights()
x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
a1 = np.maximum(x @ W1 + b1, 0)          # rama
s_mano = x + a1                          # suma: x + F(x)
y_hat = s_mano @ W2 + b2                 # salida
print("máx. diferencia:", np.abs(model.predict(x, verbose=0) - y_hat).max())

# Extraer características: un modelo nuevo, con las mismas capas, que termina en "rama"
extractor = mr.Model(model.inputs, model.get_layer("rama").output)
print("rama:", np.abs(extractor.predict(x, verbose=0) - a1).max())

# %% [markdown]
# La columna «Connected to» dice qué lee cada capa: `nombre[i][j]` es el tensor $j$ que devolvió
# la llamada $i$ de la capa `nombre`, contando desde 0. `x[0][0]` aparece dos veces, en `rama`
# y en `suma`: es la bifurcación. `suma` no tiene parámetros; `rama` tiene $4 \cdot 4 + 4 = 20$.
# El `extractor` no copia nada: usa las mismas capas, con los mismos pesos.
#
# Con `import keras as mr` las dos diferencias también son 0.0; la tabla de `summary` lleva
# marcos y el tamaño de los pesos en bytes, pero dice lo mismo.
#
# ## Pruébalo: los gradientes se suman en una bifurcación
#
# El grafo más pequeño con una bifurcación, con un número por array para poder seguirlo a mano:
# $v = w_0 x$ lo leen dos capas, $a^{(1)} = w_1 v$ y $a^{(2)} = w_2 v$, y
# $\hat y = a^{(1)} + a^{(2)}$, con la pérdida `mse`, $L = (\hat y - y)^2$. Con $x = 2$,
# $w_0 = 0.5$, $w_1 = 3$, $w_2 = -1$ e $y = 1$:
#
# - hacia delante: $v = 1$, $a^{(1)} = 3$, $a^{(2)} = -1$, $\hat y = 2$, $L = 1$;
# - hacia atrás: $\delta_{\hat y} = 2(\hat y - y) = 2$; `Add` lo copia a las dos ramas;
# - cada rama devuelve su parte hacia $v$: $\delta_{\hat y} w_1 = 6$ y $\delta_{\hat y} w_2 = -2$;
# - en la bifurcación se suman: $\delta_v = 6 + (-2) = 4$, y $\partial L / \partial w_0 = x\, \delta_v = 8$.
#
# Si en vez de sumar nos quedáramos con una sola de las dos partes, saldría
# $\partial L / \partial w_0 = 2 \cdot 6 = 12$ o $2 \cdot (-2) = -4$: las dos mal. Lo comprueban minired y las diferencias finitas (*finite differences*):

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
x_in = mr.Input((1,), name="x")
v = mr.layers.Dense(1, use_bias=False, name="primera")(x_in)     # v = w₀·x
a1 = mr.layers.Dense(1, use_bias=False, name="rama_1")(v)        # a⁽¹⁾ = w₁·v
a2 = mr.layers.Dense(1, use_bias=False, name="rama_2")(v)        # a⁽²⁾ = w₂·v
model = mr.Model(x_in, mr.layers.add([a1, a2], name="suma"))      # ŷ = a⁽¹⁾ + a⁽²⁾
model.compile(optimizer="sgd", loss="mse")
model.set_weights([np.array([[0.5]]), np.array([[3.0]]), np.array([[-1.0]])])
x, y = np.array([[2.0]]), np.array([[1.0]])

loss, grads = model.loss_and_gradients(x, y)
print("orden hacia delante:", [layer.name for layer, _ in model.calls])
print("L =", loss)
print("∂L/∂w₀, ∂L/∂w₁, ∂L/∂w₂ =", [float(g[0, 0]) for g in grads])

# Lo que cada rama devuelve hacia v (su δx), con la caché de este paso hacia delante
delta_y = 2 * (model.predict(x, verbose=0) - y)                  # ∂L/∂ŷ = 2(ŷ - y)
por_1 = model.get_layer("rama_1").backward(delta_y)              # δŷ · w₁
por_2 = model.get_layer("rama_2").backward(delta_y)              # δŷ · w₂
print("δv por rama_1:", por_1[0, 0], " por rama_2:", por_2[0, 0],
      " suma:", (por_1 + por_2)[0, 0])

# Diferencias finitas: mover w₀ un poco hacia cada lado
h, (w0, w1, w2) = 1e-6, model.get_weights()
perdidas = []
for w in (w0 + h, w0 - h):
    model.set_weights([w, w1, w2])
    perdidas.append(model.evaluate(x, y, verbose=0))
print("diferencias finitas:", round((perdidas[0] - perdidas[1]) / (2 * h), 6))

# %% [markdown]
# `model.calls` guarda, del último paso hacia delante, un `(capa, caché)` por llamada, en el
# orden en que se ejecutaron: un orden topológico. `loss_and_gradients` recorrió esa lista al
# revés; al llegar a `primera`, las dos ramas ya habían dejado su parte y $\delta_v$ valía 4.
# Aquí se ha llamado a mano al `backward` de cada rama para ver las dos partes por separado
# (cada `Dense` usa la caché de su única llamada).
#
# ## Pruébalo: el paso hacia atrás de `Add`, `Concatenate` y `Multiply`
#
# Las capas de unión, solas, con un $\delta_a$ inventado:

# %%
import numpy as np

import minired as mr

x1, x2 = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
delta_a = np.array([[10.0, -1.0]])                    # el δa que llega de arriba

for layer in (mr.layers.Add(), mr.layers.Multiply()):
    a = layer([x1, x2])
    d1, d2 = layer.backward(delta_a)
    print(f"{type(layer).__name__:11} a = {a[0]}  δx₁ = {d1[0]}  δx₂ = {d2[0]}")

layer = mr.layers.Concatenate()
a = layer([x1, np.array([[5.0]])])                    # (1, 2) y (1, 1) -> (1, 3)
d1, d2 = layer.backward(np.array([[10.0, -1.0, 7.0]]))
print(f"{'Concatenate':11} a = {a[0]}  δx₁ = {d1[0]}  δx₂ = {d2[0]}")

# %% [markdown]
# `Add` copia $\delta_a$ a las dos entradas; `Multiply` da a cada entrada $\delta_a$ por la
# otra, $(10 \cdot 3, -1 \cdot 4)$ y $(10 \cdot 1, -1 \cdot 2)$; `Concatenate` devuelve a cada
# entrada las columnas que ocupó.
#
# ## Pruébalo: una capa compartida
#
# Un `codificador` llamado sobre dos entradas, como en una red siamesa (*siamese network*), que
# compara dos ejemplos con la misma transformación:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
izquierda, derecha = mr.Input((3,), name="izquierda"), mr.Input((3,), name="derecha")
codificador = mr.layers.Dense(2, activation="tanh", name="codificador")
c1, c2 = codificador(izquierda), codificador(derecha)     # la misma capa, dos llamadas
diferencia = mr.layers.subtract([c1, c2], name="diferencia")
model = mr.Model([izquierda, derecha], mr.layers.Dense(1, name="salida")(diferencia),
                 name="siamesa")
model.compile(optimizer="sgd", loss="mse")
model.summary()

rng = np.random.default_rng(1)
x1, x2, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
loss, grads = model.loss_and_gradients([x1, x2], y)
print("formas de ∂L/∂w:", [g.shape for g in grads])

# A mano: cada llamada tiene su x, su z y su δz; los gradientes de W se suman
W, b, W_out, b_out = model.get_weights()
a1, a2 = np.tanh(x1 @ W + b), np.tanh(x2 @ W + b)
y_hat = (a1 - a2) @ W_out + b_out
delta_d = (2 * (y_hat - y) / len(y)) @ W_out.T      # δ de la diferencia
delta_z1 = delta_d * (1 - a1**2)                    # llamada 1: δa = +δ(diferencia)
delta_z2 = -delta_d * (1 - a2**2)                   # llamada 2: δa = −δ(diferencia)
print("∂L/∂W = x₁ᵀδz₁ + x₂ᵀδz₂:", np.abs(x1.T @ delta_z1 + x2.T @ delta_z2 - grads[0]).max())
print("solo x₁ᵀδz₁:           ", np.abs(x1.T @ delta_z1 - grads[0]).max())
errores = [r.relative_error for r in mr.gradcheck.check_model(model, [x1, x2], y)]
print(f"gradcheck, error relativo máximo: {max(errores):.0e}")

# %% [markdown]
# En `summary`, `codificador` aparece una vez, con sus 8 parámetros y sus dos entradas, y
# `diferencia` lee `codificador[0][0]` y `codificador[1][0]`: la salida de la primera llamada y
# la de la segunda. Hay un solo $W$ de forma `(3, 2)`, y su gradiente es la suma de las dos
# llamadas: quedarse con la primera deja un error de 0.57. `mr.gradcheck.check_model` compara
# cada gradiente con diferencias finitas (apéndice A); un error relativo de $10^{-7}$ o menos
# dice que está bien.
#
# ## Pruébalo: la conexión residual deja pasar el gradiente
#
# Diez capas `Dense(16, activation="sigmoid")`, en cadena o cada una dentro de un bloque
# $s + F(s)$, con los mismos pesos iniciales. ¿Cuánto gradiente llega a la primera capa?

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")


def red(con_saltos, capas=10, ancho=16):
    """capas Dense(ancho, sigmoid) en cadena, o cada una en un bloque s + F(s)."""
    mr.utils.set_random_seed(0)                 # los mismos pesos iniciales en las dos
    inputs = mr.Input((ancho,), name="x")
    s = inputs
    for k in range(1, capas + 1):
        rama = mr.layers.Dense(ancho, activation="sigmoid", name=f"capa_{k}")(s)
        s = mr.layers.add([s, rama], name=f"suma_{k}") if con_saltos else rama
    model = mr.Model(inputs, mr.layers.Dense(1, name="salida")(s))
    model.compile(optimizer="sgd", loss="mse")
    return model


rng = np.random.default_rng(0)
x, y = rng.normal(size=(32, 16)), rng.normal(size=(32, 1))
for con_saltos in (False, True):
    model = red(con_saltos)
    model.loss_and_gradients(x, y)              # deja ∂L/∂w en layer.gradients
    primera = np.abs(model.get_layer("capa_1").gradients[0]).mean()
    ultima = np.abs(model.get_layer("capa_10").gradients[0]).mean()
    print(f"{'con saltos' if con_saltos else 'sin saltos'}: media de |∂L/∂W| en capa_1 "
          f"{primera:.1e}, en capa_10 {ultima:.1e}; cociente {primera / ultima:.1e}")

# %% [markdown]
# Sin saltos, a la primera capa le llega unas 400 000 veces menos gradiente que a la última
# (el cociente 2.4e-06): con la misma tasa de aprendizaje, la primera capa apenas se movería.
# Con saltos, la diferencia es de un factor 7. `layer.gradients` guarda el
# $\partial L / \partial w$ del último paso hacia atrás, en el orden de `layer.weights`
# (primero el kernel, $W$).
#
# La figura hace la misma medida en una red de 4 capas, tensor a tensor: en cada flecha, la
# media de $\lvert\delta\rvert$ del array que lleva.
#
# ![El grafo de una red de 4 capas sigmoid con conexiones residuales y sin ellas: cada capa es una caja coloreada por el tamaño del gradiente de su salida, y cada flecha lleva la media de |δ|](../docs/img/grafo-residual.png)
#
# Arriba, con saltos, $\lvert\delta\rvert$ apenas cambia de `suma_4` a `x`: cada `+` copia su $\delta$ por el salto (el arco) y la rama le suma su parte. Abajo, sin saltos, cada capa sigmoid lo divide por 4, más o menos. Los números los da el propio `backward` de minired (`examples/course_figures.py`, `residual_data`).
#
# ## Pruébalo: dos salidas y `loss_weights`
#
# El modelo de dos salidas, con `loss_weights=[1.0, 0.5]`: $L = L_1 + 0.5\, L_2$.

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
entrada = mr.Input((4,), name="entrada")
comun = mr.layers.Dense(8, activation="relu", name="comun")(entrada)     # la bifurcación
clase = mr.layers.Dense(3, activation="softmax", name="clase")(comun)
valor = mr.layers.Dense(1, name="valor")(comun)
model = mr.Model(entrada, [clase, valor], name="dos_salidas")

rng = np.random.default_rng(0)
x = rng.normal(size=(8, 4))
y = [np.eye(3)[rng.integers(0, 3, size=8)], rng.normal(size=(8, 1))]   # una y por salida


def compilar(pesos):
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"],
                  loss_weights=pesos)


compilar([1.0, 0.5])
r = model.evaluate(x, y, verbose=0, return_dict=True)
print({nombre: round(valor, 6) for nombre, valor in r.items()})
print(f"L₁ + 0.5·L₂ = {r['clase_loss'] + 0.5 * r['valor_loss']:.6f}")
L, grads = model.loss_and_gradients(x, y)

compilar([1.0, 0.0])
_, grads_1 = model.loss_and_gradients(x, y)          # solo la pérdida de la clase
compilar([0.0, 1.0])
_, grads_2 = model.loss_and_gradients(x, y)          # solo la del valor
for i, capa in [(0, "comun"), (2, "clase"), (4, "valor")]:
    print(f"∂L/∂W de {capa:5}:", np.abs(grads[i] - (grads_1[i] + 0.5 * grads_2[i])).max())

# %% [markdown]
# `evaluate` da la pérdida total, `loss`, y la de cada salida sin ponderar, con el nombre de su
# capa: `clase_loss` y `valor_loss`, como en Keras. El gradiente de cada peso es
# $\partial L_1 / \partial W + 0.5\, \partial L_2 / \partial W$: en `clase` y en `valor` solo
# uno de los dos términos no es cero; en `comun`, donde las dos salidas se bifurcan, llegan
# los dos y se suman.
#
# ## Ejercicios
#
# 1. En el grafo de la bifurcación, cambia $w_2$ a $-3$. ¿Cuánto vale ahora
#    $\partial L / \partial w_0$, y por qué? ¿Y los gradientes de las ramas?
#
#     ??? note "Solución"
#         Con $w_2 = -w_1$, $\hat y = (w_1 + w_2)\, w_0 x = 0$ para cualquier $w_0$: la pérdida ya no
#         depende de $w_0$ y $\partial L / \partial w_0 = 0$. En el paso hacia atrás se ve por qué: las
#         dos partes que llegan a $v$ son opuestas, $\delta_{\hat y} w_1 = -6$ y $\delta_{\hat y} w_2 = 6$,
#         y su suma es 0. Las ramas, en cambio, sí tienen gradiente: cada una ve
#         $\partial L / \partial w_k = \delta_{\hat y} \cdot v = -2 \cdot 1$, porque mover solo una
#         rompe el empate.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         x_in = mr.Input((1,), name="x")
#         v = mr.layers.Dense(1, use_bias=False, name="primera")(x_in)
#         a1 = mr.layers.Dense(1, use_bias=False, name="rama_1")(v)
#         a2 = mr.layers.Dense(1, use_bias=False, name="rama_2")(v)
#         model = mr.Model(x_in, mr.layers.add([a1, a2], name="suma"))
#         model.compile(optimizer="sgd", loss="mse")
#         model.set_weights([np.array([[0.5]]), np.array([[3.0]]), np.array([[-3.0]])])  # w₂ = −w₁
#         x, y = np.array([[2.0]]), np.array([[1.0]])
#
#         loss, grads = model.loss_and_gradients(x, y)
#         print("ŷ =", model.predict(x, verbose=0)[0, 0], " L =", loss)
#         print("∂L/∂w₀, ∂L/∂w₁, ∂L/∂w₂ =", [float(g[0, 0]) for g in grads])
#         delta_y = 2 * (model.predict(x, verbose=0) - y)
#         por_1 = model.get_layer("rama_1").backward(delta_y)
#         por_2 = model.get_layer("rama_2").backward(delta_y)
#         print("δv por rama_1:", por_1[0, 0], " por rama_2:", por_2[0, 0])
#         print("gradcheck:", [f"{r.relative_error:.0e}" for r in mr.gradcheck.check_model(model, x, y)])
#         ```
#
#         ```text
#         ŷ = 0.0  L = 1.0
#         ∂L/∂w₀, ∂L/∂w₁, ∂L/∂w₂ = [0.0, -2.0, -2.0]
#         δv por rama_1: -6.0  por rama_2: 6.0
#         gradcheck: ['0e+00', '2e-10', '2e-10']
#         ```
# 2. Comprueba con `mr.gradcheck.check_model` los gradientes de los modelos `residual` y
#    `dos_entradas` de la primera sección, en `float64`.
#
#     ??? note "Solución"
#         Todos los errores relativos salen del orden de $10^{-10}$: la suma en la bifurcación de
#         `residual` y el reparto de `Concatenate` en `dos_entradas` dan los mismos gradientes que
#         las diferencias finitas. Con varias entradas, `check_model` recibe la lista de arrays, como
#         `fit`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         x = mr.Input((4,), name="x")
#         rama = mr.layers.Dense(4, activation="relu", name="rama")(x)
#         s = mr.layers.add([x, rama], name="suma")
#         residual = mr.Model(x, mr.layers.Dense(1, name="salida")(s), name="residual")
#
#         medidas, categoria = mr.Input((3,), name="medidas"), mr.Input((5,), name="categoria")
#         juntas = mr.layers.concatenate([medidas, categoria], name="juntas")
#         oculta = mr.layers.Dense(8, activation="relu", name="oculta")(juntas)
#         dos_entradas = mr.Model([medidas, categoria], mr.layers.Dense(1, name="precio")(oculta),
#                                 name="dos_entradas")
#
#         rng = np.random.default_rng(0)
#         y = rng.normal(size=(6, 1))
#         for model, x_lote in [(residual, rng.normal(size=(6, 4))),
#                               (dos_entradas, [rng.normal(size=(6, 3)), np.eye(5)[[0, 1, 2, 3, 4, 0]]])]:
#             model.compile(optimizer="sgd", loss="mse")
#             for resultado in mr.gradcheck.check_model(model, x_lote, y):
#                 print(f"{model.name:12} {resultado.name:16} {resultado.relative_error:.0e}")
#         ```
#
#         ```text
#         residual     rama/weight_0    2e-10
#         residual     rama/weight_1    6e-10
#         residual     salida/weight_0  2e-10
#         residual     salida/weight_1  7e-10
#         dos_entradas oculta/weight_0  2e-10
#         dos_entradas oculta/weight_1  1e-10
#         dos_entradas precio/weight_0  7e-11
#         dos_entradas precio/weight_1  2e-11
#         ```
# 3. En el modelo `residual`, cambia `add` por `concatenate`: $s = [x \mid a^{(1)}]$. ¿Qué cambia
#    en `summary`? Escribe a mano el $\delta_x$ y compáralo con el que devuelve `model.backward`.
#
#     ??? note "Solución"
#         $s$ pasa a tener 8 columnas y `salida` 9 parámetros en vez de 5. Hacia atrás, `Concatenate`
#         reparte $\delta_s$: las 4 primeras columnas vuelven a $x$ por el salto y las 4 últimas a la
#         rama. $x$ sigue siendo una bifurcación, así que, llamando $\delta_s^{\text{salto}}$ a
#         `delta_s[:, :4]` y $\delta_s^{\text{rama}}$ a `delta_s[:, 4:]`,
#         $\delta_x = \delta_s^{\text{salto}} + \big(\operatorname{relu}'(z^{(1)}) \odot \delta_s^{\text{rama}}\big)\, W^{(1)\top}$.
#         `model(x)` hace el paso hacia delante y `model.backward(δŷ)` devuelve el $\delta$ de la
#         entrada para un $\delta_{\hat y}$ cualquiera.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         inputs = mr.Input((4,), name="x")
#         rama = mr.layers.Dense(4, activation="relu", name="rama")(inputs)
#         s = mr.layers.concatenate([inputs, rama], name="juntas")     # [x | F(x)]: (None, 8)
#         model = mr.Model(inputs, mr.layers.Dense(1, name="salida")(s))
#         model.summary()
#
#         x = np.random.default_rng(0).normal(size=(5, 4))
#         delta_y = np.ones((5, 1))                                    # un δŷ cualquiera
#         model(x)                                                     # paso hacia delante
#         delta_x = model.backward(delta_y)                            # δ de la entrada
#
#         W1, b1, W2, b2 = model.get_weights()
#         z1 = x @ W1 + b1
#         delta_s = delta_y @ W2.T                                     # (5, 8)
#         por_el_salto = delta_s[:, :4]                                # Concatenate reparte: 4 + 4
#         por_la_rama = (delta_s[:, 4:] * (z1 > 0)) @ W1.T             # relu'(z) = 1[z > 0]
#         print("δx = salto + rama:", np.abs(delta_x - (por_el_salto + por_la_rama)).max())
#         ```
#
#         ```text
#         Model: "functional"
#         ──────────────────────────────────────────────────────────────────
#         Layer (type)          Output Shape  Param #  Connected to         
#         ──────────────────────────────────────────────────────────────────
#         x (InputLayer)        (None, 4)     0        -                    
#         rama (Dense)          (None, 4)     20       x[0][0]              
#         juntas (Concatenate)  (None, 8)     0        x[0][0], rama[0][0]  
#         salida (Dense)        (None, 1)     9        juntas[0][0]         
#         ──────────────────────────────────────────────────────────────────
#          Total params: 29 (232.00 B)
#          Trainable params: 29 (232.00 B)
#          Non-trainable params: 0 (0.00 B)
#         δx = salto + rama: 0.0
#         ```
# 4. Llama al mismo `codificador` sobre tres entradas y suma sus salidas. ¿Cuántos parámetros
#    tiene el modelo? ¿Y si usaras tres capas distintas? Comprueba que
#    $\partial L / \partial W$ es la suma de las tres llamadas.
#
#     ??? note "Solución"
#         Una capa compartida tiene sus pesos una sola vez: $3 \cdot 2 + 2 = 8$ del codificador más
#         $2 + 1 = 3$ de la salida, 11 en total; con tres capas distintas serían
#         $3 \cdot 8 + 3 = 27$. `Add` copia el mismo $\delta$ a las tres llamadas, y cada una suma
#         $x_k^\top \delta_{z_k}$ a `kernel_gradient`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         entradas = [mr.Input((3,), name=f"x_{k}") for k in (1, 2, 3)]
#         codificador = mr.layers.Dense(2, activation="tanh", name="codificador")
#         suma = mr.layers.add([codificador(x) for x in entradas], name="suma")   # tres llamadas
#         model = mr.Model(entradas, mr.layers.Dense(1, name="salida")(suma))
#         model.compile(optimizer="sgd", loss="mse")
#         print("parámetros:", model.count_params())
#
#         rng = np.random.default_rng(1)
#         xs, y = [rng.normal(size=(6, 3)) for _ in range(3)], rng.normal(size=(6, 1))
#         loss, grads = model.loss_and_gradients(xs, y)
#         W, b, W_out, b_out = model.get_weights()
#         a = [np.tanh(x @ W + b) for x in xs]
#         delta_suma = (2 * (sum(a) @ W_out + b_out - y) / len(y)) @ W_out.T   # Add copia este δ
#         dW = sum(x.T @ (delta_suma * (1 - a_k**2)) for x, a_k in zip(xs, a))
#         print("∂L/∂W = Σ xᵀδz (tres llamadas):", np.abs(dW - grads[0]).max())
#         ```
#
#         ```text
#         parámetros: 11
#         ∂L/∂W = Σ xᵀδz (tres llamadas): 2.220446049250313e-16
#         ```
# 5. En la red de diez capas sigmoid sin saltos, imprime la media de $\lvert \partial L / \partial W \rvert$
#    de cada capa. ¿Por qué factor se divide de una capa a la anterior? Relaciónalo con la
#    derivada de la sigmoide.
#
#     ??? note "Solución"
#         Se divide por entre 3 y 5 en cada capa (el cociente sale 0.2 o 0.3). Cada capa multiplica el
#         $\delta$ que pasa hacia abajo por $\sigma'(z) = a(1 - a) \le 1/4$, y aquí su media es 0.233;
#         los pesos $W^\top$ cambian un poco el factor. De `capa_10` a `capa_1` hay nueve pasos:
#         $(1/4)^9 \approx 4 \cdot 10^{-6}$, del orden del cociente 2.4e-06 del fragmento de la
#         sección. `model.calls` guarda la caché de cada capa, con su `a`.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         inputs = mr.Input((16,), name="x")
#         a = inputs
#         for k in range(1, 11):
#             a = mr.layers.Dense(16, activation="sigmoid", name=f"capa_{k}")(a)
#         model = mr.Model(inputs, mr.layers.Dense(1, name="salida")(a))
#         model.compile(optimizer="sgd", loss="mse")
#
#         rng = np.random.default_rng(0)
#         x, y = rng.normal(size=(32, 16)), rng.normal(size=(32, 1))
#         model.loss_and_gradients(x, y)
#         medias = np.array([np.abs(model.get_layer(f"capa_{k}").gradients[0]).mean()
#                            for k in range(1, 11)])
#         np.set_printoptions(precision=1)
#         print("media de |∂L/∂W|, capa_1 ... capa_10:\n", medias)
#         print("cociente entre capas seguidas:\n", medias[:-1] / medias[1:])
#         pendientes = [np.mean(cache.a * (1 - cache.a)) for _, cache in model.calls[:-1]]
#         print("media de σ'(z) = a(1 - a):", round(float(np.mean(pendientes)), 3))
#         ```
#
#         ```text
#         media de |∂L/∂W|, capa_1 ... capa_10:
#          [4.5e-08 1.6e-07 8.4e-07 2.8e-06 1.4e-05 5.0e-05 2.4e-04 1.1e-03 4.3e-03
#          1.9e-02]
#         cociente entre capas seguidas:
#          [0.3 0.2 0.3 0.2 0.3 0.2 0.2 0.3 0.2]
#         media de σ'(z) = a(1 - a): 0.233
#         ```
# 6. En el modelo de dos salidas, pasa de `loss_weights=[1.0, 1.0]` a `[2.0, 1.0]`. ¿Qué
#    gradientes se duplican, cuáles no cambian y cuáles cambian de otra forma?
#
#     ??? note "Solución"
#         Los de `clase` se duplican: solo les llega $\lambda_1 \delta$ de la primera pérdida. Los de
#         `valor` no cambian. Los de `comun` no se duplican ni se quedan igual: en la bifurcación se
#         suman $2\, \delta$ de la clase y $1\, \delta$ del valor, así que lo que cambia es exactamente
#         un $\partial L_1 / \partial W$ más.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         entrada = mr.Input((4,), name="entrada")
#         comun = mr.layers.Dense(8, activation="relu", name="comun")(entrada)
#         clase = mr.layers.Dense(3, activation="softmax", name="clase")(comun)
#         valor = mr.layers.Dense(1, name="valor")(comun)
#         model = mr.Model(entrada, [clase, valor], name="dos_salidas")
#         rng = np.random.default_rng(0)
#         x = rng.normal(size=(8, 4))
#         y = [np.eye(3)[rng.integers(0, 3, size=8)], rng.normal(size=(8, 1))]
#
#
#         def gradientes(pesos):
#             model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"],
#                           loss_weights=pesos)
#             return model.loss_and_gradients(x, y)[1]
#
#
#         g_11, g_21, g_10 = gradientes([1.0, 1.0]), gradientes([2.0, 1.0]), gradientes([1.0, 0.0])
#         print("clase: g[2, 1] = 2·g[1, 1]:", np.allclose(g_21[2], 2 * g_11[2], rtol=1e-12))
#         print("valor: g[2, 1] = g[1, 1]:  ", np.array_equal(g_21[4], g_11[4]))
#         print("comun: g[2, 1] = 2·g[1, 1]:", np.allclose(g_21[0], 2 * g_11[0], rtol=1e-12))
#         print("comun: g[2, 1] - g[1, 1] = ∂L₁/∂W:", np.abs(g_21[0] - g_11[0] - g_10[0]).max())
#         ```
#
#         ```text
#         clase: g[2, 1] = 2·g[1, 1]: True
#         valor: g[2, 1] = g[1, 1]:   True
#         comun: g[2, 1] = 2·g[1, 1]: False
#         comun: g[2, 1] - g[1, 1] = ∂L₁/∂W: 2.7755575615628914e-16
#         ```
#
# ## Y después
#
# Con esto, minired entrena los mismos modelos que se escriben en Keras, en línea o en grafo. La
# [lección 14](../docs/14-guardar-y-pasar-a-keras.md) cuenta cómo guardarlos en un archivo, seguir
# entrenando donde se quedaron y abrirlos en Keras para llevarlos más allá de minired.
