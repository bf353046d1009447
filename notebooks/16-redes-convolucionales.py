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
# # 16. Redes convolucionales
#
# ## La idea
#
# Muchos de los problemas que hicieron famoso el deep learning son de imágenes: un móvil que
# **reconoce la cara** de su dueño, un programa que busca un tumor en una **imagen médica**
# (una radiografía, un TAC), un **coche que lee la carretera** (las líneas del carril, las
# señales, los peatones). Una imagen es una rejilla de píxeles, y las redes de las lecciones
# anteriores no saben que lo es:
#
# - una foto en color de $224 \times 224$ son $224 \cdot 224 \cdot 3 = 150\,528$ números; una
#   `Dense(1000)` sobre ellos tiene 150 millones de pesos, solo en la primera capa;
# - para una `Dense`, el píxel $(0, 0)$ y el $(100, 100)$ son dos entradas sin relación, como
#   lo serían en cualquier orden: si la cara se mueve diez píxeles, la entrada es otra, y lo
#   aprendido para una posición no sirve en la siguiente.
#
# Las imágenes tienen dos propiedades que una capa puede aprovechar. Lo que importa es **local**:
# un borde, una esquina o un trazo son unos pocos píxeles vecinos. Y lo mismo puede estar **en
# cualquier sitio**: un ojo es un ojo arriba o abajo de la foto. La **capa convolucional**
# (*convolutional layer*, `Conv2D`) usa las dos: un **filtro** (*filter* o *kernel*) pequeño, de
# $3 \times 3$ píxeles por ejemplo, se desliza por la imagen y en cada posición calcula la suma
# de los píxeles que tiene debajo, ponderados por sus pesos. Son **los mismos pesos en todas las
# posiciones** (*weight sharing*): el filtro que aprende a ver un borde vertical lo ve en
# cualquier parte. El resultado es un **mapa de características** (*feature map*): dónde está,
# en la imagen, lo que el filtro detecta. Una capa con 32 filtros da 32 mapas, uno por filtro,
# que la capa siguiente lee como una imagen de 32 canales.
#
# Apiladas, las capas convolucionales construyen sobre lo anterior, como cuenta la
# [lección 0](../docs/00-introduccion-al-deep-learning.md): la primera ve bordes; la segunda combina
# bordes en trazos y esquinas; las siguientes, en partes de objetos. Entre ellas, una capa de
# **pooling** (*agrupación*) reduce el tamaño de los mapas, y al final unas `Dense` clasifican.
# Y cuesta poco: `Conv2D(32, 3)` sobre una imagen en color tiene $3 \cdot 3 \cdot 3 \cdot 32 +
# 32 = 896$ pesos, sea la imagen de $28 \times 28$ o de $1000 \times 1000$.
#
# En esta lección:
#
# - la ventana deslizante, a mano, con la forma de cada array en cada paso, y lo mismo con
#   `Conv2D`;
# - el relleno (*padding*), el paso (*stride*) y la dilatación, y el tamaño de la salida;
# - la convolución como **un solo producto de matrices** (*im2col*), que es como la calcula
#   minired, y su paso hacia atrás: $\partial L / \partial W = \mathrm{cols}^\top \delta_z$ y
#   $\delta_x$, una convolución traspuesta;
# - el pooling (máximo y media) y la normalización por lotes (`BatchNormalization`);
# - la red convolucional del ejemplo de MNIST de keras.io, su `summary()` contado a mano, y una
#   red pequeña que pasa del 98 % con los dígitos de $8 \times 8$, con sus filtros y sus mapas
#   de características dibujados.
#
# ## La API, como en Keras
#
# | qué | cómo |
# |---|---|
# | imágenes | arrays `(N, H, W, C)`: $N$ imágenes de $H \times W$ píxeles con $C$ canales (1 en gris, 3 en color), los canales al final (`channels_last`) |
# | una convolución | `Conv2D(filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None)`; su kernel tiene forma `(kh, kw, C, filters)` |
# | una convolución sobre secuencias | `Conv1D(filters, kernel_size, ...)`, con entradas `(N, pasos, C)` y también `padding="causal"` |
# | reducir | `MaxPooling2D(pool_size=2)` (el máximo de cada ventana), `AveragePooling2D` (la media), `GlobalAveragePooling2D` y `GlobalMaxPooling2D` (un número por canal) |
# | normalizar | `BatchNormalization()`: media 0 y varianza 1 por canal, con las estadísticas del lote al entrenar y medias móviles al predecir |
# | cambiar la forma | `Flatten()` (todo en un vector), `Reshape((8, 8, 1))`, `ZeroPadding2D(1)`, `UpSampling2D(2)` |
# | dropout de mapas enteros | `SpatialDropout2D(rate)`: apaga canales completos, no píxeles sueltos |
#
# ## La ventana deslizante, paso a paso
#
# Una imagen de $5 \times 5$ con un borde vertical (ceros a la izquierda, unos a la derecha) y un
# filtro de $3 \times 3$ que resta la columna de la izquierda de la de la derecha. En cada
# posición $(i, j)$ el filtro cubre una **ventana** (*window*) de $3 \times 3$ píxeles; se
# multiplican elemento a elemento y se suman los 9 productos. El filtro cabe en
# $5 - 3 + 1 = 3$ posiciones por fila y por columna, así que la salida es de $3 \times 3$:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
imagen = np.array([[0, 0, 1, 1, 1],
                   [0, 0, 1, 1, 1],
                   [0, 0, 1, 1, 1],
                   [0, 0, 0, 1, 1],
                   [0, 0, 0, 1, 1]])                    # 5x5: un borde vertical que se tuerce
