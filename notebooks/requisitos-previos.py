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
# # Requisitos previos
#
# El curso pide tres cosas: leer Python con soltura, manejar arrays de NumPy y recordar un
# poco de cálculo (qué es una derivada y la regla de la cadena). No hace falta más
# matemática que esa: el álgebra lineal se reduce a multiplicar matrices y fijarse en sus
# formas, y la probabilidad a saber qué es una media y un logaritmo.
#
# Esta página repasa cada cosa con ejemplos pequeños. Si los lees sin esfuerzo y aciertas la
# autoevaluación del final, estás listo. Cada fragmento es un programa completo: cópialo en un
# archivo y ejecútalo con `.venv/bin/python archivo.py` desde la raíz del repositorio (o con
# cualquier Python que tenga NumPy). Lo que imprime es lo que aparece debajo.
#
# ## Python
#
# Basta con el Python de un primer curso: funciones, listas, diccionarios, bucles, f-strings
# y clases. Las clases importan porque minired está hecho de ellas: una capa `Dense` es un
# objeto que guarda sus pesos como atributos y calcula con sus métodos (`forward`,
# `backward`). Y Keras usa mucho los argumentos por nombre: `Dense(3, activation="relu")`.

# %%
class Recta:
    """La recta y = w·x + b: sus parámetros son atributos; su cálculo, un método."""

    def __init__(self, w, b=0.0):
        self.w = w
        self.b = b

    def forward(self, x):
        return self.w * x + self.b


recta = Recta(2.0, b=1.0)            # argumentos por posición y por nombre, como en Keras
print([recta.forward(x) for x in [0, 1, 2]])
historia = {"loss": [0.9, 0.5, 0.3]}  # un dict de listas, como el History de fit
print(f"última pérdida: {historia['loss'][-1]:.2f}")

# %% [markdown]
# Si `self`, `__init__` o la lista por comprensión `[... for x in ...]` te resultan nuevos,
# repasa los capítulos 4, 5 y 9 del [tutorial oficial de Python](https://docs.python.org/es/3/tutorial/).
#
# ## NumPy
#
# Todo minired es NumPy. Lo que más se usa:
#
# - un **array** tiene una forma (`shape`) y un tipo (`dtype`). Un lote de datos es una matriz
#   de forma `(N, in)`: una fila por ejemplo, una columna por característica;
# - `@` es el producto de matrices, y sus formas encajan así: `(N, in) @ (in, units)` da
#   `(N, units)`;
# - `+`, `*`, `np.exp`... actúan **elemento a elemento**, y el *broadcasting* estira un vector
#   para sumarlo a cada fila de una matriz;
# - `axis=0` recorre el lote (las filas); `axis=1`, las columnas de cada fila;
# - `float32` es el tipo por defecto de Keras; `float64` tiene el doble de cifras y se usa para
#   comprobar gradientes.

# %%
import numpy as np

x = np.array([[1.0, 2.0],
              [3.0, 4.0],
              [5.0, 6.0]])        # un lote de 3 ejemplos con 2 características: (N, in)
W = np.ones((2, 4))               # (in, units)
b = np.arange(4.0)                # (units,)
z = x @ W + b                     # producto de matrices; b se suma a cada fila
print(x.shape, "@", W.shape, "+", b.shape, "->", z.shape)
print(z)
print(z.sum(axis=0))              # sumar sobre el lote (eje 0): una suma por columna
print(z.argmax(axis=1))           # en cada fila, la columna del máximo
print(x.T.shape, x.dtype, x.astype("float32").dtype)

# %% [markdown]
# Esa línea `z = x @ W + b` es, literalmente, lo que calcula una capa densa (lección 4).
# Las funciones elemento a elemento, las máscaras de ceros y unos y los números aleatorios
# reproducibles aparecen en las activaciones (lección 3) y en el dropout (lección 8):

# %%
import numpy as np

