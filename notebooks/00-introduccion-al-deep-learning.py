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
# # 0. Introducción al deep learning
#
# ## La idea
#
# Un programa clásico lleva las reglas escritas a mano: «si el correo contiene tal palabra, es
# spam». El aprendizaje automático (*machine learning*) da la vuelta al problema: en lugar de
# reglas le damos **ejemplos**, y un algoritmo ajusta los **parámetros** de un modelo hasta
# que sus respuestas se parecen a las de los ejemplos.
#
# El aprendizaje profundo (*deep learning*) es la parte del machine learning que usa **redes
# neuronales de muchas capas**. Cada capa recibe un vector de números y devuelve otro: una
# nueva **representación** de la entrada. Ninguna persona decide qué mide cada número de esas
# representaciones: la red las **aprende** a partir de los datos, igual que aprende la
# respuesta final.
#
# Una red de $L$ capas es una composición de funciones. Cada capa densa multiplica por una
# matriz de pesos $W_l$, suma un sesgo $b_l$ y aplica una función no lineal $g_l$ (las
# lecciones 2 a 4 lo desarrollan):
#
# $$
# \hat{y} = f_L\big(\cdots f_2(f_1(x))\big), \qquad f_l(a) = g_l(a\,W_l + b_l)
# $$
#
# «Profundo» se refiere a esa $L$: a la **profundidad**, el número de capas por las que pasa
# la señal desde la entrada hasta la salida. No hay una cifra oficial a partir de la cual una
# red es profunda; lo que cambia con la profundidad es que cada capa puede construir sobre lo
# que calcularon las anteriores.
#
# ## Pruébalo: la señal atraviesa las capas
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

x = (load_digits().data[:5] / 16.0).astype("float32")   # 5 imágenes de 8x8 = 64 píxeles

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)),
                       mr.layers.Dense(32, activation="relu"),
                       mr.layers.Dense(16, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])

a = x
print("entrada:", tuple(a.shape))
for depth, layer in enumerate(model.layers, start=1):
    a = layer(a)                                  # la representación que sale de esta capa
    print(f"capa {depth} ({layer.name}):", tuple(a.shape))
print("profundidad:", len(model.layers), "capas")
print("cada fila de la salida suma 1:", bool(np.allclose(np.asarray(a).sum(axis=1), 1)))

# %% [markdown]
# Cada imagen entra como 64 números, se convierte en 32, luego en 16 y al final en 10
# probabilidades, una por dígito. Esta red aún no ha entrenado, así que sus probabilidades no
# significan nada; entrenar (lección 5) es ajustar los pesos de las tres capas para que las 32 y
# las 16 cifras intermedias sean útiles para acertar. El mismo programa funciona con
# `import keras as mr`.
#
# ## Cómo aprende: con etiquetas, sin ellas, o con las que salen de los propios datos
#
# Según de dónde salga la respuesta correcta con la que se compara la red, se habla de tres
# formas de aprender:
#
# - **Supervisado.** Cada ejemplo $x$ viene con su **etiqueta** $y$ (*label*), normalmente puesta
#   por personas: la foto y la palabra «gato», el audio y su transcripción, la frase y su
#   traducción. La red aprende la función $x \mapsto y$. La mayor parte del deep learning se
#   entrena así, y es lo que hace todo este curso.
# - **Autosupervisado** (*self-supervised*). Las etiquetas se sacan **de los propios datos**. Un
#   modelo de lenguaje aprende a predecir la palabra siguiente a partir de las anteriores,
#   $p(w_t \mid w_1, \dots, w_{t-1})$: el «objetivo» de cada ejemplo es una palabra que ya
#   estaba en el texto. Nadie etiqueta nada, pero el entrenamiento es supervisado en su
#   mecánica: hay un $y$ y una pérdida que compara $\hat{y}$ con él.
# - **No supervisado.** No hay objetivo que predecir. Un *autoencoder* (autocodificador)
#   aprende a comprimir la entrada en pocos números y a reconstruirla desde ellos; el
#   *clustering* (agrupamiento) de *embeddings* (las representaciones vectoriales que produce
#   una red) agrupa ejemplos parecidos sin saber qué son. La frontera con el autosupervisado es
#   difusa: el autoencoder también compara su salida con un objetivo, que es la propia $x$.
#
# !!! warning "Un error frecuente"
#     Se lee a menudo que «el deep learning no necesita datos etiquetados». Es falso. La mayor
#     parte del deep learning se entrena con datos etiquetados (supervisado); también hay deep
#     learning autosupervisado y no supervisado, y los modelos preentrenados así se suelen
#     afinar después con datos etiquetados para una tarea concreta. Lo que el deep learning
#     evita es **diseñar a mano las características**, no etiquetar.
#
# ## Pruébalo: etiquetas que salen del texto
#
# Así se fabrican los ejemplos de un modelo de lenguaje: cada ventana de palabras es una $x$
# y la palabra que la sigue, su $y$.

