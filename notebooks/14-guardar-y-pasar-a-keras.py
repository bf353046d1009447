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
# # 14. Guardar el modelo y pasar a Keras
#
# ## La idea
#
# Todo lo que aprende una red está en sus pesos, y los pesos viven en la memoria del proceso
# de Python: si el programa termina, se pierden. Guardar un modelo en un archivo sirve para
# tres cosas:
#
# - **no perder el trabajo**: entrenar una vez y usar el modelo mañana, en otro programa o en
#   otra máquina, sin volver a entrenar;
# - **puntos de control** (*checkpoints*): guardar durante el entrenamiento, por ejemplo el
#   modelo de la mejor época según la pérdida de validación (lección 10), o el estado completo
#   cada época para seguir donde se quedó si el proceso se corta;
# - **pasar a Keras**: minired es para aprender, calcula con NumPy en la CPU. Para entrenar en
#   una GPU, o para servir el modelo (*serving*) en una aplicación, se necesita Keras. minired
#   guarda en el formato de Keras, así que el archivo se abre en Keras y el entrenamiento
#   sigue allí con los mismos números.
#
# Convertir un objeto de Python en algo que cabe en un archivo (bytes) se llama
# **serialización** (*serialization*); reconstruirlo a partir del archivo, deserialización. Un
# modelo se serializa en dos partes: la **arquitectura**, qué capas hay, cómo se conectan y con
# qué argumentos se compiló (un texto JSON), y los **números**: los pesos y el estado del
# optimizador (arrays, en un archivo HDF5).
#
# ## La API, como en Keras
#
# | qué | cómo | qué guarda |
# |---|---|---|
# | el modelo entero | `model.save("modelo.keras")`, `mr.models.load_model(ruta)` | arquitectura, `compile`, pesos y estado del optimizador |
# | solo los pesos | `model.save_weights("x.weights.h5")`, `model.load_weights(ruta)` | los pesos (y el optimizador), en un modelo que ya existe |
# | solo la arquitectura | `model.get_config()`, `model.to_json()`, `mr.models.model_from_json(texto)` | un diccionario o un texto JSON; los pesos salen nuevos |
# | durante `fit` | `mr.callbacks.ModelCheckpoint(filepath, monitor, save_best_only, save_weights_only)` | un archivo por época, o solo cuando `monitor` mejora |
# | durante `fit`, para seguir | `mr.callbacks.BackupAndRestore(backup_dir)` | el estado del entrenamiento, que el siguiente `fit` recupera |
#
# `mr.models.clone_model(model)` es la otra forma de copiar una arquitectura: la misma
# estructura, con pesos nuevos; si el modelo estaba compilado, la copia también, con los mismos
# argumentos y un optimizador nuevo. Con `import keras as mr` todo funciona igual.
#
# Muchos scripts antiguos guardan en `"modelo.h5"`: el formato HDF5 *heredado* (*legacy*) de
# Keras 2, un solo archivo HDF5 con la configuración como atributo JSON. Keras 3 aún lo lee y
# lo escribe (avisando de que es antiguo), y minired también, en los dos sentidos:
# `model.save("modelo.h5")`, `load_model("modelo.h5")` y `ModelCheckpoint("mejor.h5")`. Al
# cargarlo, como Keras 3, se recuperan el número de pasos y la tasa de aprendizaje del
# optimizador, pero no sus momentos: para seguir entrenando igual, usa `.keras`.
#
# ## Qué hay dentro de un archivo `.keras`
#
# Un archivo `.keras` es un **zip** con tres archivos: `metadata.json` (la versión de Keras y
# la fecha), `config.json` (la arquitectura y los argumentos de `compile`) y
# `model.weights.h5` (los arrays). Se puede abrir con el módulo `zipfile` de Python, sin
# minired ni Keras:

# %%
import json
import os
import tempfile
import zipfile

from sklearn.datasets import load_iris

import minired as mr

x, y = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                       mr.layers.Dense(3, activation="softmax")], name="iris")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=5, verbose=0)

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "iris.keras")
    model.save(ruta)
    with zipfile.ZipFile(ruta) as archivo:
        print(archivo.namelist())
        metadata = json.loads(archivo.read("metadata.json"))
        config = json.loads(archivo.read("config.json"))

print("metadata:", sorted(metadata))
print(config["class_name"], config["config"]["name"])
for capa in config["config"]["layers"]:
    print(" ", capa["module"], capa["class_name"], capa["config"]["name"])