K = np.array([[-1, 0, 1],
              [-1, 0, 1],
              [-1, 0, 1]])                              # 3x3: responde a los bordes verticales

x = imagen.reshape(1, 5, 5, 1).astype("float64")        # (N, H, W, C): una imagen, un canal
print("x:", x.shape, "  K:", K.shape)

# La ventana deslizante, a mano: 3 x 3 posiciones, porque 5 - 3 + 1 = 3
z = np.zeros((3, 3))
for i in range(3):
    for j in range(3):
        ventana = x[0, i:i + 3, j:j + 3, 0]             # (3, 3): los píxeles bajo el filtro
        z[i, j] = np.sum(ventana * K)                   # 9 productos, sumados
        if (i, j) == (1, 0):
            print(f"posición ({i}, {j}): ventana {ventana.shape}")
            print(ventana.astype(int))
            print("ventana ⊙ K:")
            print((ventana * K).astype(int), "-> suma", int(z[i, j]))
print("a mano, z", z.shape)
print(z.astype(int))

# Lo mismo con la capa de Keras: el kernel tiene forma (kh, kw, C, F) = (3, 3, 1, 1)
conv = mr.layers.Conv2D(filters=1, kernel_size=3, use_bias=False)
conv.build((None, 5, 5, 1))
conv.set_weights([K.reshape(3, 3, 1, 1).astype("float64")])
salida = conv(x)                                        # (N, H', W', F)
print("Conv2D:", salida.shape, "  igual que a mano:", np.array_equal(salida[0, :, :, 0], z))

# %% [markdown]
# El mapa vale 3 donde el borde cruza la ventana de arriba abajo (la columna izquierda de la
# ventana a 0, la derecha a 1), 0 donde no hay borde (todo unos) y valores intermedios donde el
# borde se tuerce: **dice dónde está** lo que el filtro busca. Las formas son las de Keras: la entrada `(N, H, W, C)`, el kernel `(kh, kw, C, F)` y
# la salida `(N, H', W', F)`, con $F$ el número de filtros (`filters`). Con $C$ canales de
# entrada, cada filtro tiene $k_h \cdot k_w \cdot C$ pesos y suma también sobre los canales.
#
# Escrito para cualquier lote, con paso $s$ y un sesgo $b_f$ por filtro:
#
# $$
# z_{n,i,j,f} = \sum_{a=0}^{k_h - 1} \sum_{b=0}^{k_w - 1} \sum_{c=0}^{C - 1}
#   x_{n,\; i s + a,\; j s + b,\; c}\; W_{a,b,c,f} \;+\; b_f ,
# \qquad a_{n,i,j,f} = f(z_{n,i,j,f}) .
# $$
#
# !!! note "¿Convolución o correlación?"
#
#     En matemáticas, la convolución gira el kernel $180°$ antes de deslizarlo; lo que calculan
#     `Conv2D` en Keras, TensorFlow, PyTorch y minired no lo gira (en rigor es una *correlación
#     cruzada*). Como el kernel se aprende, da igual: la red aprende el kernel ya girado. El
#     giro reaparece en el paso hacia atrás, más abajo.
#
# ## Relleno, paso y dilatación
#
# Tres argumentos de `Conv2D` cambian qué ventanas se leen:
#
# - el **relleno** (*padding*): con `padding="valid"` (el de omisión) la ventana solo se pone
#   donde cabe entera y la salida encoge; con `padding="same"` se añaden ceros alrededor para
#   que la salida tenga el mismo tamaño que la entrada (con paso 1);
# - el **paso** (*stride*, `strides`): cuántos píxeles salta la ventana de una posición a la
#   siguiente; `strides=2` divide el tamaño de la salida por 2;
# - la **dilatación** (*dilation*, `dilation_rate`): separa los pesos del filtro; con
#   `dilation_rate=2` un filtro de $3 \times 3$ lee los píxeles de una ventana de $5 \times 5$,
#   uno sí y uno no: ve más lejos con los mismos 9 pesos.
#
# Con un filtro de $k$ píxeles y dilatación $d$, la ventana abarca $e = (k - 1) d + 1$ píxeles,
# y a lo largo de un eje de $n$ píxeles la salida tiene
#
# $$
# n' = \left\lfloor \frac{n - e}{s} \right\rfloor + 1 \quad (\texttt{"valid"}),
# \qquad
# n' = \left\lceil \frac{n}{s} \right\rceil \quad (\texttt{"same"}),
# $$
#
# y `"same"` añade en total $\max\big((n' - 1) s + e - n,\ 0\big)$ ceros: la mitad antes y la
# otra mitad después, y si son impares, el que sobra va después (la regla de TensorFlow, que
# Keras sigue). La fórmula, comparada con lo que dice `Conv2D`:

# %%
import math

import minired as mr
from minired.layers.convolutional.im2col import pad_amounts


def tamano(n, k, s=1, d=1, padding="valid"):
    """La fórmula: cuántas posiciones tiene la ventana a lo largo de un eje de n píxeles."""
    e = (k - 1) * d + 1                            # lo que abarca la ventana, con la dilatación
    return (n - e) // s + 1 if padding == "valid" else math.ceil(n / s)


print("n   kernel strides dilation padding  fórmula  Conv2D             ceros (antes, después)")
for n, k, s, d, padding in [(5, 3, 1, 1, "valid"), (5, 3, 1, 1, "same"), (5, 3, 2, 1, "valid"),
                            (5, 3, 2, 1, "same"), (28, 3, 1, 1, "valid"), (28, 5, 2, 1, "same"),
                            (28, 3, 1, 2, "valid"), (8, 2, 2, 1, "same")]:
    conv = mr.layers.Conv2D(4, k, strides=s, dilation_rate=d, padding=padding)
    forma = conv.compute_output_shape((None, n, n, 1))
    print(f"{n:<3} {k}x{k}    {s}       {d}        {padding:7}  {tamano(n, k, s, d, padding):<7}  "
          f"{str(forma):18} {pad_amounts(n, k, s, d, padding)}")