# %%
text = "el perro come pan y el gato come pescado"
words = text.split()

context = 3                                        # cuántas palabras ve el modelo
pairs = [(words[i - context:i], words[i]) for i in range(context, len(words))]
for x, y in pairs:
    print(" ".join(x), "->", y)
print(len(pairs), "ejemplos (x, y) sin que nadie haya etiquetado nada")

# %% [markdown]
# Un texto de $n$ palabras da $n - 3$ ejemplos: cuanto más texto, más ejemplos, sin coste de
# etiquetado. Esa es la razón de que los modelos de lenguaje se entrenen así: el texto abunda;
# las etiquetas hechas a mano, no.
#
# ## Pruébalo: un autoencoder, sin etiquetas
#
# El autoencoder recibe la imagen $x$ y debe devolver la misma imagen, $\hat{x}$, pasando por un
# cuello de botella de 16 números. La pérdida es el error cuadrático medio entre las dos, con
# $N$ imágenes de $D = 64$ píxeles:
#
# $$
# L = \frac{1}{N D} \sum_{n=1}^{N} \sum_{d=1}^{D} \left(x_{nd} - \hat{x}_{nd}\right)^2
# $$
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

x = (load_digits().data / 16.0).astype("float32")       # solo las imágenes: sin etiquetas

mr.utils.set_random_seed(0)
autoencoder = mr.Sequential([mr.Input((64,)),
                             mr.layers.Dense(16, activation="relu"),      # el cuello de botella
                             mr.layers.Dense(64, activation="sigmoid")])  # la reconstrucción
autoencoder.compile(optimizer="adam", loss="mse")

before = autoencoder.evaluate(x, x, verbose=0)
autoencoder.fit(x, x, epochs=20, batch_size=32, verbose=0)   # el objetivo es la propia x
after = autoencoder.evaluate(x, x, verbose=0)
print(f"error de reconstrucción: {before:.4f} antes de entrenar, {after:.4f} después")
print(f"error de devolver siempre la imagen media: {np.mean((x - x.mean(axis=0)) ** 2):.4f}")

