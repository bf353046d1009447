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
# # 11. Ajuste de hiperparámetros
#
# ## La idea
#
# Los **hiperparámetros** (*hyperparameters*) son lo que el optimizador (*optimizer*) no aprende
# y elegimos nosotros: la tasa de aprendizaje (*learning rate*), el número de unidades, el `rate`
# del dropout, el factor de L2, el tamaño del lote (*batch size*), las épocas (*epochs*)... No
# hay fórmula para acertarlos; se prueban combinaciones y se elige la que mejor funciona **en
# validación**.
#
# La regla de oro: el conjunto de **test no se usa para elegir**. Si probamos 18 combinaciones
# y nos quedamos con la mejor en test, esa cifra es optimista (hemos elegido, entre 18, la que
# mejor acertó *esos* ejemplos por casualidad). Se elige en validación y se mide en test una
# sola vez.
#
# ## El ejemplo: `examples/hyperparameters.py`
#
# - `load_data()` reparte `load_digits` de scikit-learn en 60 % entrenamiento, 20 %
#   validación y 20 % test, estratificado (*stratified*: la misma proporción de cada dígito en
#   cada parte).
# - `GRID` es la rejilla de la búsqueda en rejilla (*grid search*): `learning_rate` en
#   `[0.0003, 0.003, 0.03]`, `units` en `[8, 32, 128]` y `dropout` en `[0.0, 0.5]`:
#   $3 \cdot 3 \cdot 2 = 18$ combinaciones.
# - `build_model(learning_rate, units, dropout)` construye `64 → units (relu) → [Dropout] → 10
#   (softmax)` con `Adam(learning_rate)`.
# - `main(epochs=20, verbose=0)` entrena cada combinación desde la misma semilla (*seed*)
#   (`mr.utils.set_random_seed(0)`), 20 épocas con lotes de 32, con
#   `validation_data=(x_val, y_val)`; ordena por `val_accuracy` de la última época (empates:
#   menor `val_loss`), imprime la tabla, evalúa en test **solo la mejor** y devuelve la lista
#   de resultados (un diccionario por combinación, con el modelo entrenado).
#
# Todo son modelos pequeños en NumPy: la búsqueda entera tarda unos segundos.
#
# ```bash
# .venv/bin/python examples/hyperparameters.py
# ```
#
# Salida al escribir esta lección:
#
# ```text
#      lr unidades dropout exact. entr. exact. val. pérd. val.
#    0.03      128     0.0       1.0000      0.9833     0.0512
#   0.003      128     0.5       0.9675      0.9805     0.0864
#   0.003      128     0.0       0.9963      0.9777     0.0665
#    0.03       32     0.0       1.0000      0.9749     0.0701
#    0.03      128     0.5       0.9165      0.9721     0.1104
#   0.003       32     0.0       0.9870      0.9666     0.1256
#    0.03        8     0.0       0.9879      0.9499     0.1462
#   0.003        8     0.0       0.9610      0.9443     0.2173
#   0.003       32     0.5       0.8609      0.9415     0.1971
#    0.03       32     0.5       0.7699      0.9359     0.2270
#  0.0003      128     0.0       0.9499      0.9276     0.3251
#  0.0003      128     0.5       0.8738      0.9081     0.4477
#  0.0003       32     0.0       0.9072      0.8914     0.7906
#   0.003        8     0.5       0.4991      0.8774     0.7536
#  0.0003       32     0.5       0.5751      0.8524     1.1965
#    0.03        8     0.5       0.4202      0.7326     0.9710
#  0.0003        8     0.0       0.5473      0.5320     1.5782
#  0.0003        8     0.5       0.2477      0.4150     1.8567
# mejor en validación: lr=0.03, units=128, dropout=0.0 -> exactitud en test 0.9833
# ```
#
# Las columnas son la exactitud (*accuracy*) de entrenamiento y de validación de la última
# época (`accuracy` y `val_accuracy` en `History`) y la pérdida de validación (`val_loss`).
#
# ## Cómo leer la tabla
#
# - **Tasa de aprendizaje.** Con `0.0003` todas las redes quedan abajo: en 20 épocas no les da
#   tiempo a llegar. `0.003` y `0.03` están arriba; con más épocas el orden podría cambiar.
# -  **Capacidad** (*capacity*). Con 8 unidades la red se queda corta, sobre todo si además se le
#   quita la mitad con dropout. Con 128 están las mejores filas.
# -  **Dropout.** Aquí apenas cambia nada: la mejor fila no lleva dropout, y con `0.003` y 128
#   unidades las dos variantes se separan en un acierto. El problema es pequeño, en 20 épocas no
#   llega a haber mucho sobreajuste (*overfitting*) y la red no es enorme. Es una conclusión *de
#   este experimento*, no una regla.
# - **`exact. entr.` < `exact. val.` con dropout.** En las filas con `dropout 0.5`, la
#   exactitud de entrenamiento es a menudo menor que la de validación (`0.4202` frente a
#   `0.7326`). No es un
#   error: `fit` mide la de entrenamiento con el dropout activo y como media de la época,
#   antes de cada actualización; la de validación se mide sin dropout y con los pesos finales.
# - **Empates y ruido.** `exact. val.` se mide sobre 359 imágenes: un acierto más son 0.0028. Las
#   diferencias de las primeras filas son de uno o dos aciertos, y otra semilla podría
#   reordenarlas.
#
# ## Verlo en TensorBoard
#
# Con `--logdir`, cada combinación escribe sus curvas (el callback `TensorBoard`) y sus
# hiperparámetros con sus métricas finales (`minired/callbacks/hparams.py`) en su propia
# carpeta, `logs/grid/run-<i>`:
#
# ```bash
# .venv/bin/python examples/hyperparameters.py --logdir logs/grid
# .venv/bin/tensorboard --logdir logs/grid
# ```
#
# La pestaña **HParams** muestra una fila por combinación, que se puede ordenar por
# `val_accuracy`, y una vista de coordenadas paralelas donde se ve de un vistazo qué valores de
# cada hiperparámetro llevan a las mejores filas. La lección 12 explica el resto de pestañas.
#
# ## Usarlo desde Python
#
# `main` devuelve los resultados, así que se puede reutilizar con otra rejilla (desde la raíz
# del repositorio):
#
# <!-- repo -->