# %% [markdown]
# El número de filtros (4 aquí) solo cambia el último eje. Con $28 \times 28$, un kernel de
# $5 \times 5$ y `strides=2, padding="same"` hacen falta 3 ceros: uno antes y dos después.
#
# ## Las matemáticas, en la notación del código
#
# ### Una convolución es un producto de matrices (im2col)
#
# Los bucles de la definición son lentos en Python. minired (como las bibliotecas de verdad en
# muchos casos) reordena la cuenta: copia cada ventana en una fila de una matriz, `cols`, y
# multiplica esa matriz por el kernel puesto como matriz. La técnica se llama **im2col**
# (*image to columns*):
#
# $$
# \underbrace{\mathrm{cols}}_{(N H' W',\; k_h k_w C)} \;
# \underbrace{W}_{(k_h k_w C,\; F)} + b
# = \underbrace{z}_{(N H' W',\; F)} \;\longrightarrow\; (N, H', W', F) .
# $$
#
# Cada fila de `cols` es una ventana y cada columna de $W$ es un filtro: es $z = xW + b$, la
# `Dense` de la [lección 4](../docs/04-feedforward.md), aplicada a cada ventana con **los mismos pesos**.
# Para dos imágenes de $6 \times 6$ en color y 4 filtros, con `patches`, la función de minired
# que saca todas las ventanas a la vez:

# %%
import numpy as np

import minired as mr
from minired.layers.convolutional.im2col import patches

mr.config.set_floatx("float64")
rng = np.random.default_rng(0)
N, H, W, C, F = 2, 6, 6, 3, 4                   # 2 imágenes 6x6 en color (3 canales), 4 filtros
x = rng.normal(size=(N, H, W, C))
K = rng.normal(size=(3, 3, C, F))               # (kh, kw, C, F)
b = rng.normal(size=F)

# 1. La definición: bucles sobre n, i, j y f; cada uno suma una ventana (3, 3, C) por un filtro
directo = np.zeros((N, 4, 4, F))
for n in range(N):
    for i in range(4):
        for j in range(4):
            for f in range(F):
                directo[n, i, j, f] = np.sum(x[n, i:i + 3, j:j + 3, :] * K[:, :, :, f]) + b[f]

# 2. im2col: todas las ventanas a la vez, luego una matriz y un solo producto
ventanas = patches(x, (3, 3))                   # una vista de x, sin copiar nada
print("ventanas:", ventanas.shape, "  (N, H', W', kh, kw, C)")
cols = ventanas.reshape(N * 4 * 4, 3 * 3 * C)   # una fila por posición de salida: la copia
print("cols:    ", cols.shape, "       (N·H'·W', kh·kw·C)")
K_matriz = K.reshape(3 * 3 * C, F)
print("kernel:  ", K_matriz.shape, "        (kh·kw·C, F): el kernel de una Dense")
z = cols @ K_matriz + b                         # el único producto de matrices
print("z:       ", z.shape, "        ->", z.reshape(N, 4, 4, F).shape)

# 3. La capa Conv2D de minired, con los mismos pesos
conv = mr.layers.Conv2D(F, 3)
conv.build((None, H, W, C))
conv.set_weights([K, b])
print("bucles = im2col:", np.allclose(directo, z.reshape(N, 4, 4, F), rtol=1e-12),
      "  bucles = Conv2D:", np.allclose(directo, conv(x), rtol=1e-12))

# %% [markdown]
# El precio es la memoria: cada píxel se copia en hasta $k_h k_w = 9$ filas de `cols`. A
# cambio, todo el trabajo es un producto de matrices, la operación que NumPy (y una GPU) hace
# más deprisa. `patches` no copia (salvo el relleno, si lo hay): devuelve una vista de `x`,
# hecha con `sliding_window_view` de NumPy; la copia la hace el `reshape` a matriz.
#
# ### Hacia atrás: los gradientes de una convolución
#
# Como `Conv2D` es una `Dense` sobre las filas de `cols`, su paso hacia atrás es el de la
# [lección 5](../docs/05-backpropagation-y-descenso-del-gradiente.md) sobre esas filas. Con
# $\delta_a = \partial L / \partial a$, lo que llega desde la capa siguiente:
#
# $$
# \begin{aligned}
# \delta_z &= f'(z) \odot \delta_a && (N H' W',\; F) \\
# \frac{\partial L}{\partial W} &= \mathrm{cols}^\top \delta_z && (k_h k_w C,\; F) \to (k_h, k_w, C, F) \\
# \frac{\partial L}{\partial b} &= \textstyle\sum_{n,i,j} \delta_{z,n,i,j} && (F,) \\
# \delta_{\mathrm{cols}} &= \delta_z W^\top && (N H' W',\; k_h k_w C) \\
# \delta_x &= \operatorname{col2im}(\delta_{\mathrm{cols}}) && (N, H, W, C)
# \end{aligned}
# $$
#
# Dos reglas de la [lección 13](../docs/13-backpropagation-en-un-grafo.md) explican las sumas:
#
# - el kernel es un **peso compartido**: lo usan todas las posiciones, así que su gradiente es la
#   suma de lo que aporta cada una. El producto $\mathrm{cols}^\top \delta_z$ hace esa suma sobre
#   las $N H' W'$ filas;
# - cada píxel de $x$ lo leen **varias ventanas** (una bifurcación): su gradiente es la suma de
#   lo que le devuelve cada una. Eso hace **col2im**, la operación inversa de im2col: cada fila de
#   $\delta_{\mathrm{cols}}$ se suma en los píxeles de los que salió su ventana
#   (`scatter_patches` en minired).
#
# Sumar así $\delta_z$ por el kernel sobre cada píxel es también una convolución: la de
# $\delta_z$, rodeado de $k - 1$ ceros, con el kernel **girado** $180°$ y los canales de
# entrada y salida intercambiados. Se llama **convolución traspuesta** (*transposed
# convolution*), porque es la multiplicación por la traspuesta de la matriz que representa la
# convolución. Las tres formas de calcular $\delta_x$, y las diferencias finitas de
# `mr.gradcheck`:

# %%
import numpy as np

import minired as mr
from minired.layers.convolutional.im2col import patches, scatter_patches

mr.config.set_floatx("float64")
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 6, 6, 3))                # (N, H, W, C)
conv = mr.layers.Conv2D(4, 3)                    # sin activación: a = z
conv.build((None, 6, 6, 3))
K = conv.get_weights()[0]                        # (3, 3, 3, 4)
delta_z = rng.normal(size=(2, 4, 4, 4))          # el δz que llega desde arriba, forma de z

# A mano, con im2col
cols = patches(x, (3, 3)).reshape(32, 27)        # (N·H'·W', kh·kw·C)
dW = (cols.T @ delta_z.reshape(32, 4)).reshape(K.shape)      # ∂L/∂W = colsᵀ δz
db = delta_z.sum(axis=(0, 1, 2))                             # ∂L/∂b = Σ δz
delta_cols = delta_z.reshape(32, 4) @ K.reshape(27, 4).T     # δcols = δz Wᵀ   (32, 27)
delta_x = scatter_patches(delta_cols.reshape(2, 4, 4, 3, 3, 3), x.shape, (3, 3))  # col2im
print("∂L/∂W", dW.shape, " ∂L/∂b", db.shape, " δcols", delta_cols.shape, " δx", delta_x.shape)

# La capa: forward, backward (que suma en kernel_gradient y bias_gradient)
conv(x)
conv.zero_gradients()
delta_x_capa = conv.backward(delta_z)
print("mano = capa:", np.allclose(dW, conv.kernel_gradient), np.allclose(db, conv.bias_gradient),
      np.allclose(delta_x, delta_x_capa))

# δx es una convolución "completa" de δz con el kernel girado 180° (y C y F intercambiados)
traspuesta = mr.layers.Conv2D(3, 3, use_bias=False)
traspuesta.build((None, 8, 8, 4))
traspuesta.set_weights([K[::-1, ::-1].transpose(0, 1, 3, 2)])             # (3, 3, F, C)
relleno = np.pad(delta_z, ((0, 0), (2, 2), (2, 2), (0, 0)))                # (2, 8, 8, 4)
print("δx = conv(δz con 2 ceros alrededor, kernel girado):",
      np.allclose(traspuesta(relleno), delta_x))

# Cuántas ventanas leen cada píxel: col2im de unos. Cada una le devuelve su parte
print(scatter_patches(np.ones((1, 4, 4, 3, 3, 1)), (1, 6, 6, 1), (3, 3))[0, :, :, 0].astype(int))

# Y las diferencias finitas: mr.gradcheck mueve cada número ±h
for resultado in mr.gradcheck.check_layer(mr.layers.Conv2D(4, 3, strides=2, padding="same",
                                                           name="conv"), x):
    print(f"{resultado.name:13} error relativo < 1e-7: {resultado.relative_error < 1e-7}")

# %% [markdown]
# La matriz de enteros es el número de ventanas que leen cada píxel de una imagen de
# $6 \times 6$ con un filtro de $3 \times 3$: las esquinas, 1; el centro, 9. Es también lo que
# recibe cada píxel en $\delta_x$ si todo $\delta_{\mathrm{cols}}$ vale 1. `check_layer`
# compara con diferencias finitas el gradiente de la entrada (`inputs`), del kernel
# (`weight_0`) y del sesgo (`weight_1`), aquí con paso 2 y relleno `"same"`.
#
# ### Pooling: el máximo y la media de cada ventana
#
# Una capa de **pooling** (*agrupación*) también desliza una ventana, pero no tiene pesos:
# reduce cada ventana, canal a canal, a un número. `MaxPooling2D(2)` se queda con el máximo de
# cada bloque de $2 \times 2$ (por omisión `strides` es igual a `pool_size`: las ventanas no se
# solapan) y divide por dos el alto y el ancho; `AveragePooling2D(2)` se queda con la media.
# Sirven para reducir el tamaño (y el coste) de los mapas siguientes, y hacen a la red algo
# menos sensible a que un trazo se mueva un píxel.
#
# Hacia atrás, cada una reparte el $\delta$ de su ventana según su derivada:
#
# - el **máximo** solo depende del píxel ganador: si otro cambia un poco, el máximo no se mueve.
#   Todo el $\delta$ va al **arg-max** de la ventana y los demás reciben 0. Si hay empate, Keras
#   (TensorFlow) se lo da al primero, leyendo la ventana fila a fila;
# - la **media** depende de los $k$ píxeles por igual, con derivada $1/k$: cada uno recibe
#   $\delta / k$.

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
x = np.array([[1, 3, 2, 0],
              [4, 2, 1, 1],
              [0, 1, 5, 6],
              [2, 2, 7, 3]], dtype="float64").reshape(1, 4, 4, 1)
