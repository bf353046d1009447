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
# # 10. Conjunto de validación y parada temprana (*early stopping*)
#
# ## La idea
#
# Que la pérdida (*loss*) de entrenamiento baje no demuestra que la red haya aprendido algo útil:
# con capacidad de sobra y una tasa de aprendizaje (*learning rate*) razonable suele seguir
# bajando época (*epoch*) tras época porque la red puede memorizar los ejemplos (el sobreajuste,
# *overfitting*). No siempre baja (una tasa demasiado alta la hace oscilar o divergir, lección 5;
# una red demasiado pequeña se queda estancada, el subajuste o *underfitting*), pero ni siquiera
# cuando baja dice nada de los datos nuevos. Para saber si la red **generaliza** (*generalizes*)
# hay que medirla en datos que no ha visto. Se separan tres conjuntos:
#
# - **entrenamiento** (*training set*): el que usa el optimizador (*optimizer*);
# - **validación** (*validation set*): para decidir (cuándo parar, qué hiperparámetros,
#   *hyperparameters*, usar);
# - **test** o **prueba** (*test set*): se mira una sola vez, al final, para informar del
#   resultado.
#
# La **parada temprana** (*early stopping*, el callback `EarlyStopping`) usa la validación para
# parar cuando deja de mejorar y, si se pide, volver a los pesos de la mejor época.
#
# ![Pérdida de entrenamiento y de validación de una red que sobreajusta: sin regularizar, con dropout, con L2 y con parada temprana](../docs/img/regularizacion.png)
#
# Abajo a la derecha, `EarlyStopping(patience=20, restore_best_weights=True)` sobre la red sin regularizar: para 20 épocas después de la mejor y vuelve a los pesos de esa época.
#
# ## Cómo separa `fit` la validación
#
# - `validation_data=(x_val, y_val)`: tú das el conjunto de validación.
# - `validation_split=v`: `fit` aparta la **última** fracción de los datos, **antes** de
#   barajar: $\mathrm{split\_at} = \lfloor N\,(1 - v) \rfloor$; entrenan `[:split_at]` y
#   validan `[split_at:]`.
#   Si los datos vienen ordenados (por clase, por fecha...), la validación no se parece al
#   entrenamiento. Baraja tú antes.
#
# Al final de cada época, `fit` evalúa la validación con los pesos de **fin de época** y
# `training=False`, y añade `val_loss` y `val_<métrica>` a los registros.
#
# ## Las reglas de `EarlyStopping`
#
# Al final de cada época, en el orden de Keras 3:
#
# 1. Se saltan las épocas anteriores a `start_from_epoch` y las que no tienen el valor vigilado.
# 2. `wait += 1` **antes** de mirar si hubo mejora.
# 3. Si el valor mejora al mejor por más de `min_delta` (estrictamente): se guardan el valor, la
#    época y, con `restore_best_weights=True`, los pesos; `wait` vuelve a 0 (salvo que haya un
#    `baseline` aún sin superar). Una época que mejora nunca detiene el entrenamiento.
# 4. Si no mejora: se para cuando `wait >= patience` (y no es la primera época).
#
# Consecuencias: `patience=0` y `patience=1` (la paciencia, *patience*) se comportan igual; y con
# `restore_best_weights=True` los mejores pesos se restauran **al terminar el entrenamiento,
# aunque haya llegado a la última época sin parar**. El sentido (`mode="auto"`) se deduce del
# nombre: `loss` se minimiza; `accuracy` (la exactitud, *accuracy*), se maximiza.
#
# **Cómo se cuentan las épocas.** Como en Keras, los atributos cuentan desde 0: `history.epoch`
# es `[0, 1, 2, ...]`, `stopped_epoch` y `best_epoch` son índices de ese tipo, y
# `start_from_epoch=3` salta los índices 0, 1 y 2 (las tres primeras épocas). Pero lo que Keras *muestra* cuenta desde 1: la barra de progreso dice «Epoch 1/100» y,
# con `EarlyStopping(verbose=1)`, los mensajes suman 1 al índice («Epoch 15: early stopping»,
# «Restoring model weights from the end of the best epoch: 12»). En el texto hacemos lo mismo:
# «la época 12» es la de índice 11.
#
# ## Dónde verlo en el código
#
# Qué archivos y funciones de minired hacen lo de esta lección, para quien quiera leer el código fuente: [apéndice B, lección 10](../docs/apendice-b-leer-el-codigo.md#leccion-10-conjunto-de-validacion-y-parada-temprana-early-stopping).
#
# ## Pruébalo: `validation_split` con datos ordenados
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