# %% [markdown]
# La red no ha visto ni una etiqueta y, aun así, sus 16 números guardan lo bastante de cada
# imagen para reconstruirla mucho mejor que la respuesta fija «la imagen media». Esos 16
# números son un *embedding* de la imagen: una representación aprendida que se puede agrupar o
# usar como entrada de otro modelo. (El ejercicio 4 lo compara con el método clásico para lo
# mismo.)
#
# ## Deep learning frente al machine learning clásico
#
# Los dos enfoques tienen más en común de lo que parece. Los dos:
#
# - ajustan los parámetros de un modelo minimizando una **pérdida** sobre unos datos de
#   entrenamiento;
# - se evalúan con datos que el modelo no ha visto (la separación entrenamiento/prueba);
# - sufren sobreajuste (*overfitting*) y se defienden con regularización y validación
#   (lecciones 8 a 10).
#
# De hecho, una regresión logística multinomial es una red **sin capas ocultas**:
# $\hat{y} = \operatorname{softmax}(x W + b)$, una sola capa `Dense(10, activation="softmax")`
# entrenada con entropía cruzada. Añadir una capa oculta,
# $\hat{y} = \operatorname{softmax}\big(\operatorname{relu}(x W_1 + b_1)\,W_2 + b_2\big)$, ya es
# deep learning en pequeño. Las diferencias están en otro sitio:
#
# | | machine learning clásico | deep learning |
# |---|---|---|
# | características | las diseña una persona (*feature engineering*, ingeniería de características): bordes, frecuencias, recuentos de palabras | las aprende la red, capa a capa, desde los datos en bruto |
# | datos | funciona bien con pocos miles de ejemplos o menos | las redes grandes que aprenden de datos en bruto necesitan muchos ejemplos (o partir de un modelo ya preentrenado) |
# | cómputo | segundos o minutos en una CPU | las redes grandes necesitan GPU o TPU, horas o días |
# | interpretabilidad | los coeficientes de un modelo lineal o las reglas de un árbol se pueden leer | miles o millones de pesos sin significado individual |
# | dónde brilla | datos tabulares, problemas pequeños | imágenes, audio y texto: datos en bruto, de muchas dimensiones, y en grandes cantidades |
#
# ## Pruébalo: clásico contra profundo, con los mismos datos
#
# Un punto de partida (*baseline*) clásico, la regresión logística y un *random forest*
# (bosque aleatorio) de scikit-learn, contra una red pequeña de minired, con la misma
# separación de entrenamiento y prueba:
#
# <!-- keras -->

# %%
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import minired as mr

digits = load_digits()                           # imágenes de 8x8 píxeles, 10 clases
x = (digits.data / 16.0).astype("float32")       # 64 píxeles por imagen, entre 0 y 1
x_train, x_test, y_train, y_test = train_test_split(
    x, digits.target, test_size=0.3, random_state=0)
print("imágenes:", len(x), "· entrenamiento:", x_train.shape, "· prueba:", x_test.shape)

# Machine learning clásico, directamente sobre los píxeles
logistic = LogisticRegression(max_iter=1000).fit(x_train, y_train)
forest = RandomForestClassifier(random_state=0).fit(x_train, y_train)
print(f"regresión logística: {logistic.score(x_test, y_test):.3f}")
print(f"random forest:       {forest.score(x_test, y_test):.3f}")

# Deep learning, en pequeño: una capa oculta que aprende sus propias características
mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)),
                       mr.layers.Dense(64, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"red neuronal:        {accuracy:.3f}")