delta_a = np.array([[10, 20],
                    [30, 40]], dtype="float64").reshape(1, 2, 2, 1)   # δ de cada ventana

for capa in (mr.layers.MaxPooling2D(2), mr.layers.AveragePooling2D(2)):
    a = capa(x, training=True)                   # (1, 2, 2, 1): un valor por ventana de 2x2
    delta_x = capa.backward(delta_a)             # (1, 4, 4, 1)
    print(type(capa).__name__, " a =", a[0, :, :, 0].tolist())
    print("δx =")
    print(delta_x[0, :, :, 0])
print("parámetros:", mr.layers.MaxPooling2D(2).count_params())

# %% [markdown]
# En la ventana de abajo a la izquierda, $\begin{pmatrix} 0 & 1 \\ 2 & 2 \end{pmatrix}$, hay
# empate a 2: el $\delta = 30$ va entero al primero, en la fila 3 y la columna 0. La media da
# $\delta / 4$ a cada píxel: $10 / 4 = 2.5$ arriba a la izquierda. Las versiones globales,
# `GlobalMaxPooling2D` y `GlobalAveragePooling2D`, usan una sola ventana del tamaño del mapa
# entero y devuelven un número por canal, `(N, C)`: una forma de terminar una red convolucional
# sin `Flatten`.
#
# ### Normalización por lotes
#
# Las redes convolucionales profundas entrenan mejor con **normalización por lotes** (*batch
# normalization*, `BatchNormalization`, Ioffe y Szegedy, 2015). La capa normaliza cada canal con
# la media $\mu$ y la varianza $\sigma^2$ de **ese lote**, tomadas sobre los $N H W$ valores del
# canal, y después escala y desplaza con dos pesos que se entrenan, $\gamma$ y $\beta$:
#
# $$
# \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad a = \gamma\, \hat x + \beta .
# $$
#
# Así cada capa recibe entradas de media 0 y varianza 1, pase lo que pase con los pesos de las
# capas anteriores, y se pueden usar tasas de aprendizaje mayores sin que el entrenamiento se
# desboque. Al predecir no hay lote del que sacar estadísticas (puede haber una sola imagen), así
# que la capa guarda, durante el entrenamiento, unas **medias móviles** (*moving averages*):
# $\text{media\_móvil} \leftarrow 0.99 \cdot \text{media\_móvil} + 0.01 \cdot \mu$, y lo mismo con
# la varianza. Son pesos **no entrenables**: no los cambia el optimizador, sino la propia capa
# (como el contador de la [lección 15](../docs/15-diferenciacion-automatica.md)).

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
rng = np.random.default_rng(0)
x = 3 + 2 * rng.normal(size=(32, 4, 4, 2))       # 32 mapas de 4x4 con 2 canales: media 3, desv. 2

bn = mr.layers.BatchNormalization()
a = bn(x, training=True)                         # entrenamiento: las estadísticas del lote
print("pesos (γ, β, media móvil, varianza móvil):", [w.shape for w in bn.get_weights()],
      " entrenables:", len(bn.trainable_weights))
print("lote, por canal:   media", np.round(x.mean(axis=(0, 1, 2)), 3),
      " varianza", np.round(x.var(axis=(0, 1, 2)), 3))
print("salida (training): media", np.round(a.mean(axis=(0, 1, 2)), 3) + 0,
      " varianza", np.round(a.var(axis=(0, 1, 2)), 3))
gamma, beta, media_movil, varianza_movil = bn.get_weights()
print("tras un paso, media móvil", np.round(media_movil, 4), " varianza móvil",
      np.round(varianza_movil, 4))
print("  0.99·0 + 0.01·media    ", np.round(0.01 * x.mean(axis=(0, 1, 2)), 4),
      " 0.99·1 + 0.01·varianza", np.round(0.99 + 0.01 * x.var(axis=(0, 1, 2)), 4))

# Inferencia: las medias móviles, no las del lote: un ejemplo solo da lo mismo que en su lote
solo, en_el_lote = bn(x[:1], training=False), bn(x, training=False)[:1]
print("inferencia: x[0] solo = x[0] en su lote:", np.allclose(solo, en_el_lote))

# %% [markdown]
# Las medias móviles empiezan en 0 y 1 y se acercan poco a poco a las de los datos: tras un
# paso apenas se han movido. Por eso, en las primeras épocas de un entrenamiento, `evaluate`
# (que usa las medias móviles) puede dar resultados mucho peores que los del propio
# entrenamiento. Una `Conv2D` seguida de `BatchNormalization` no necesita sesgo
# (`use_bias=False`): la normalización resta la media, sesgo incluido, y $\beta$ hace su papel.
# El paso hacia atrás en entrenamiento tiene en cuenta que $\mu$ y $\sigma^2$ dependen de todo
# el lote; la fórmula está en el docstring de la capa.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código
# fuente (el [apéndice B](../docs/apendice-b-leer-el-codigo.md#leccion-16-redes-convolucionales)
# propone un orden de lectura):
#
# - `minired/layers/convolutional/conv2d.py`: el docstring de `Conv2D` escribe la definición con
#   la ventana deslizante, la forma im2col y las fórmulas del paso hacia atrás.
# - `minired/layers/convolutional/base_conv.py`: el código, común a `Conv1D` y `Conv2D`:
#   `forward` (`patches`, un `reshape`, un producto) y `backward_from_z` ($\mathrm{cols}^\top
#   \delta_z$ y `scatter_patch_products`).
# - `minired/layers/convolutional/im2col.py`: `pad_amounts` y `output_size` (el relleno y el
#   tamaño de la salida), `patches` (im2col), `scatter_patches` (col2im) y
#   `scatter_patch_products`, que da el mismo $\delta_x$ que `scatter_patches` aplicado a
#   $\delta_{\mathrm{cols}} = \delta_z W^\top$ sin formar esa matriz entera: un
#   desplazamiento del kernel cada vez, con los mismos productos y las mismas sumas.
# - `minired/layers/pooling/`: `max_pooling.py` (el arg-max y los empates), `average_pooling.py`,
#   `global_pooling.py`.
# - `minired/layers/normalization/batch_normalization.py`: las estadísticas del lote, las
#   medias móviles y el paso hacia atrás en los dos modos.
# - `examples/digits_cnn.py`: la red convolucional de los dígitos, y la de keras.io con
#   imágenes de $28 \times 28$ (`--synthetic28`).
#
# ## La red convolucional de keras.io
#
# El ejemplo *Simple MNIST convnet* de keras.io clasifica los dígitos de MNIST, imágenes de
# $28 \times 28$ en gris, con esta red. Escrita igual en minired:
#
# <!-- keras -->