digits = load_digits()
order = np.argsort(digits.target, kind="stable")       # datos ordenados por clase: 0, 0, ..., 9
x = (digits.data[order] / 16.0).astype("float32")
labels = digits.target[order]
y = mr.utils.to_categorical(labels, num_classes=10)

split_at = int(len(x) * (1 - 0.2))                     # validation_split=0.2: el último 20 %
print("clases en validación:", np.unique(labels[split_at:]))

for name, perm in [("ordenados", np.arange(len(x))),
                   ("barajados", np.random.default_rng(0).permutation(len(x)))]:
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(32, activation="relu"),
                           mr.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[perm], y[perm], epochs=10, validation_split=0.2, verbose=0)
    h = history.history
    print(f"{name}: accuracy {h['accuracy'][-1]:.3f}  val_accuracy {h['val_accuracy'][-1]:.3f}")

# %% [markdown]
# Con los datos ordenados, la red no ha visto nunca un 8 ni un 9: la validación lo detecta. Con
# `import keras as mr` sale lo mismo (0.014 en lugar de 0.011): Keras aparta las mismas muestras.
#
# ## Pruébalo: parada temprana
#
# <!-- keras -->

# %%
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
x_train, y_train = x_train[:300], y_train[:300]       # pocos datos: sobreajusta pronto

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])
model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
              loss="categorical_crossentropy", metrics=["accuracy"])
stop = mr.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
history = model.fit(x_train, y_train, epochs=100, batch_size=32,
                    validation_data=(x_val, y_val), callbacks=[stop], verbose=0)

print("val_loss por época:", np.round(history.history["val_loss"], 4))
print("épocas ejecutadas:", len(history.epoch), " stopped_epoch:", stop.stopped_epoch,
      " best_epoch:", stop.best_epoch)
print("val_loss con los pesos restaurados:", round(model.evaluate(x_val, y_val, verbose=0)[0], 4))