print("segunda Dense:", {clave: config["config"]["layers"][2]["config"][clave]
                         for clave in ("units", "activation", "use_bias")})
compilado = config["compile_config"]
print("compile:", compilado["optimizer"]["class_name"], compilado["loss"], compilado["metrics"])

# %% [markdown]
# Cada objeto del JSON lleva `module` y `class_name`: `keras.layers` y `Dense`, no `minired`.
# Es el archivo que escribe Keras, y por eso Keras lo entiende. Los argumentos de cada capa son
# los de su constructor: con ellos se puede volver a crear la capa, igual que al escribir
# `Dense(3, activation="softmax")`.
#
# Dentro de `model.weights.h5` hay un grupo por capa, con sus arrays numerados (`vars/0` es el
# kernel $W$ y `vars/1` el sesgo $b$), y el grupo `optimizer`. Con `h5py`, la biblioteca que
# lee HDF5:

# %%
import io
import os
import tempfile
import zipfile

import h5py
from sklearn.datasets import load_iris

import minired as mr

x, y = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                       mr.layers.Dense(3, activation="softmax")], name="iris")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=5, verbose=0)

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "iris.keras")
    model.save(ruta)
    with zipfile.ZipFile(ruta) as archivo:
        pesos = io.BytesIO(archivo.read("model.weights.h5"))


def mostrar(nombre, objeto):
    if isinstance(objeto, h5py.Dataset):
        print(f"{nombre:22} {objeto.shape}")


with h5py.File(pesos, "r") as h5:
    h5.visititems(mostrar)
    print("pasos del optimizador:", int(h5["optimizer/vars/0"][()]))

# %% [markdown]
# El optimizador guarda su número de pasos (`vars/0`: 150 ejemplos en lotes de 32 son 5 lotes
# por época, y 5 épocas son 25 pasos), la tasa de aprendizaje (`vars/1`) y, por cada peso, los
# dos momentos de Adam, $m$ y $v$ (lección 7), de la misma forma que el peso. Sin ellos, Adam
# volvería a empezar con $m = v = 0$ y la corrección de sesgo de los primeros pasos: el
# entrenamiento no seguiría igual.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código
# fuente (el [apéndice B](../docs/apendice-b-leer-el-codigo.md#leccion-14-guardar-el-modelo-y-pasar-a-keras)
# los recorre):
#
# - `minired/saving/saving_lib.py`: `save_model` y `load_model`, el zip, el HDF5 y la
#   escritura atómica; el docstring del módulo dibuja el contenido del archivo.
# - `minired/saving/legacy_h5.py`: el formato `.h5` heredado, en los dos sentidos.
# - `minired/saving/serialization_lib.py`: `serialize_keras_object` y
#   `deserialize_keras_object`, el JSON de cada objeto y la lista cerrada de clases que se
#   pueden crear al cargar.
# - `minired/callbacks/model_checkpoint.py` (`ModelCheckpoint`) y
#   `minired/callbacks/backup_and_restore.py` (`BackupAndRestore`).
# - `minired/optimizers/optimizer.py`: `save_own_variables` y `load_own_variables`, el
#   estado del optimizador en el orden de Keras.
#
# ## Pruébalo: guardar y cargar
#
# El modelo cargado es otro objeto, construido desde el JSON y rellenado con los pesos del HDF5.
# Debe predecir exactamente lo mismo, y además llega compilado, con el optimizador en el mismo
# paso:
#
# <!-- keras -->

# %%
import os
import tempfile

import numpy as np
from sklearn.datasets import load_iris

import minired as mr

x, y = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                       mr.layers.Dense(3, activation="softmax")], name="iris")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=20, verbose=0)

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "iris.keras")
    model.save(ruta)
    cargado = mr.models.load_model(ruta)

print("el mismo objeto:", cargado is model)
print("máx. diferencia:", np.abs(cargado.predict(x, verbose=0) - model.predict(x, verbose=0)).max())
print("pasos del optimizador:", int(model.optimizer.iterations), int(cargado.optimizer.iterations))
print({nombre: round(valor, 4) for nombre, valor in cargado.evaluate(x, y, verbose=0,
                                                                     return_dict=True).items()})