# %%
import importlib.util

spec = importlib.util.spec_from_file_location("hyperparameters", "examples/hyperparameters.py")
hp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hp)

hp.GRID = {"learning_rate": [0.003], "units": [32, 128], "dropout": [0.0, 0.5]}
results = hp.main(epochs=10)
print(sorted(results[0]))
print("mejor:", {k: results[0][k] for k in ("learning_rate", "units", "dropout")})

# %% [markdown]
# El ejemplo solo usa la API común, así que con `import keras as mr` en
# `examples/hyperparameters.py` también se ejecuta (más despacio: al escribir esta lección tardó
# alrededor de un minuto, y con otros números).
#
# ## Con scikit-learn: `GridSearchCV` y `RandomizedSearchCV`
#
# scikit-learn ya trae escrito el bucle de `main`, y con validación cruzada: `GridSearchCV`
# prueba todas las combinaciones de una rejilla y `RandomizedSearchCV` sortea unas cuantas.
# Solo necesitan un **estimador**: un objeto con `fit`, `predict`, `score`, `get_params` y
# `set_params`. `minired.wrappers.SklearnClassifier` (y `SklearnRegressor`, para regresión)
# convierte un modelo de minired en uno, al estilo de scikeras para Keras
# (`minired/wrappers/`):
#
# - `model=build` es una **función que construye el modelo**. Cada `fit` la vuelve a llamar,
#   así que cada entrenamiento empieza con pesos nuevos. Si declara `n_features_in` y
#   `n_classes`, el envoltorio se los pasa, sacados de los datos. Si devuelve el modelo sin
#   compilar, el envoltorio lo compila con su `optimizer`, su `loss` (por defecto
#   `sparse_categorical_crossentropy`) y sus `metrics`.
# - Los parámetros con **prefijo** se reparten: `model__units=32` llega a `build(units=32)`, y
#   `optimizer__learning_rate=0.01`, con `optimizer="adam"`, a `Adam(learning_rate=0.01)`. Son
#   parámetros como `epochs` o `batch_size`, así que una rejilla puede variarlos.
# - `random_state=0` llama a `mr.utils.set_random_seed(0)` al principio de cada `fit`: mismos
#   pesos iniciales y mismo orden de los lotes, y la búsqueda entera se repite igual.
# - Las etiquetas pueden ser números o texto (`classes_` las guarda ordenadas);
#   `predict_proba` da una columna por clase y `score` es la exactitud (*accuracy*; en `SklearnRegressor`,
#   $R^2 = 1 - \sum_n (y_n - \hat{y}_n)^2 / \sum_n (y_n - \bar{y})^2$). Después de `fit`
#   quedan el modelo entrenado, `model_`, y sus curvas, `history_`.
#
# Las búsquedas no usan un conjunto de validación fijo: con `cv=3` parten el entrenamiento en 3
# **pliegues** y entrenan cada combinación 3 veces, cada vez con dos pliegues, validando en el
# que queda fuera; su nota es la media de las 3 (**validación cruzada**). Al final reentrenan
# la mejor con todo `x_train` (`best_estimator_`). El test, como siempre, se mira una sola vez.