# %% [markdown]
# `stopped_epoch` y `best_epoch` son índices desde 0; contadas como las muestra Keras, desde
# 1: la mejor época es la **12** (`best_epoch: 11`, `val_loss` 0.2051); las épocas 13, 14 y 15
# no la mejoran, `wait` llega a 3 = `patience` y el entrenamiento para al final de la época 15
# (`stopped_epoch: 14`; con `verbose=1`, «Epoch 15: early stopping»). Por eso se ejecutaron 15
# épocas. Al terminar se restauran los pesos de la época 12: `evaluate` da otra vez 0.2051. Con
# `patience=100, epochs=15` el entrenamiento no para y `stopped_epoch` se queda en 0, su valor
# inicial (aquí 0 significa «no paró», no «paró en la primera época»), pero al escribir esta
# lección `evaluate` dio de nuevo 0.2051: los pesos de la época 12 se restauran igualmente al
# final. Con `import keras as mr` el programa funciona, aunque para en otra época (otros pesos
# iniciales).
#
# ## Ejercicios
#
# 1. Comprueba en el código por qué `patience=0` y `patience=1` paran en la misma época.
#
#     ??? note "Solución"
#         En `on_epoch_end` de `minired/callbacks/early_stopping.py`, `self.wait += 1` va **antes**
#         de mirar la mejora. La primera época sin mejora deja `wait = 1`, y tanto `1 >= 0` como
#         `1 >= 1` son ciertos: las dos paran ahí. Solo se distinguen a partir de `patience=2`.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#         x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
#         x_train, y_train = x_train[:300], y_train[:300]
#
#
#         def run(**kwargs):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             stop = mr.callbacks.EarlyStopping(restore_best_weights=True, **kwargs)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32,
#                                 validation_data=(x_val, y_val), callbacks=[stop], verbose=0)
#             return history, stop
#
#
#         for patience in (0, 1, 2):
#             history, stop = run(monitor="val_loss", patience=patience)
#             print(f"patience={patience}: stopped_epoch {stop.stopped_epoch}, best_epoch {stop.best_epoch}")
#         ```
#
#         ```text
#         patience=0: stopped_epoch 6, best_epoch 5
#         patience=1: stopped_epoch 6, best_epoch 5
#         patience=2: stopped_epoch 10, best_epoch 8
#         ```
#
# 2. Cambia a `monitor="val_accuracy"`. ¿Qué `mode` se elige solo? ¿Para en la misma época?
#
#     ??? note "Solución"
#         Con `mode="auto"` y un nombre que contiene `accuracy`, se elige `max`: `monitor_op` pasa
#         a ser `greater_as_keras` (un «mayor que» que compara en `float32`, como TensorFlow) y
#         `min_delta` se suma en lugar de restarse.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#         x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
#         x_train, y_train = x_train[:300], y_train[:300]
#
#
#         def run(**kwargs):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             stop = mr.callbacks.EarlyStopping(restore_best_weights=True, **kwargs)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32,
#                                 validation_data=(x_val, y_val), callbacks=[stop], verbose=0)
#             return history, stop
#
#
#         for monitor in ("val_loss", "val_accuracy"):
#             history, stop = run(monitor=monitor, patience=3)
#             print(f"{monitor:12s} monitor_op={stop.monitor_op.__name__}  "
#                   f"épocas {len(history.epoch)}  best_epoch {stop.best_epoch}")
#         print("val_accuracy:", np.round(history.history["val_accuracy"], 3))
#         ```
#
#         ```text
#         val_loss     monitor_op=less_as_keras  épocas 15  best_epoch 11
#         val_accuracy monitor_op=greater_as_keras  épocas 8  best_epoch 4
#         val_accuracy: [0.813 0.846 0.904 0.909 0.93  0.93  0.922 0.922]
#         ```
#
#         No para en la misma época: la exactitud se estanca antes que la pérdida (la época 6
#         iguala a la 5, y empatar no es mejorar) y es más gruesa (cambia a saltos de un
#         ejemplo), así que para en la época 8 en lugar de la 15. La pérdida sigue mejorando
#         aunque los aciertos no cambien, porque las probabilidades de la clase correcta siguen
#         subiendo.
#
# 3. Pon `min_delta=0.01`. ¿Qué mejoras dejan de contar?
#
#     ??? note "Solución"
#         Con `min_delta=0.01` una época solo cuenta como mejora si `val_loss` baja **más de 0.01**
#         respecto al mejor valor (`_is_improvement` compara `current - min_delta` con el mejor).
#         Dejan de contar las mejoras pequeñas del final, cuando la curva ya casi está plana.
#
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#         from sklearn.model_selection import train_test_split
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#         x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
#         x_train, y_train = x_train[:300], y_train[:300]
#
#
#         def run(**kwargs):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             stop = mr.callbacks.EarlyStopping(restore_best_weights=True, **kwargs)
#             history = model.fit(x_train, y_train, epochs=100, batch_size=32,
#                                 validation_data=(x_val, y_val), callbacks=[stop], verbose=0)
#             return history, stop
#
#
#         for min_delta in (0.0, 0.01):
#             history, stop = run(monitor="val_loss", patience=3, min_delta=min_delta)
#             print(f"min_delta={min_delta}: épocas {len(history.epoch)}, best_epoch {stop.best_epoch}, "
#                   f"mejor val_loss {stop.best:.4f}")
#         ```
#
#         ```text
#         min_delta=0.0: épocas 15, best_epoch 11, mejor val_loss 0.2051
#         min_delta=0.01: épocas 12, best_epoch 8, mejor val_loss 0.2127
#         ```
#
#         Ya no cuentan la bajada de 0.2127 a 0.2051 (época 12; solo 0.0076) ni ninguna
#         otra menor de 0.01: el mejor valor se queda en el de la época 9 y el entrenamiento
#         para tres épocas después.
#
# 4. Con `validation_split=0.25` y 100 ejemplos, ¿cuántos entrenan y cuáles validan?
#    Compruébalo con `minired.trainers.data_adapter.train_validation_split`.
#
#     ??? note "Solución"
#         $\mathrm{split\_at} = \lfloor 100 \cdot (1 - 0.25) \rfloor = 75$: entrenan los 75 primeros
#         (índices 0–74) y validan los 25 últimos (75–99), sin barajar.
#
#         ```python
#         import numpy as np
#
#         from minired.trainers.data_adapter import train_validation_split
#
#         x, y = np.arange(100), np.arange(100) % 10
#         (x_train, y_train), (x_val, y_val) = train_validation_split((x, y), 0.25)
#         print("entrenan:", len(x_train), "de", x_train[0], "a", x_train[-1])
#         print("validan: ", len(x_val), "de", x_val[0], "a", x_val[-1])
#         ```
#
#         ```text
#         entrenan: 75 de 0 a 74
#         validan:  25 de 75 a 99
#         ```