# %% [markdown]
# Los pesos se guardan tal cual, en `float32`, así que la diferencia es exactamente 0.
#
# ## Pruébalo: un punto de control por época
#
# `ModelCheckpoint` guarda el modelo al final de cada época. Con `save_best_only=True`, solo
# cuando `monitor` mejora: al final queda guardada la mejor época, aunque el entrenamiento siga
# y el modelo empiece a sobreajustar. La ruta puede llevar `{epoch}` y cualquier métrica de los
# `logs`, con el formato de `str.format` de Python, así que cada archivo dice de qué época es.
#
# Una red grande para 60 ejemplos de entrenamiento, para que la pérdida de validación baje y
# luego suba:

# %%
import os
import tempfile

import numpy as np
from sklearn.datasets import make_moons

import minired as mr

x, y = make_moons(n_samples=80, noise=0.35, random_state=0)
mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(64, activation="relu"),
                       mr.layers.Dense(64, activation="relu"),
                       mr.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=mr.optimizers.Adam(0.01), loss="binary_crossentropy")

with tempfile.TemporaryDirectory() as carpeta:
    checkpoint = mr.callbacks.ModelCheckpoint(
        filepath=os.path.join(carpeta, "ckpt-{epoch:02d}-{val_loss:.2f}.keras"),
        monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, epochs=20, validation_split=0.25, callbacks=[checkpoint],
                        verbose=0)
    print("val_loss:", np.round(history.history["val_loss"], 3))
    archivos = sorted(os.listdir(carpeta))
    print(archivos)
    mejor = mr.models.load_model(os.path.join(carpeta, archivos[-1]))

x_val, y_val = x[60:], y[60:]              # validation_split toma el último 25 %
print("al final:", round(model.evaluate(x_val, y_val, verbose=0), 3),
      " el mejor:", round(mejor.evaluate(x_val, y_val, verbose=0), 3))

# %% [markdown]
# Las épocas 5 a 7 y de la 11 en adelante no mejoran la mejor `val_loss` y no escriben nada.
# El último archivo es el de la época 10, la mejor, y el modelo cargado de él tiene su
# `val_loss`, 0.354, mientras el modelo en memoria ha seguido hasta 0.43. Es lo mismo que
# `EarlyStopping(restore_best_weights=True)` de la lección 10, pero en disco: sobrevive a que
# el programa termine. Con una ruta fija, `"mejor.keras"`, cada mejora sobrescribe el archivo y
# queda uno solo.
#
# Cada guardado es **atómico**: minired escribe el archivo entero con otro nombre, en la misma
# carpeta, y luego lo renombra sobre el destino (`os.replace`). Si el proceso muere a mitad,
# en el disco queda el archivo anterior completo, nunca medio archivo.
#
# ## Pruébalo: parar y seguir
#
# Si el archivo guarda el estado completo, entrenar 3 épocas, guardar, cargar en otro objeto y
# entrenar 3 más debe dar **las mismas pérdidas** que 6 épocas seguidas. `initial_epoch=3`
# dice a `fit` que las épocas ya hechas son 3, así que `epochs=6` entrena las épocas 4 a 6.
# `shuffle=False`, porque el orden en que `fit` baraja los ejemplos sale del generador de
# números aleatorios, y ese estado no va en el archivo:
#
# <!-- keras -->

# %%
import os
import tempfile

import numpy as np
from sklearn.datasets import load_iris

import minired as mr

x, y = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)


def nuevo_modelo():
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                           mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


seguido = nuevo_modelo().fit(x, y, epochs=6, shuffle=False, verbose=0).history["loss"]

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "a-medias.keras")
    model = nuevo_modelo()
    antes = model.fit(x, y, epochs=3, shuffle=False, verbose=0).history["loss"]
    model.save(ruta)
    del model                                    # como si el programa hubiera terminado
    model = mr.models.load_model(ruta)
    despues = model.fit(x, y, epochs=6, initial_epoch=3, shuffle=False, verbose=0)

print("6 seguidas:  ", np.round(seguido, 4))
print("3, parar, 3: ", np.round(antes + despues.history["loss"], 4))
print("épocas después de cargar:", despues.epoch)
print("máx. diferencia:", np.abs(np.array(seguido) - (antes + despues.history["loss"])).max())