# %%
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split

import minired as mr
from minired.wrappers import SklearnClassifier


def build(n_features_in, n_classes, units=32):
    """n_features_in -> units (relu) -> n_classes (softmax); el envoltorio lo compila."""
    return mr.Sequential([mr.Input((n_features_in,)),
                          mr.layers.Dense(units, activation="relu"),
                          mr.layers.Dense(n_classes, activation="softmax")])


def show(search):
    """Una fila por combinación: su exactitud media en los 3 pliegues de validación."""
    results = search.cv_results_
    for params, score in zip(results["params"], results["mean_test_score"]):
        print(f"  units {params['model__units']:>3}  "
              f"lr {params['optimizer__learning_rate']:.4f}  ->  {score:.3f}")
    best = {name: round(float(value), 4) if name.startswith("optimizer") else value
            for name, value in search.best_params_.items()}
    print(f"  la mejor: {best}  ->  {search.best_score_:.3f}")


digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.2, random_state=0, stratify=digits.target)

clf = SklearnClassifier(build, optimizer="adam", epochs=10, random_state=0)

grid = GridSearchCV(clf, {"model__units": [8, 32],
                          "optimizer__learning_rate": [0.001, 0.01]}, cv=3)
grid.fit(x_train, y_train)
print("GridSearchCV:")
show(grid)

search = RandomizedSearchCV(clf, {"model__units": [8, 16, 32, 64, 128],
                                  "optimizer__learning_rate": loguniform(1e-4, 1e-1)},
                            n_iter=6, cv=3, random_state=0)
search.fit(x_train, y_train)
print("RandomizedSearchCV:")
show(search)

print(f"test de la mejor (la aleatoria), una sola vez: {search.score(x_test, y_test):.3f}")