# %%
import minired as mr

model = mr.Sequential([
    mr.Input((28, 28, 1)),
    mr.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    mr.layers.MaxPooling2D(pool_size=(2, 2)),
    mr.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
    mr.layers.MaxPooling2D(pool_size=(2, 2)),
    mr.layers.Flatten(),
    mr.layers.Dropout(0.5),
    mr.layers.Dense(10, activation="softmax"),
])
model.summary()
print("a mano:", 3 * 3 * 1 * 32 + 32, 3 * 3 * 32 * 64 + 64, 5 * 5 * 64 * 10 + 10)
densa = mr.Sequential([mr.Input((28 * 28,)), mr.layers.Dense(128), mr.layers.Dense(10)])
print("una Dense(128) sobre los 784 píxeles:", densa.layers[0].count_params(), "pesos")

# %% [markdown]
# Las formas, capa a capa: $28 - 3 + 1 = 26$; el pooling deja $\lfloor 26 / 2 \rfloor = 13$;
# $13 - 3 + 1 = 11$; y $\lfloor 11 / 2 \rfloor = 5$ (la última fila y la última columna se
# pierden). Los parámetros:
#
# - la primera `Conv2D`: 32 filtros de $3 \times 3 \times 1$, más 32 sesgos: $9 \cdot 32 + 32 = 320$;
# - la segunda lee 32 canales: cada uno de sus 64 filtros tiene $3 \cdot 3 \cdot 32 = 288$ pesos,
#   y $288 \cdot 64 + 64 = 18\,496$;
# - `Flatten` deja $5 \cdot 5 \cdot 64 = 1600$ números, y la `Dense(10)` tiene
#   $1600 \cdot 10 + 10 = 16\,010$. El pooling, `Flatten` y `Dropout` no tienen pesos.
#
# Las dos convoluciones juntas tienen menos pesos que la última `Dense`, y muchos menos que una
# sola `Dense(128)` sobre los píxeles: los filtros son pequeños y se reutilizan en cada posición.
#
# ## Pruébalo: una red convolucional con los dígitos de 8x8
#
# Los dígitos de `load_digits` de las lecciones 8 a 12 son imágenes de $8 \times 8$. Hasta ahora
# entraban en la red como 64 números; aquí entran como imágenes, `(N, 8, 8, 1)`, en una red con
# dos convoluciones:

# %%
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as mr

mr.utils.set_random_seed(0)
digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., None]     # (1797, 8, 8, 1): imágenes
y = mr.utils.to_categorical(digits.target, num_classes=10)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=digits.target)