# %% [markdown]
# La diferencia es exactamente 0: los pesos, los momentos de Adam y su número de pasos vuelven
# tal cual. Si el archivo solo llevara los pesos, Adam empezaría de nuevo y las pérdidas de las
# épocas 4 a 6 serían otras (el ejercicio 1 lo comprueba). `BackupAndRestore` hace esto solo:
# guarda el estado en una carpeta al final de cada época y, si `fit` se corta, el siguiente
# `fit` con la misma carpeta sigue desde la última época guardada (el ejercicio 2 lo simula).
#
# ## Pruébalo: pasar a Keras
#
# El mismo archivo, abierto con `keras.saving.load_model`. Keras importa TensorFlow, que al
# arrancar escribe avisos; las dos primeras líneas eligen el motor de Keras (*backend*) y
# callan los avisos de TensorFlow, y deben ir antes de `import keras`:

# %%
import os
import tempfile

os.environ["KERAS_BACKEND"] = "tensorflow"      # Keras 3 calcula con TensorFlow
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"        # sin los avisos de TensorFlow al arrancar

import keras
import numpy as np
from sklearn.datasets import load_iris

import minired as mr

x, y = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
                       mr.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=3, shuffle=False, verbose=0)            # en minired

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "iris.keras")
    model.save(ruta)
    en_keras = keras.saving.load_model(ruta)                    # en Keras

print(type(en_keras).__module__, type(en_keras).__name__)
print("optimizador:", type(en_keras.optimizer).__name__, int(en_keras.optimizer.iterations),
      "pasos")
diferencia = np.abs(en_keras.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
print("máx. diferencia < 1e-6:", bool(diferencia < 1e-6))

# Las dos siguen entrenando 3 épocas más, cada una por su lado
en_minired = model.fit(x, y, epochs=3, shuffle=False, verbose=0).history["loss"]
en_tf = en_keras.fit(x, y, epochs=3, shuffle=False, verbose=0).history["loss"]
print("minired:", np.round(en_minired, 4))
print("Keras:  ", np.round(en_tf, 4))

# %% [markdown]
# `en_keras` es un modelo de Keras de verdad, compilado, con su Adam en el paso 15. Predice lo
# mismo que el de minired: la diferencia es del orden de $10^{-7}$, el redondeo de `float32`,
# porque NumPy y TensorFlow suman los productos en otro orden. Al seguir entrenando en Keras, las
# pérdidas son las de minired, y las mismas que las épocas 4 a 6 de la sección anterior: el
# entrenamiento ha cambiado de biblioteca sin notarlo. Desde aquí, el modelo puede seguir en
# una GPU, exportarse para servirlo (`en_keras.export(...)`) o usarse con todo lo de Keras.
#
# El camino de vuelta también existe: `mr.models.load_model` abre un archivo que escribió Keras,
# si usa capas, pérdidas y optimizadores que minired tiene (el ejercicio 3). Si no, el error
# dice qué falta y no se carga nada a medias.
#
# ## Por qué cargar un archivo nunca ejecuta código
#
# La forma más fácil de guardar un objeto en Python es `pickle`, y es peligrosa: un archivo
# *pickle* dice qué funciones llamar para reconstruir el objeto, y `pickle.load` las llama. Un
# archivo preparado puede llamar a `os.system` con cualquier orden. Abrir un modelo descargado
# de internet sería como ejecutar un programa descargado de internet.
#
# Un `.keras` es otra cosa: JSON, que solo puede contener textos, números, listas y
# diccionarios, y HDF5, que solo contiene arrays. Al cargar, minired lee `class_name` y busca la
# clase en una **lista cerrada**: las capas, pérdidas, optimizadores y métricas que conoce, más
# las que tú registres con `@mr.saving.register_keras_serializable()` o le pases al cargar en
# `custom_objects={"MiCapa": MiCapa}`. Guardar una clase tuya sin registrar funciona, como en
# Keras: el archivo solo lleva su nombre, y para cargarlo hay que dar la clase de una de esas
# dos maneras. No importa ningún módulo que el archivo nombre ni ejecuta código que venga en él. Un archivo que pide `os.system`, o
# una capa `Lambda` (que en Keras guarda el código de una función de Python), es un error:

# %%
import json
import os
import tempfile
import zipfile

import minired as mr

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3), mr.layers.Dense(1)])