# %% [markdown]
# Salida al escribir esta lección (unos segundos):
#
# ```text
# GridSearchCV:
#   units   8  lr 0.0010  ->  0.710
#   units   8  lr 0.0100  ->  0.939
#   units  32  lr 0.0010  ->  0.919
#   units  32  lr 0.0100  ->  0.963
#   la mejor: {'model__units': 32, 'optimizer__learning_rate': 0.01}  ->  0.963
# RandomizedSearchCV:
#   units 128  lr 0.0060  ->  0.968
#   units   8  lr 0.0064  ->  0.929
#   units  64  lr 0.0348  ->  0.963
#   units  64  lr 0.0087  ->  0.966
#   units 128  lr 0.0008  ->  0.940
#   units   8  lr 0.0778  ->  0.855
#   la mejor: {'model__units': 128, 'optimizer__learning_rate': 0.006}  ->  0.968
# test de la mejor (la aleatoria), una sola vez: 0.961
# ```
#
# - **La rejilla** repite lo de la tabla de arriba: con 8 unidades y `0.001`, 10 épocas no
#   bastan.
# - **La búsqueda aleatoria** sortea la tasa con `loguniform(1e-4, 1e-1)`, uniforme en el
#   exponente: cada década (de `1e-4` a `1e-3`, de `1e-3` a `1e-2`...) sale con la misma
#   probabilidad. Es el ejercicio 4, hecho por scikit-learn. Con 6 sorteos ha probado valores
#   que la rejilla no tenía, como 128 unidades con `0.006`.
# - **Ruido.** Entre `0.963` y `0.968` hay unas 7 imágenes de 1437: otra semilla u otro
#   reparto de pliegues podría cambiar el orden, como ya pasaba en la tabla.
#
# Las búsquedas de scikit-learn no escriben registros de TensorBoard: para ver cada
# combinación en la vista **HParams**, con una carpeta por ejecución, usa
# `examples/hyperparameters.py --logdir logs/grid`, como en «Verlo en TensorBoard». Las
# curvas del modelo elegido sí están a mano: `search.best_estimator_.history_` es el
# diccionario que devuelve `fit`, y `mr.plot.history(search.best_estimator_.history_)` las
# dibuja (con `validation_split=0.2` en el envoltorio salen también las de validación).
#
# Keras 3 trae su propio `keras.wrappers.SKLearnClassifier` (y `SKLearnRegressor`,
# `SKLearnTransformer`), que recibe los argumentos del modelo en un diccionario
# (`model_kwargs`); minired también los tiene, con esos nombres y ese comportamiento, para que
# un script escrito para Keras funcione sin cambios. `SklearnClassifier`, el que usa esta
# lección, sigue a scikeras, con prefijos, para que una rejilla pueda variar cada argumento por
# separado.
#
# ## Ejercicios
#
# 1. Repite cada combinación con las semillas 0, 1 y 2 y ordena por la media de
#    `val_accuracy`. ¿Cambian las primeras filas?
#
#     ??? note "Solución"
#         ```python
#         import itertools
#
#         import numpy as np
#
#         import examples.hyperparameters as hp
#         import minired as mr
#
#         (x_train, y_train), (x_val, y_val), _ = hp.load_data()
#         rows = []
#         for lr, units, dropout in itertools.product(*hp.GRID.values()):
#             scores = []
#             for seed in (0, 1, 2):
#                 mr.utils.set_random_seed(seed)
#                 model = hp.build_model(lr, units, dropout)
#                 history = model.fit(x_train, y_train, epochs=20, batch_size=32,
#                                     validation_data=(x_val, y_val), verbose=0)
#                 scores.append(history.history["val_accuracy"][-1])
#             rows.append((np.mean(scores), np.std(scores), lr, units, dropout))
#
#         rows.sort(key=lambda r: -r[0])
#         print("lr      unidades dropout  media val.  desv.")
#         for mean, std, lr, units, dropout in rows[:6]:
#             print(f"{lr:<7} {units:>8} {dropout:>7} {mean:>11.4f} {std:>6.4f}")
#         ```
#
#         ```text
#         lr      unidades dropout  media val.  desv.
#         0.003        128     0.0      0.9768 0.0035
#         0.003        128     0.5      0.9768 0.0026
#         0.003         32     0.0      0.9712 0.0035
#         0.03          32     0.0      0.9694 0.0099
#         0.03         128     0.5      0.9666 0.0164
#         0.003         32     0.5      0.9508 0.0069
#         ```
#
#         Sí cambian: la ganadora con la semilla 0 (`0.03`, 128, sin dropout) cae al séptimo
#         puesto, fuera de la tabla: acertó 0.9833 con la semilla 0, pero 0.9081 con la 1
#         (desviación 0.0310, unos 11 aciertos de 359). Con `0.03` el resultado depende mucho
#         de la suerte. Arriba quedan las de `0.003` y 128 unidades,
#         con y sin dropout empatadas. Promediar semillas separa el efecto del hiperparámetro
#         del ruido del sorteo.
#
# 2. Añade `EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)` y sube
#    `epochs` a 100. ¿Siguen quedando abajo las filas con `0.0003`?
#
#     ??? note "Solución"
#         ```python
#         import itertools
#
#         import examples.hyperparameters as hp
#         import minired as mr
#
#         (x_train, y_train), (x_val, y_val), _ = hp.load_data()
#         rows = []
#         for lr, units, dropout in itertools.product(*hp.GRID.values()):
#             mr.utils.set_random_seed(0)
#             model = hp.build_model(lr, units, dropout)
#             stop = mr.callbacks.EarlyStopping(monitor="val_loss", patience=3,
#                                               restore_best_weights=True)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32,
#                                 validation_data=(x_val, y_val), callbacks=[stop], verbose=0)
#             val_loss, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
#             rows.append((val_accuracy, val_loss, lr, units, dropout, len(history.epoch)))
#
#         rows.sort(key=lambda r: (-r[0], r[1]))
#         print("lr      unidades dropout épocas exact. val. pérd. val.")
#         for val_accuracy, val_loss, lr, units, dropout, epochs in rows:
#             print(f"{lr:<7} {units:>8} {dropout:>7} {epochs:>6} {val_accuracy:>11.4f} {val_loss:>10.4f}")
#         ```
#
#         ```text
#         lr      unidades dropout épocas exact. val. pérd. val.
#         0.003        128     0.5     25      0.9833     0.0764
#         0.03         128     0.0     12      0.9805     0.0478
#         0.0003       128     0.0    100      0.9805     0.0873
#         0.0003       128     0.5    100      0.9749     0.1122
#         0.003        128     0.0     15      0.9721     0.0861
#         0.003         32     0.0     25      0.9694     0.1147
#         0.03          32     0.0      7      0.9666     0.1234
#         0.03         128     0.5     13      0.9638     0.1164
#         0.003          8     0.0     42      0.9610     0.1334
#         0.003         32     0.5     33      0.9582     0.1412
#         0.0003        32     0.0    100      0.9582     0.1648
#         0.03           8     0.0     15      0.9471     0.1374
#         0.03          32     0.5     10      0.9387     0.2423
#         0.0003        32     0.5    100      0.9359     0.2775
#         0.0003         8     0.0    100      0.8997     0.4037
#         0.003          8     0.5     34      0.8858     0.6259
#         0.0003         8     0.5    100      0.8524     1.0480
#         0.03           8     0.5      7      0.7187     1.0311
#         ```
#
#         Ya no todas: con 100 épocas, `0.0003` y 128 unidades llega a la segunda y la cuarta
#         filas (usa las 100 épocas sin que la parada temprana lo corte, porque su `val_loss`
#         sigue bajando despacio). Con 20 épocas no era una mala tasa, sino que le faltaba
#         tiempo. Con 8 o 32 unidades sigue abajo. Al revés, `0.03` para pronto (7–15
#         épocas): va tan rápido que sobreajusta enseguida.
#
# 3. Añade a `GRID` un factor de L2 (`[0.0, 1e-4, 1e-3]`) y pásalo a la capa oculta como
#    `kernel_regularizer` (lección 9).
#
#     ??? note "Solución"
#         ```python
#         import itertools
#
#         import examples.hyperparameters as hp
#         import minired as mr
#
#         GRID = {**hp.GRID, "l2": [0.0, 1e-4, 1e-3]}
#         (x_train, y_train), (x_val, y_val), _ = hp.load_data()
#
#
#         def build_model(learning_rate, units, dropout, l2):
#             regularizer = mr.regularizers.L2(l2) if l2 > 0 else None
#             layers = [mr.Input((64,)),
#                       mr.layers.Dense(units, activation="relu", kernel_regularizer=regularizer)]
#             if dropout > 0:
#                 layers.append(mr.layers.Dropout(dropout))
#             model = mr.Sequential(layers + [mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=learning_rate),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             return model
#
#
#         rows = []
#         for params in itertools.product(*GRID.values()):
#             mr.utils.set_random_seed(0)
#             h = build_model(*params).fit(x_train, y_train, epochs=20, batch_size=32,
#                                          validation_data=(x_val, y_val), verbose=0).history
#             rows.append((h["val_accuracy"][-1], h["val_loss"][-1], *params))
#
#         rows.sort(key=lambda r: (-r[0], r[1]))
#         print(len(rows), "combinaciones")
#         print("lr      unidades dropout     l2 exact. val. pérd. val.")
#         for val_accuracy, val_loss, lr, units, dropout, l2 in rows[:6]:
#             print(f"{lr:<7} {units:>8} {dropout:>7} {l2:>6} {val_accuracy:>11.4f} {val_loss:>10.4f}")
#         ```
#
#         ```text
#         54 combinaciones
#         lr      unidades dropout     l2 exact. val. pérd. val.
#         0.03         128     0.0    0.0      0.9833     0.0512
#         0.003        128     0.5    0.0      0.9805     0.0864
#         0.003        128     0.5 0.0001      0.9805     0.1076
#         0.03         128     0.0 0.0001      0.9805     0.1302
#         0.003        128     0.0  0.001      0.9805     0.1519
#         0.003        128     0.0    0.0      0.9777     0.0665
#         ```
#
#         La rejilla pasa de 18 a 54 combinaciones (tres veces más tiempo) y la L2 apenas
#         cambia el orden: la mejor sigue siendo la de siempre, sin L2, y las demás filas de
#         arriba ganan o pierden un acierto. La `val_loss` sube con la L2 porque incluye la
#         penalización (lección 9). Con 20 épocas y 1078 ejemplos hay poco sobreajuste que
#         frenar; cada hiperparámetro nuevo multiplica el coste de la rejilla.
#
# 4. Cambia la rejilla por una **búsqueda aleatoria** (*random search*): 18 combinaciones con
#    `learning_rate = 10 ** rng.uniform(-4, -1)` y `units` al azar entre 8 y 256.
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#
#         import examples.hyperparameters as hp
#         import minired as mr
#
#         (x_train, y_train), (x_val, y_val), _ = hp.load_data()
#         rng = np.random.default_rng(0)
#         rows = []
#         for _ in range(18):
#             lr = float(10 ** rng.uniform(-4, -1))        # uniforme en el exponente
#             units = int(rng.integers(8, 257))            # de 8 a 256, ambos incluidos
#             dropout = float(rng.choice([0.0, 0.5]))
#             mr.utils.set_random_seed(0)
#             h = hp.build_model(lr, units, dropout).fit(
#                 x_train, y_train, epochs=20, batch_size=32,
#                 validation_data=(x_val, y_val), verbose=0).history
#             rows.append((h["val_accuracy"][-1], h["val_loss"][-1], lr, units, dropout))
#
#         rows.sort(key=lambda r: (-r[0], r[1]))
#         print("lr      unidades dropout exact. val. pérd. val.")
#         for val_accuracy, val_loss, lr, units, dropout in rows:
#             print(f"{lr:<7.5f} {units:>8} {dropout:>7} {val_accuracy:>11.4f} {val_loss:>10.4f}")
#         ```
#
#         ```text
#         lr      unidades dropout exact. val. pérd. val.
#         0.03734      146     0.0      0.9916     0.0211
#         0.01139      244     0.5      0.9833     0.0496
#         0.00702      198     0.0      0.9833     0.0532
#         0.01545      218     0.0      0.9833     0.0561
#         0.01162      183     0.0      0.9805     0.0482
#         0.01028      138     0.5      0.9777     0.0674
#         0.00814      135     0.0      0.9777     0.0717
#         0.00377      101     0.0      0.9749     0.0636
#         0.00427      147     0.5      0.9749     0.0765
#         0.00079      127     0.0      0.9721     0.1507
#         0.00661      249     0.5      0.9694     0.0720
#         0.02753      169     0.5      0.9582     0.1172
#         0.02803      175     0.0      0.9359     0.2389
#         0.00025      152     0.5      0.9136     0.5145
#         0.03886       13     0.5      0.7298     0.8559
#         0.09809      208     0.5      0.6351     0.9404
#         0.00013       26     0.0      0.5905     1.6708
#         0.00012        9     0.0      0.2925     2.0554
#         ```
#
#         (El `dropout` también se sortea, entre 0.0 y 0.5, para seguir buscando en las tres
#         dimensiones.) Con las mismas 18 pruebas, la búsqueda aleatoria encuentra una
#         combinación mejor que la rejilla (0.9916 frente a 0.9833, tres aciertos de 359;
#         con una sola semilla y una tasa alta, parte es suerte, como mostró el ejercicio 1):
#         ha probado 18 tasas distintas en lugar de 3, y las siete primeras filas caen entre
#         `0.007` y `0.04`, alrededor y entre los dos mejores valores de la rejilla (`0.003`,
#         `0.03`), una zona que la rejilla solo tocaba en dos puntos. Las peores son las de
#         tasa muy baja o con muy pocas unidades, como en la rejilla.
#
# 5. Elige la mejor combinación por exactitud **de test** en lugar de validación. ¿Por qué ese
#    número ya no es una estimación honesta?
#
#     ??? note "Solución"
#         Basta con ordenar `results` por `test_accuracy` en lugar de `val_accuracy` (evaluando en
#         test las 18 combinaciones). El número que sale ya no es honesto porque el test se ha usado
#         para **elegir**: entre 18 modelos, el que mejor acierta esas 360 imágenes concretas lo hace
#         en parte por suerte (las diferencias entre las primeras filas son de uno o dos aciertos), y
#         esa suerte no se repetirá con datos nuevos. Es el máximo de 18 estimaciones ruidosas, y el
#         máximo tiene un sesgo hacia arriba. Para informar de una cifra sin sesgo haría falta otro
#         conjunto que no haya intervenido en ninguna decisión; por eso se elige en validación y el
#         test se mira una sola vez.
#
# 6. En la sección de scikit-learn, cambia `cv=3` por `cv=5` y el `random_state` del
#    envoltorio por 1. ¿Sigue ganando la misma combinación?
#
#     ??? note "Solución"
#         ```python
#         from scipy.stats import loguniform
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
#
#         import minired as mr
#         from minired.wrappers import SklearnClassifier
#
#
#         def build(n_features_in, n_classes, units=32):
#             return mr.Sequential([mr.Input((n_features_in,)),
#                                   mr.layers.Dense(units, activation="relu"),
#                                   mr.layers.Dense(n_classes, activation="softmax")])
#
#
#         def best(search):
#             params = {name: round(float(value), 4) if name.startswith("optimizer") else value
#                       for name, value in search.best_params_.items()}
#             return f"{params}  ->  {search.best_score_:.3f}"
#
#
#         digits = load_digits()
#         x_train, x_test, y_train, y_test = train_test_split(
#             digits.data / 16.0, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
#
#         clf = SklearnClassifier(build, optimizer="adam", epochs=10, random_state=1)
#         grid = GridSearchCV(clf, {"model__units": [8, 32],
#                                   "optimizer__learning_rate": [0.001, 0.01]}, cv=5)
#         print("GridSearchCV:      ", best(grid.fit(x_train, y_train)))
#         search = RandomizedSearchCV(clf, {"model__units": [8, 16, 32, 64, 128],
#                                           "optimizer__learning_rate": loguniform(1e-4, 1e-1)},
#                                     n_iter=6, cv=5, random_state=0)
#         print("RandomizedSearchCV:", best(search.fit(x_train, y_train)))
#         ```
#
#         ```text
#         GridSearchCV:       {'model__units': 32, 'optimizer__learning_rate': 0.01}  ->  0.963
#         RandomizedSearchCV: {'model__units': 128, 'optimizer__learning_rate': 0.006}  ->  0.974
#         ```
#
#         Sí: las dos búsquedas eligen la misma combinación que con `cv=3` y `random_state=0`
#         (32 unidades y `0.01` en la rejilla; 128 unidades y `0.006` en la aleatoria, que
#         sortea las mismas 6 combinaciones porque su `random_state` no ha cambiado). Las notas
#         medias cambian un poco (0.968 pasa a 0.974), porque con 5 pliegues cada modelo
#         entrena con el 80 % de `x_train` en lugar del 67 % y la media es de 5 números. Aquí
#         las diferencias entre la mejor y la segunda eran lo bastante grandes; con diferencias
#         de un par de imágenes, el cambio de pliegues o de semilla sí podría reordenarlas.
#
# 7. Busca también el optimizador: añade `"optimizer": ["adam", "rmsprop", "sgd"]` a la
#    rejilla. ¿Qué tasa de aprendizaje le conviene a cada uno?
#
#     ??? note "Solución"
#         `build_model` usa siempre Adam, así que cada modelo se vuelve a compilar con el
#         optimizador elegido (por su nombre, en un diccionario de clases) y la tasa de la fila:
#
#         ```python
#         import itertools
#
#         import examples.hyperparameters as hp
#         import minired as mr
#
#         GRID = {**hp.GRID, "optimizer": ["adam", "rmsprop", "sgd"]}
#         OPTIMIZERS = {"adam": mr.optimizers.Adam, "rmsprop": mr.optimizers.RMSprop,
#                       "sgd": mr.optimizers.SGD}
#         (x_train, y_train), (x_val, y_val), _ = hp.load_data()
#
#         best = {}
#         for lr, units, dropout, name in itertools.product(*GRID.values()):
#             mr.utils.set_random_seed(0)
#             model = hp.build_model(lr, units, dropout)
#             model.compile(optimizer=OPTIMIZERS[name](../docs/learning_rate=lr),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             h = model.fit(x_train, y_train, epochs=20, batch_size=32,
#                           validation_data=(x_val, y_val), verbose=0).history
#             score = (h["val_accuracy"][-1], -h["val_loss"][-1])
#             best_lr = best.setdefault(name, {})
#             best_lr[lr] = max(best_lr.get(lr, score), score)
#
#         print("optimizador  exactitud de validación (la mejor fila) por tasa")
#         for name, by_lr in best.items():
#             cells = "  ".join(f"lr={lr}: {score[0]:.4f}" for lr, score in sorted(by_lr.items()))
#             print(f"{name:11s}  {cells}")
#         ```
#
#         ```text
#         optimizador  exactitud de validación (la mejor fila) por tasa
#         adam         lr=0.0003: 0.9276  lr=0.003: 0.9805  lr=0.03: 0.9833
#         rmsprop      lr=0.0003: 0.9276  lr=0.003: 0.9805  lr=0.03: 0.9861
#         sgd          lr=0.0003: 0.1894  lr=0.003: 0.8189  lr=0.03: 0.9359
#         ```
#
#         Adam y RMSprop quieren tasas parecidas (`0.003`–`0.03`; los dos ganan con `0.03`,
#         a uno o dos aciertos de `0.003`): los dos dividen el paso entre $\sqrt{v}$, así que cada peso se
#         mueve del orden de $\mathrm{lr}$ sea cual sea el tamaño de su gradiente. SGD da pasos
#         $\mathrm{lr} \cdot g$, y con gradientes pequeños necesita la tasa más alta de la
#         rejilla (y seguramente más, 0.1 o 0.3, lección 7): con `0.0003` casi no se mueve en
#         20 épocas. La conclusión práctica: la tasa buena depende del optimizador, y hay que
#         buscarlas juntas, no fijar una y cambiar el otro.
#
# 8. Mete el escalado dentro de la búsqueda: `make_pipeline(StandardScaler(), clf)`, con la
#    rejilla escrita `{"sklearnclassifier__model__units": [8, 32]}`. ¿Por qué conviene que el
#    escalador se ajuste dentro de cada pliegue y no antes, con todo `x_train`?
#
#     ??? note "Solución"
#         ```python
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import GridSearchCV, train_test_split
#         from sklearn.pipeline import make_pipeline
#         from sklearn.preprocessing import StandardScaler
#
#         import minired as mr
#         from minired.wrappers import SklearnClassifier
#
#
#         def build(n_features_in, n_classes, units=32):
#             return mr.Sequential([mr.Input((n_features_in,)),
#                                   mr.layers.Dense(units, activation="relu"),
#                                   mr.layers.Dense(n_classes, activation="softmax")])
#
#
#         digits = load_digits()
#         x_train, x_test, y_train, y_test = train_test_split(
#             digits.data / 16.0, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
#
#         clf = SklearnClassifier(build, optimizer="adam", epochs=10, random_state=0)
#         pipeline = make_pipeline(StandardScaler(), clf)
#         grid = GridSearchCV(pipeline, {"sklearnclassifier__model__units": [8, 32]}, cv=3)
#         grid.fit(x_train, y_train)
#         for params, score in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"]):
#             print(params, f"-> {score:.3f}")
#         print(f"test de la mejor, una sola vez: {grid.score(x_test, y_test):.3f}")
#         ```
#
#         ```text
#         {'sklearnclassifier__model__units': 8} -> 0.758
#         {'sklearnclassifier__model__units': 32} -> 0.944
#         test de la mejor, una sola vez: 0.936
#         ```
#
#         El escalador calcula la media y la desviación de cada píxel. Si se ajusta antes, con todo
#         `x_train`, esas estadísticas incluyen el pliegue que luego hace de validación: el modelo se
#         evalúa sobre datos que ya han influido en su preprocesado (una **fuga de datos**, *data
#         leakage*), y la nota de validación cruzada sale optimista. Dentro del `Pipeline`,
#         `GridSearchCV` ajusta el escalador solo con los pliegues de entrenamiento de cada ronda y
#         lo aplica, ya fijo, al de validación, como pasará con datos nuevos de verdad. El nombre
#         `sklearnclassifier__` es el que `make_pipeline` da al paso (el nombre de la clase en
#         minúsculas), y lo que sigue se pasa al envoltorio.
