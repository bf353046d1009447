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
# Keras 3 trae su propio `keras.wrappers.SKLearnClassifier`, que recibe los argumentos del
# modelo en un diccionario (`model_kwargs`); el de minired sigue a scikeras, con prefijos, para
# que una rejilla pueda variar cada argumento por separado.
#
# ## Ejercicios
#
# 1. Repite cada combinación con las semillas 0, 1 y 2 y ordena por la media de
#    `val_accuracy`. ¿Cambian las primeras filas?
# 2. Añade `EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)` y sube
#    `epochs` a 100. ¿Siguen quedando abajo las filas con `0.0003`?
# 3. Añade a `GRID` un factor de L2 (`[0.0, 1e-4, 1e-3]`) y pásalo a la capa oculta como
#    `kernel_regularizer` (lección 9).
# 4. Cambia la rejilla por una **búsqueda aleatoria** (*random search*): 18 combinaciones con
#    `learning_rate = 10 ** rng.uniform(-4, -1)` y `units` al azar entre 8 y 256.
# 5. Elige la mejor combinación por exactitud **de test** en lugar de validación. ¿Por qué ese
#    número ya no es una estimación honesta?
# 6. En la sección de scikit-learn, cambia `cv=3` por `cv=5` y el `random_state` del
#    envoltorio por 1. ¿Sigue ganando la misma combinación?
# 7. Busca también el optimizador: añade `"optimizer": ["adam", "rmsprop", "sgd"]` a la
#    rejilla. ¿Qué tasa de aprendizaje le conviene a cada uno?
# 8. Mete el escalado dentro de la búsqueda: `make_pipeline(StandardScaler(), clf)`, con la
#    rejilla escrita `{"sklearnclassifier__model__units": [8, 32]}`. ¿Por qué conviene que el
#    escalador se ajuste dentro de cada pliegue y no antes, con todo `x_train`?