model = mr.Sequential([
    mr.Input((8, 8, 1)),
    mr.layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv_1"),   # (8, 8, 16)
    mr.layers.BatchNormalization(),
    mr.layers.Activation("relu"),
    mr.layers.MaxPooling2D(2),                                  # (4, 4, 16)
    mr.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_2"),  # (4, 4, 32)
    mr.layers.MaxPooling2D(2),                                  # (2, 2, 32)
    mr.layers.Flatten(),                                        # 128
    mr.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print("exactitud en entrenamiento, por época:", np.round(history.history["accuracy"], 3))
print(f"{model.count_params()} parámetros, exactitud en test {accuracy:.2%}")

# Los mapas de características: un modelo funcional con las mismas capas (lección 13)
mapas = mr.Model(model.inputs, [model.get_layer("conv_1").output,
                                model.get_layer("conv_2").output])
m1, m2 = mapas.predict(x_test[:5], verbose=0)
print("mapas de conv_1:", m1.shape, " de conv_2:", m2.shape)

# %% [markdown]
# Con 6138 parámetros, menos que los 9610 de la red densa 64-128-10 de `examples/digits.py`
# (que se queda en el 97.6 % en test tras 50 épocas), la red convolucional llega al 98 % en 10
# épocas: sabe que los píxeles vecinos van juntos, y la densa tiene que aprenderlo. `examples/digits_cnn.py` entrena
# una algo mayor (32 y 64 filtros, `Dropout`, 20 épocas) y pasa del 98 % en test:
#
# ```bash
# .venv/bin/python examples/digits_cnn.py
# .venv/bin/python examples/digits_cnn.py --synthetic28 --epochs 10   # la red de keras.io, 28x28
# ```
#
# Con `--synthetic28` entrena la red de keras.io de la sección anterior sobre los mismos
# dígitos ampliados a $28 \times 28$ (cada píxel repetido $3 \times 3$ y un marco de ceros, sin
# descargar nada), e imprime lo que tarda cada época: en un portátil, de uno a unos pocos
# segundos con sus 1212 imágenes de entrenamiento. MNIST tiene 60 000, cincuenta veces más: en
# minired, que calcula con NumPy en la CPU, cada época de MNIST tarda del orden de un minuto o
# más; TensorFlow, con una GPU, unos pocos segundos.
#
# ### Qué aprenden los filtros
#
# La figura muestra los 8 filtros de la primera capa de una red como esta
# (`examples/course_figures.py`), antes y después de entrenar. Al empezar son números al azar
# (`glorot_uniform`); tras entrenar, la mayoría tienen una zona positiva (roja) frente a una
# negativa (azul), como el $K$ de la primera sección: restan un lado de otro y responden a un
# borde en una dirección.
#
# ![Los 8 filtros 3x3 de la primera Conv2D, al empezar y tras entrenar con los dígitos](../docs/img/filtros-aprendidos.png)
#
# Y lo que ven: para un 0 y un 7 del test, la salida de la primera convolución (8 mapas de
# $8 \times 8$, uno por filtro) y la de la segunda (16 mapas de $4 \times 4$). Cada mapa de la
# primera capa es la imagen vista por un filtro: uno se enciende en los bordes izquierdos del
# trazo, otro en los de abajo. Los de la segunda capa ya no se parecen al dígito: combinan los
# de la primera, y son lo que la `Dense` final usa para decidir.
#
# ![Un 0 y un 7, con los mapas de características de las dos capas convolucionales](../docs/img/mapas-caracteristicas.png)
#
# ## En Keras
#
# Todas las capas de esta lección tienen el nombre, los argumentos, las formas y el orden de los
# pesos de Keras. Para comprobarlo, la misma red pequeña (`Conv2D`, `BatchNormalization`,
# `relu`, `MaxPooling2D`, `Flatten`, `Dense`) se entrena tres épocas en minired y en Keras,
# desde los mismos pesos:

# %%
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras
import numpy as np

import minired as mr


def red(keras, pesos):
    """Conv2D, BatchNormalization, relu, MaxPooling2D, Flatten y Dense, con los nombres de
    Keras: `keras` es un argumento."""
    keras.config.set_floatx("float64")
    model = keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.set_weights(pesos)
    return model


rng = np.random.default_rng(0)
x = rng.normal(size=(16, 6, 6, 2))
y = x[:, :3, :3, 0].mean(axis=(1, 2))[:, None]              # la media de una esquina
pesos = [rng.normal(size=(3, 3, 2, 3)) * 0.3, np.zeros(3),  # Conv2D: kernel y sesgo
         np.ones(3), np.zeros(3), np.zeros(3), np.ones(3),  # γ, β y las dos medias móviles
         rng.normal(size=(27, 1)) * 0.3, np.zeros(1)]       # Dense
modelos = {"minired": red(mr, pesos), "Keras": red(keras, pesos)}
for nombre, model in modelos.items():
    historia = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    print(f"{nombre:8}", np.round(historia.history["loss"], 6),
          " predicción:", np.round(model.predict(x[:2], verbose=0).ravel(), 6))
finales = [model.get_weights() for model in modelos.values()]
print("máx. diferencia de los pesos < 1e-12:",
      bool(max(np.abs(a - b).max() for a, b in zip(*finales)) < 1e-12))

# %% [markdown]
# Las mismas pérdidas, las mismas predicciones (que usan las medias móviles) y los mismos pesos
# al final, medias móviles incluidas. `examples/digits_cnn.py` solo usa nombres de Keras
# (`import minired as keras`): con `import keras` funciona igual. Las diferencias de minired:
# solo tiene `data_format="channels_last"` (en Keras también existe `"channels_first"`,
# `(N, C, H, W)`, y una GPU calcula la convolución con algoritmos más rápidos que im2col). Sí
# tiene las convoluciones agrupadas, `groups=G`: el grupo $g$ de canales de entrada solo alimenta
# a sus $F/G$ filtros, y minired calcula los $G$ productos `cols_g W_g` en un solo `np.matmul`.
# También tiene la convolución traspuesta, `Conv2DTranspose` (y `Conv1DTranspose`),
# la que agranda imágenes en los autoencoders y las GAN: su paso hacia delante es exactamente el
# gradiente respecto a la entrada de una convolución, $z = \mathrm{col2im}(x W^\top) + b$, y su
# paso hacia atrás, una convolución corriente de $\delta_z$
# (`minired/layers/convolutional/base_conv_transpose.py`).
#
# ## Ejercicios
#
# 1. Una imagen en color de $32 \times 32$ pasa por `Conv2D(16, 5, strides=2)`. ¿Qué forma
#    tiene la salida con `padding="valid"` y con `padding="same"`? ¿Cuántos parámetros tiene la
#    capa en cada caso?
#
#     ??? note "Solución"
#         Con `"valid"`, $\lfloor (32 - 5) / 2 \rfloor + 1 = 14$; con `"same"`,
#         $\lceil 32 / 2 \rceil = 16$. Los parámetros no dependen del relleno ni del paso, ni
#         del tamaño de la imagen: 16 filtros de $5 \cdot 5 \cdot 3$ pesos y 16 sesgos.
#
#         ```python
#         import minired as mr
#
#         for padding in ("valid", "same"):
#             conv = mr.layers.Conv2D(16, 5, strides=2, padding=padding)
#             conv.build((None, 32, 32, 3))
#             print(f"{padding:5}", conv.compute_output_shape((None, 32, 32, 3)), conv.count_params(),
#                   "parámetros =", 5 * 5 * 3 * 16 + 16)
#         ```
#
#         ```text
#         valid (None, 14, 14, 16) 1216 parámetros = 1216
#         same  (None, 16, 16, 16) 1216 parámetros = 1216
#         ```
# 2. Mueve un dígito una columna a la derecha. ¿Qué les pasa a los mapas de una `Conv2D`? ¿Y
#    al máximo de cada mapa (`GlobalMaxPooling2D`)?
#
#     ??? note "Solución"
#         Los mapas se mueven igual que la imagen: la convolución usa los mismos pesos en
#         todas las posiciones, así que mover la entrada mueve la salida (se dice que es
#         *equivariante* a las traslaciones). El máximo de cada mapa no cambia: no depende de
#         dónde esté el trazo (es *invariante*). Los dígitos de `load_digits` tienen la primera
#         y la última columna casi vacías, y el movimiento no saca nada de la imagen.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         mr.utils.set_random_seed(0)
#         x = (load_digits().images[:1] / 16.0)[..., None]             # un dígito, (1, 8, 8, 1)
#         movido = np.zeros_like(x)
#         movido[:, :, 1:, :] = x[:, :, :-1, :]                        # una columna a la derecha
#
#         conv = mr.layers.Conv2D(4, 3, padding="same", activation="relu")
#         a, a_movido = conv(x), conv(movido)
#         print("conv: el mapa se mueve con la imagen:", np.allclose(a_movido[:, :, 2:], a[:, :, 1:-1]))
#         print("      pero no es el mismo mapa:", np.allclose(a_movido, a))
#
#         pool = mr.layers.GlobalMaxPooling2D()
#         print("máximo de cada mapa:", np.round(pool(a), 3), np.round(pool(a_movido), 3), sep="\n")
#         ```
#
#         ```text
#         conv: el mapa se mueve con la imagen: True
#               pero no es el mismo mapa: False
#         máximo de cada mapa:
#         [[0.364 0.387 1.046 1.135]]
#         [[0.364 0.387 1.046 1.135]]
#         ```
# 3. Una `Conv2D` con `kernel_size=1` no mira a los vecinos. Comprueba que es una `Dense`
#    aplicada a cada píxel, sobre el eje de los canales.
#
#     ??? note "Solución"
#         Con un kernel de $1 \times 1$ cada ventana es un solo píxel con sus $C$ canales, y
#         `cols` es la imagen puesta como matriz `(N·H·W, C)`: $z = \mathrm{cols}\, W + b$ con
#         $W$ de `(C, F)`, exactamente una `Dense(F)`. Las redes modernas las usan para
#         mezclar canales y cambiar su número sin tocar el tamaño del mapa.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         x = np.random.default_rng(0).normal(size=(2, 5, 5, 3))      # 2 imágenes 5x5 de 3 canales
#
#         conv = mr.layers.Conv2D(4, 1)                               # kernel (1, 1, 3, 4)
#         densa = mr.layers.Dense(4)                                  # kernel (3, 4)
#         conv.build((None, 5, 5, 3))
#         densa.build((None, 3))
#         kernel, sesgo = conv.get_weights()
#         densa.set_weights([kernel.reshape(3, 4), sesgo])
#         por_pixel = densa(x.reshape(-1, 3)).reshape(2, 5, 5, 4)     # la misma Dense en cada píxel
#         print(kernel.shape, "->", kernel.reshape(3, 4).shape, " iguales:", np.allclose(conv(x), por_pixel))
#         ```
#
#         ```text
#         (1, 1, 3, 4) -> (3, 4)  iguales: True
#         ```
# 4. Comprueba con `mr.gradcheck.check_layer` el paso hacia atrás de `MaxPooling2D` y de
#    `AveragePooling2D`, con una entrada al azar y con una entrada de unos. ¿Por qué falla el
#    máximo con la entrada de unos?
#
#     ??? note "Solución"
#         Con unos, los cuatro píxeles de cada ventana empatan. El máximo no es derivable en un
#         empate: subir un píxel $h$ sube el máximo $h$, pero bajarlo no lo baja (el máximo
#         pasa a ser otro píxel, que vale lo mismo). La diferencia central da
#         $(h - 0) / 2h = 1/2$ para cada píxel, y `backward` da todo el $\delta$ al primero
#         (como TensorFlow) y 0 a los demás: un error relativo de 0.5. Con valores al azar los
#         empates no ocurren, y la media es derivable siempre.
#
#         ```python
#         import numpy as np
#
#         import minired as mr
#
#         mr.config.set_floatx("float64")
#         rng = np.random.default_rng(0)
#         casos = {"al azar": rng.normal(size=(2, 4, 4, 3)), "con empates": np.ones((2, 4, 4, 3))}
#         for nombre, x in casos.items():
#             for capa in (mr.layers.MaxPooling2D(2), mr.layers.AveragePooling2D(2)):
#                 (resultado,) = mr.gradcheck.check_layer(capa, x)
#                 print(f"{nombre:11} {type(capa).__name__:16} error relativo {resultado.relative_error:.1f}")
#         ```
#
#         ```text
#         al azar     MaxPooling2D     error relativo 0.0
#         al azar     AveragePooling2D error relativo 0.0
#         con empates MaxPooling2D     error relativo 0.5
#         con empates AveragePooling2D error relativo 0.0
#         ```
#
# ## Y después
#
# Una convolución es una `Dense` pequeña que se aplica en cada posición con los mismos pesos,
# y su paso hacia atrás, las reglas de siempre: los gradientes de un peso compartido se suman, y
# los de un píxel leído por varias ventanas, también. Con `Conv2D`, el pooling y
# `BatchNormalization`, minired entrena las redes convolucionales clásicas; las arquitecturas
# modernas (ResNet, por ejemplo) se construyen con estas mismas piezas y las conexiones
# residuales de la [lección 13](../docs/13-backpropagation-en-un-grafo.md).