with tempfile.TemporaryDirectory() as carpeta:
    ruta = os.path.join(carpeta, "bueno.keras")
    model.save(ruta)
    with zipfile.ZipFile(ruta) as archivo:
        partes = {nombre: archivo.read(nombre) for nombre in archivo.namelist()}

    def trampa(capa):
        """Un archivo como el bueno, con la segunda capa cambiada por ``capa``."""
        config = json.loads(partes["config.json"])
        config["config"]["layers"][1] = capa
        ruta_trampa = os.path.join(carpeta, "trampa.keras")
        with zipfile.ZipFile(ruta_trampa, "w") as archivo:
            for nombre, contenido in partes.items():
                archivo.writestr(nombre, json.dumps(config) if nombre == "config.json"
                                 else contenido)
        return ruta_trampa

    for capa in [{"module": "os", "class_name": "system", "config": {"command": "rm -rf ~"}},
                 {"module": "keras.layers", "class_name": "Lambda",
                  "config": {"function": "código de Python"}}]:
        try:
            mr.models.load_model(trampa(capa))
        except ValueError as error:
            print(str(error).split(":")[0].split(". ")[0] + ".")

# %% [markdown]
# Ninguna de las dos se ejecuta: `system` no está en la lista y `Lambda` se rechaza siempre.
# Keras hace lo mismo con su `safe_mode=True`, activo por omisión. Además, antes de leer nada,
# minired comprueba el número y el tamaño de los archivos del zip, y la forma de cada array
# contra el modelo antes de escribir el primer peso.
#
# ## Ejercicios
#
# 1. Repite «parar y seguir» guardando solo los pesos: un `nuevo_modelo()` en el que cargas,
#    con `set_weights`, los pesos del modelo que entrenó 3 épocas. ¿Salen las mismas pérdidas
#    en las épocas 4 a 6? ¿Por qué? Luego haz lo mismo con `save_weights` y `load_weights`.
#
#     ??? note "Solución"
#         Con `get_weights`/`set_weights` solo pasan los pesos: el Adam del modelo nuevo empieza con
#         $m = v = 0$ y en el paso 0, y las pérdidas de las épocas 4 a 6 cambian. Un archivo
#         `.weights.h5` lleva también el grupo `optimizer` (como `model.weights.h5` dentro de un
#         `.keras`), y con `load_weights` el entrenamiento sigue igual. `load_weights` necesita un
#         modelo ya construido y compilado con la misma arquitectura: el archivo no dice cuál es.
#
#         ```python
#         import os
#         import tempfile
#
#         import numpy as np
#         from sklearn.datasets import load_iris
#
#         import minired as mr
#
#         x, y = load_iris(return_X_y=True)
#         x = (x - x.mean(axis=0)) / x.std(axis=0)
#
#
#         def nuevo_modelo():
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
#                                    mr.layers.Dense(3, activation="softmax")])
#             model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
#             return model
#
#
#         seguido = nuevo_modelo().fit(x, y, epochs=6, shuffle=False, verbose=0).history["loss"]
#         model = nuevo_modelo()
#         model.fit(x, y, epochs=3, shuffle=False, verbose=0)
#
#         solo_pesos = nuevo_modelo()
#         solo_pesos.set_weights(model.get_weights())
#         h = solo_pesos.fit(x, y, epochs=6, initial_epoch=3, shuffle=False, verbose=0)
#         print("seguido:     ", np.round(seguido[3:], 4))
#         print("set_weights: ", np.round(h.history["loss"], 4))
#
#         with tempfile.TemporaryDirectory() as carpeta:
#             ruta = os.path.join(carpeta, "iris.weights.h5")
#             model.save_weights(ruta)
#             con_optimizador = nuevo_modelo()
#             con_optimizador.load_weights(ruta)
#         h = con_optimizador.fit(x, y, epochs=6, initial_epoch=3, shuffle=False, verbose=0)
#         print("load_weights:", np.round(h.history["loss"], 4))
#         ```
#
#         ```text
#         seguido:      [1.2666 1.2454 1.2247]
#         set_weights:  [1.2771 1.2535 1.2324]
#         load_weights: [1.2666 1.2454 1.2247]
#         ```
# 2. Simula un corte de luz con un callback que lanza un error al final de la cuarta época
#    (`epoch == 3`, contando desde 0), y entrena con `BackupAndRestore`. ¿Qué hay en la carpeta
#    después del error? Vuelve a llamar a `fit` con un modelo nuevo y la misma carpeta: ¿qué
#    épocas entrena y con qué pérdidas?
#
#     ??? note "Solución"
#         Tras el error, la carpeta tiene el estado de la última época terminada,
#         `latest.weights.h5`, y cuál era, `training_metadata.json`. El segundo `fit` lo carga al
#         empezar y entrena solo las épocas 5 y 6 (índices 4 y 5), con las mismas pérdidas que sin
#         corte. Al terminar bien, `BackupAndRestore` borra la copia (`delete_checkpoint=True`), así
#         que la carpeta de la copia está dentro de la temporal.
#
#         ```python
#         import os
#         import tempfile
#
#         import numpy as np
#         from sklearn.datasets import load_iris
#
#         import minired as mr
#
#         x, y = load_iris(return_X_y=True)
#         x = (x - x.mean(axis=0)) / x.std(axis=0)
#
#
#         def nuevo_modelo():
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
#                                    mr.layers.Dense(3, activation="softmax")])
#             model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
#             return model
#
#
#         class CorteDeLuz(mr.callbacks.Callback):
#             def on_epoch_end(self, epoch, logs=None):
#                 if epoch == 3:
#                     raise RuntimeError("se fue la luz")
#
#
#         seguido = nuevo_modelo().fit(x, y, epochs=6, shuffle=False, verbose=0).history["loss"]
#         with tempfile.TemporaryDirectory() as temporal:
#             carpeta = os.path.join(temporal, "copia")
#             try:
#                 nuevo_modelo().fit(x, y, epochs=6, shuffle=False, verbose=0,
#                                    callbacks=[mr.callbacks.BackupAndRestore(carpeta), CorteDeLuz()])
#             except RuntimeError as error:
#                 print("error:", error, "| en la carpeta:", sorted(os.listdir(carpeta)))
#             h = nuevo_modelo().fit(x, y, epochs=6, shuffle=False, verbose=0,
#                                    callbacks=[mr.callbacks.BackupAndRestore(carpeta)])
#             print("al terminar, la copia existe:", os.path.exists(carpeta))
#         print("épocas:", h.epoch, np.round(h.history["loss"], 4))
#         print("seguido:", np.round(seguido[4:], 4))
#         ```
#
#         ```text
#         error: se fue la luz | en la carpeta: ['latest.weights.h5', 'training_metadata.json']
#         al terminar, la copia existe: False
#         épocas: [4, 5] [1.2454 1.2247]
#         seguido: [1.2454 1.2247]
#         ```
# 3. El camino de vuelta: construye y entrena el mismo modelo en Keras, guárdalo y ábrelo con
#    `mr.models.load_model`. ¿Predicen lo mismo? ¿Cuántos pasos lleva el optimizador?
#
#     ??? note "Solución"
#         minired lee el archivo de Keras como lee los suyos: busca `Sequential`, `Dense` y `Adam`
#         en su lista, crea las capas y rellena los pesos y el estado de Adam. 3 épocas de 5 lotes
#         son 15 pasos. Las predicciones coinciden hasta el redondeo de `float32`.
#
#         ```python
#         import os
#         import tempfile
#
#         os.environ["KERAS_BACKEND"] = "tensorflow"
#         os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
#
#         import keras
#         import numpy as np
#         from sklearn.datasets import load_iris
#
#         import minired as mr
#
#         x, y = load_iris(return_X_y=True)
#         x = (x - x.mean(axis=0)) / x.std(axis=0)
#
#         keras.utils.set_random_seed(0)
#         en_keras = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
#                                      keras.layers.Dense(3, activation="softmax")])
#         en_keras.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
#         en_keras.fit(x, y, epochs=3, verbose=0)
#
#         with tempfile.TemporaryDirectory() as carpeta:
#             ruta = os.path.join(carpeta, "desde-keras.keras")
#             en_keras.save(ruta)
#             model = mr.models.load_model(ruta)
#
#         print(type(model).__module__.split(".")[0], type(model).__name__,
#               [type(capa).__name__ for capa in model.layers])
#         print("pasos del optimizador:", int(model.optimizer.iterations))
#         diferencia = np.abs(model.predict(x, verbose=0) - en_keras.predict(x, verbose=0)).max()
#         print("máx. diferencia < 1e-6:", bool(diferencia < 1e-6))
#         ```
#
#         ```text
#         minired Sequential ['Dense', 'Dense']
#         pasos del optimizador: 15
#         máx. diferencia < 1e-6: True
#         ```