# %% [markdown]
# Las tres aciertan en la prueba más o menos lo mismo, y el random forest gana. Esa es la
# lectura honesta: en imágenes de 8x8, pequeñas y ya preprocesadas, un modelo lineal sobre los
# píxeles es muy bueno, y la red no tiene mucho que aportar. El deep learning marca la
# diferencia con datos en bruto y de muchas dimensiones (fotos grandes, audio, texto) y con
# muchos ejemplos, donde diseñar las características a mano es la parte difícil y una red
# grande las aprende. Por eso conviene empezar siempre por un *baseline* clásico: dice cuánto
# aporta de verdad la red.
#
# Con `import keras as mr` el programa funciona igual; como Keras sortea otros pesos
# iniciales, la accuracy de la red puede cambiar un poco.
#
# ## Aplicaciones
#
# Cada tipo de dato tiene su familia de redes, diseñada para su estructura:
#
# | área | la entrada | las redes que se usan | en minired |
# |---|---|---|---|
# | visión por computador: clasificar imágenes, detectar objetos | píxeles en una rejilla 2-D | convolucionales (CNN); también *transformers* para imágenes | sí: `Conv2D`, `MaxPooling2D`, `BatchNormalization` ([lección 16](../docs/16-redes-convolucionales.md)), sobre imágenes pequeñas como los dígitos de 8x8 |
# | lenguaje: traducir, resumir, responder | secuencias de *tokens* (palabras o trozos de palabra) | *transformers*; antes, redes recurrentes (LSTM, GRU) | no |
# | voz: reconocer y sintetizar habla | el audio convertido en un espectrograma (energía por frecuencia y por instante) | convolucionales, recurrentes o *transformers* sobre el espectrograma | no |
# | datos tabulares | columnas de números y categorías | redes densas; aquí los árboles (random forest, *gradient boosting*) suelen ser difíciles de batir | sí: `Dense`, `Dropout`, regularización |
#
# Lo que minired tiene hoy son **redes densas**: `Dense`, `Activation`, `Dropout` y `Flatten`,
# con sus pérdidas, optimizadores, regularizadores y callbacks. Es suficiente para ver, en
# NumPy legible, todo lo que este curso explica: el paso hacia delante, backpropagation, el
# descenso del gradiente y cómo evitar el sobreajuste. Las ideas son las mismas en una red
# convolucional o en un transformer; lo que cambia es cómo está hecha cada capa.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 0](../docs/apendice-b-leer-el-codigo.md#leccion-0-introduccion-al-deep-learning).
#
# ## Ejercicios
#
# 1. ¿Qué profundidad tiene la red de `examples/digits.py`
#    (`Dense(128)`, `Dropout(0.2)`, `Dense(10)`)? ¿Cuántas capas tienen pesos?
#
#     ??? note "Solución"
#         `model.layers` tiene tres capas, pero `Dropout` no tiene pesos ni transforma la
#         representación de forma aprendida: solo apaga unidades al azar al entrenar. Las
#         capas con pesos, las que cuentan para la profundidad en el sentido de la fórmula, son
#         dos: una oculta y la de salida. Es una red poco profunda.
#
# 2. Clasifica cada caso como supervisado, autosupervisado o no supervisado: (a) un filtro de
#    spam entrenado con los correos que los usuarios marcaron como spam; (b) un modelo que
#    aprende a adivinar palabras tapadas en frases de Wikipedia; (c) agrupar clientes por sus
#    compras sin categorías previas; (d) un autoencoder que detecta piezas defectuosas porque
#    las reconstruye mal.
#
#     ??? note "Solución"
#         (a) Supervisado: la etiqueta «spam» la pusieron personas. (b) Autosupervisado: la
#         palabra tapada estaba en el texto. (c) No supervisado: clustering, sin objetivo.
#         (d) No supervisado (o autosupervisado, según a quién se pregunte): el objetivo es la
#         propia entrada; se entrena con piezas buenas y un error de reconstrucción alto
#         señala una anomalía.
#
# 3. Quita la capa oculta de la red del último fragmento: lo que queda,
#    `Dense(10, activation="softmax")` con entropía cruzada, es una regresión logística
#    multinomial. Entrénala 200 épocas. ¿Se acerca a la de scikit-learn?
#
#     ??? note "Solución"
#         ```python
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         x_train, x_test, y_train, y_test = train_test_split(
#             x, digits.target, test_size=0.3, random_state=0)
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(10, activation="softmax")])
#         model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
#                       metrics=["accuracy"])
#         model.fit(x_train, y_train, epochs=200, batch_size=32, verbose=0)
#         print(f"regresión logística con minired: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")
#         ```
#
#         ```text
#         regresión logística con minired: 0.959
#         ```
#
#         Casi la misma que la de scikit-learn. No es idéntica porque `LogisticRegression`
#         añade por defecto una penalización L2 a los pesos (lección 9) y llega al mínimo con
#         otro algoritmo (L-BFGS); Adam, con 200 épocas, se queda cerca. La capa oculta es lo
#         único que separa este modelo clásico de la red del fragmento.
#
# 4. El método clásico para comprimir sin etiquetas es el análisis de componentes principales
#    (PCA). Compara el error de reconstrucción del autoencoder con el de
#    `PCA(n_components=16)` de scikit-learn.
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#         from sklearn.decomposition import PCA
#
#         x = (load_digits().data / 16.0).astype("float32")
#         pca = PCA(n_components=16).fit(x)
#         reconstruction = pca.inverse_transform(pca.transform(x))
#         print(f"error de reconstrucción con PCA: {np.mean((x - reconstruction) ** 2):.4f}")
#         ```
#
#         ```text
#         error de reconstrucción con PCA: 0.0110
#         ```
#
#         PCA reconstruye mejor que el autoencoder de 20 épocas (0.0208). PCA es la mejor
#         compresión **lineal** posible con 16 números, y en 1797 imágenes de 8x8 lo lineal
#         basta. Otra vez, el baseline clásico gana en un problema pequeño; un autoencoder
#         más profundo, entrenado más tiempo y con más datos, puede aprender compresiones no
#         lineales que PCA no alcanza.
#
# 5. ¿Sufre más la red que los modelos clásicos cuando hay pocos datos? Entrena los tres con
#    solo los primeros 50, 100 y 300 ejemplos de `x_train`. Cuidado con una trampa: con menos
#    ejemplos, cada época tiene menos lotes, así que 30 épocas son menos actualizaciones de los
#    pesos.
#
#     ??? note "Solución"
#         ```python
#         from sklearn.datasets import load_digits
#         from sklearn.ensemble import RandomForestClassifier
#         from sklearn.linear_model import LogisticRegression
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         x_train, x_test, y_train, y_test = train_test_split(
#             x, digits.target, test_size=0.3, random_state=0)
#
#
#         def network(x, y, epochs):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(64, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
#                           metrics=["accuracy"])
#             model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
#             return model.evaluate(x_test, y_test, verbose=0)[1]
#
#
#         print("  n  logística  forest  red (30 épocas)  red (mismas actualizaciones)")
#         for n in (50, 100, 300):
#             xs, ys = x_train[:n], y_train[:n]
#             logistic = LogisticRegression(max_iter=1000).fit(xs, ys).score(x_test, y_test)
#             forest = RandomForestClassifier(random_state=0).fit(xs, ys).score(x_test, y_test)
#             fixed = network(xs, ys, epochs=30)
#             same_steps = network(xs, ys, epochs=30 * len(x_train) // n)
#             print(f"{n:3d}  {logistic:9.3f}  {forest:6.3f}  {fixed:15.3f}  {same_steps:28.3f}")
#         ```
#
#         ```text
#           n  logística  forest  red (30 épocas)  red (mismas actualizaciones)
#          50      0.770   0.737            0.502                         0.800
#         100      0.885   0.831            0.709                         0.900
#         300      0.915   0.937            0.924                         0.939
#         ```
#
#         Con 30 épocas fijas parece que la red se hunde con pocos datos, pero es la trampa:
#         con 50 ejemplos hace muy pocas actualizaciones. Con el mismo número de
#         actualizaciones que con todo `x_train`, esta red pequeña aguanta tan bien como los
#         modelos clásicos. La necesidad de muchos datos es de las redes **grandes** que
#         aprenden sus características desde datos en bruto, no de cualquier red.
#
# 6. En la tabla de aplicaciones, ¿qué recibe como entrada una red de reconocimiento de voz?
#    ¿Por qué esa representación se parece a una imagen?
#
#     ??? note "Solución"
#         Un espectrograma: una matriz con la energía de cada frecuencia (filas) en cada
#         instante (columnas), calculada a partir del audio. Es una rejilla 2-D de números,
#         como una imagen de un solo canal, y por eso le sirven las mismas capas
#         convolucionales que a las fotos; las recurrentes y los transformers la leen, en
#         cambio, como una secuencia de columnas en el tiempo.
