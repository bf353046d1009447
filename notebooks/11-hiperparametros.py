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
# Los **hiperparámetros** son lo que el optimizador no aprende y elegimos nosotros: la tasa de
# aprendizaje, el número de unidades, el `rate` del dropout, el factor de L2, el tamaño del
# lote, las épocas... No hay fórmula para acertarlos; se prueban combinaciones y se elige la
# que mejor funciona **en validación**.
#
# La regla de oro: el conjunto de **test no se usa para elegir**. Si probamos 18 combinaciones
# y nos quedamos con la mejor en test, esa cifra es optimista (hemos elegido, entre 18, la que
# mejor acertó *esos* ejemplos por casualidad). Se elige en validación y se mide en test una
# sola vez.
#
# ## El ejemplo: `examples/hyperparameters.py`
#
# - `load_data()` reparte `load_digits` de scikit-learn en 60 % entrenamiento, 20 %
#   validación y 20 % test, estratificado (la misma proporción de cada dígito en cada parte).
# - `GRID` es la rejilla: `learning_rate` en `[0.0003, 0.003, 0.03]`, `units` en `[8, 32, 128]`
#   y `dropout` en `[0.0, 0.5]`: 3 · 3 · 2 = 18 combinaciones.
# - `build_model(learning_rate, units, dropout)` construye `64 → units (relu) → [Dropout] → 10
#   (softmax)` con `Adam(learning_rate)`.
# - `main(epochs=20, verbose=0)` entrena cada combinación desde la misma semilla
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
#      lr units dropout train acc  val acc val loss
#    0.03   128     0.0    1.0000   0.9833   0.0512
#   0.003   128     0.5    0.9675   0.9805   0.0864
#   0.003   128     0.0    0.9963   0.9777   0.0665
#    0.03    32     0.0    1.0000   0.9749   0.0701
#    0.03   128     0.5    0.9165   0.9721   0.1104
#   0.003    32     0.0    0.9870   0.9666   0.1256
#    0.03     8     0.0    0.9879   0.9499   0.1462
#   0.003     8     0.0    0.9610   0.9443   0.2173
#   0.003    32     0.5    0.8609   0.9415   0.1971
#    0.03    32     0.5    0.7699   0.9359   0.2270
#  0.0003   128     0.0    0.9499   0.9276   0.3251
#  0.0003   128     0.5    0.8738   0.9081   0.4477
#  0.0003    32     0.0    0.9072   0.8914   0.7906
#   0.003     8     0.5    0.4991   0.8774   0.7536
#  0.0003    32     0.5    0.5751   0.8524   1.1965
#    0.03     8     0.5    0.4202   0.7326   0.9710
#  0.0003     8     0.0    0.5473   0.5320   1.5782
#  0.0003     8     0.5    0.2477   0.4150   1.8567
# best on validation: lr=0.03, units=128, dropout=0.0 -> test accuracy 0.9833
# ```
#
# ## Cómo leer la tabla
#
# - **Tasa de aprendizaje.** Con `0.0003` todas las redes quedan abajo: en 20 épocas no les da
#   tiempo a llegar. `0.003` y `0.03` están arriba; con más épocas el orden podría cambiar.
# - **Capacidad.** Con 8 unidades la red se queda corta, sobre todo si además se le quita la
#   mitad con dropout. Con 128 están las mejores filas.
# - **Dropout.** Aquí apenas cambia nada: la mejor fila no lleva dropout, y con `0.003` y 128
#   unidades las dos variantes se separan en un acierto. El problema es pequeño, 20 épocas no
#   llegan a sobreajustar mucho y la red no es enorme. Es una conclusión *de este experimento*,
#   no una regla.
# - **`train acc` < `val acc` con dropout.** En las filas con `dropout 0.5`, la accuracy de
#   entrenamiento es a menudo menor que la de validación (`0.4202` frente a `0.7326`). No es un
#   error: `fit` mide la de entrenamiento con el dropout activo y como media de la época,
#   antes de cada actualización; la de validación se mide sin dropout y con los pesos finales.
# - **Empates y ruido.** `val acc` se mide sobre 359 imágenes: un acierto más son 0.0028. Las
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
# ## Ejercicios
#
# 1. Repite cada combinación con las semillas 0, 1 y 2 y ordena por la media de
#    `val_accuracy`. ¿Cambian las primeras filas?
# 2. Añade `EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)` y sube
#    `epochs` a 100. ¿Siguen quedando abajo las filas con `0.0003`?
# 3. Añade a `GRID` un factor de L2 (`[0.0, 1e-4, 1e-3]`) y pásalo a la capa oculta como
#    `kernel_regularizer`.
# 4. Cambia la rejilla por una **búsqueda aleatoria**: 18 combinaciones con
#    `learning_rate = 10 ** rng.uniform(-4, -1)` y `units` al azar entre 8 y 256.
# 5. Elige la mejor combinación por accuracy **de test** en lugar de validación. ¿Por qué ese
#    número ya no es una estimación honesta?