z = np.array([-2.0, -0.5, 0.0, 1.5])
print(np.maximum(z, 0))            # la ReLU, elemento a elemento
print((z > 0).astype("float64"))   # una máscara de ceros y unos
print(np.exp(z).round(3))
rng = np.random.default_rng(0)     # la misma semilla da los mismos números
print(rng.uniform(size=3).round(3))


# %% [markdown]
# Para repasar: [NumPy: the absolute basics for beginners](https://numpy.org/doc/stable/user/absolute_beginners.html).
#
# ## Un poco de cálculo
#
# ### La derivada es una pendiente
#
# La derivada de $f$ en $x$ mide cuánto cambia $f(x)$ cuando $x$ se mueve un poco:
#
# $$
# f'(x) = \lim_{h \to 0} \frac{f(x + h) - f(x)}{h}
# $$
#
# Con un $h$ pequeño pero no nulo, el cociente ya es una buena aproximación, y la
# **diferencia central** es mejor todavía (su error es del orden de $h^2$ en vez de $h$):
#
# $$
# f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}
# $$
#
# Así comprueba el curso que las derivadas escritas a mano están bien (lección 5 y
# apéndice A). Con $f(x) = x^3$, cuya derivada es $f'(x) = 3x^2$:

# %%
def f(x):
    return x**3


x, h = 2.0, 1e-4
print(f"exacta, 3x²:   {3 * x**2:.10f}")
print(f"hacia delante: {(f(x + h) - f(x)) / h:.10f}")
print(f"central:       {(f(x + h) - f(x - h)) / (2 * h):.10f}")

# %% [markdown]
# Las derivadas que aparecen en el curso son pocas:
#
# | función | derivada | dónde aparece |
# |---|---|---|
# | $x^n$ | $n x^{n-1}$ | el error cuadrático (lección 6), L2 (lección 9) |
# | $e^x$ | $e^x$ | sigmoide y softmax (lección 3) |
# | $\ln x$ | $1/x$ | la entropía cruzada (lección 6) |
# | $\tanh x$ | $1 - \tanh^2 x$ | la activación `tanh` (lección 3) |
# | $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ | $\sigma(z)\,\bigl(1 - \sigma(z)\bigr)$ | la sigmoide (lección 3) |
# | $\lvert x \rvert$ | $\operatorname{sign}(x)$ | L1 (lección 9) |
#
# ### Derivadas parciales y gradiente
#
# Una pérdida depende de muchos pesos a la vez, $L(w_1, w_2, \dots)$. La **derivada
# parcial** $\partial L / \partial w_1$ es la derivada de siempre moviendo solo $w_1$ y dejando
# quietos los demás. Todas juntas forman el **gradiente**, $\nabla L$, que apunta hacia donde
# $L$ más crece. El descenso del gradiente da un paso pequeño en sentido contrario, con una
# tasa de aprendizaje $\eta$ (`learning_rate` en el código, lección 5):
#
# $$
# w \leftarrow w - \eta \, \frac{\partial L}{\partial w}
# $$
#
# En el código, el gradiente respecto a una matriz de pesos `W` es otra matriz de la misma
# forma: un número por peso.
#
# ### La regla de la cadena
#
# Si $y$ depende de $u$ y $u$ depende de $x$, las derivadas se multiplican:
#
# $$
# \frac{dy}{dx} = \frac{dy}{du} \cdot \frac{du}{dx}
# $$
#
# Una red es una cadena larga de funciones (capa tras capa, y al final la pérdida), y
# *backpropagation* es esta regla aplicada de atrás hacia delante (lección 5). Un eslabón
# basta para verla: una neurona sigmoide, $a = \sigma(z)$ con $z = wx + b$. La derivada de
# $a$ respecto al peso $w$ es
#
# $$
# \frac{\partial a}{\partial w} = \frac{d\sigma}{dz} \cdot \frac{\partial z}{\partial w}
# = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) \cdot x
# $$
#
# y la diferencia central dice lo mismo:

# %%
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


x, w, b = 1.5, 0.8, -0.2


def f(w):                                   # f(w) = σ(z), con z = w·x + b
    return sigmoid(w * x + b)


a = f(w)
cadena = a * (1 - a) * x                    # dσ/dz · dz/dw = σ(z)(1 - σ(z)) · x
h = 1e-6
numerica = (f(w + h) - f(w - h)) / (2 * h)  # diferencia central
print(f"regla de la cadena: {cadena:.8f}")
print(f"numérica:           {numerica:.8f}")

# %% [markdown]
# ### Sumas, medias y formas de matrices
#
# La pérdida de un lote es la media de las pérdidas $\ell_n$ de sus $N$ ejemplos:
#
# $$
# L = \frac{1}{N} \sum_{n=1}^{N} \ell_n
# $$
#
# Y cuando la regla de la cadena atraviesa un producto de matrices, el resultado se reconoce
# por su forma. En la lección 5 aparecerá $\partial L / \partial W = x^\top \delta z$: $x^\top$
# tiene forma `(in, N)`, $\delta z$ tiene forma `(N, units)`, y su producto, `(in, units)`,
# es justo la forma de `W`. El producto suma sobre los $N$ ejemplos del lote.

# %%
import numpy as np

x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])   # x: (N, in) = (3, 2)
dz = np.array([[0.1, -0.2, 0.0],
               [0.0, 0.3, 0.1],
               [-0.1, 0.1, 0.2]])                     # δz: (N, units) = (3, 3)
dW = x.T @ dz                                         # ∂L/∂W = xᵀ δz
print(x.T.shape, "@", dz.shape, "->", dW.shape)       # la forma de W: (in, units)
print(dW.round(2))

# %% [markdown]
# Un truco que sirve durante todo el curso: si las formas no encajan, la fórmula está mal; si
# encajan, casi siempre está bien.
#
# ### Logaritmos y exponenciales
#
# Las salidas de un clasificador son probabilidades, y la pérdida que las juzga, la entropía
# cruzada, es $-\ln p$ de la probabilidad que la red dio a la clase correcta (lección 6). Dos
# propiedades bastan: $\ln(ab) = \ln a + \ln b$, y $e^{\ln x} = x$. Por eso $-\ln p$ vale 0
# cuando $p = 1$ y crece sin límite cuando $p \to 0$: equivocarse con mucha seguridad cuesta
# mucho.
#
# ## Autoevaluación
#
# 1. ¿Qué forma tiene `np.ones((5, 3)) @ np.ones((3, 2))`? ¿Y `np.ones((5, 3)).sum(axis=0)`?
# 2. Calcula la derivada de $f(x) = (3x + 1)^2$ con la regla de la cadena.
# 3. Con $h = 10^{-4}$, ¿qué error esperas de la diferencia hacia delante y de la central?
# 4. Una capa tiene `W` de forma `(4, 3)`. ¿Qué forma tiene $\partial L / \partial W$?
#
# ??? tip "Soluciones"
#
#     1. `(5, 2)`: las formas `(5, 3) @ (3, 2)` encajan por el 3 del medio. La suma sobre el
#        eje 0 deja una por columna: `(3,)`.
#     2. Con $u = 3x + 1$: $f'(x) = 2u \cdot 3 = 6(3x + 1)$.
#     3. Del orden de $h = 10^{-4}$ la primera y de $h^2 = 10^{-8}$ la segunda, como en el
#        ejemplo de $x^3$ (allí, $6 \cdot 10^{-4}$ y $10^{-8}$).
#     4. `(4, 3)`, la misma que `W`: un número por peso.
#
# Si algo de esto te ha costado, repásalo antes de la lección 5: el resto del curso se apoya en
# ello. Para el cálculo, la serie *Essence of calculus* de 3Blue1Brown (con subtítulos en
# español) lo explica con dibujos.
