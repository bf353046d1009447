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
# - `minired/trainers/data_adapter.py`, `train_validation_split`: la regla del `split_at`.
# - `minired/trainers/trainer.py`, `fit`: el reparto, el barajado de cada época (solo del
#   entrenamiento) y la evaluación de validación (`_evaluate_arrays`).
# - `minired/callbacks/early_stopping.py`: `on_epoch_end` (los pasos 1–4) y `on_train_end` (la
#   restauración). `minired/callbacks/monitor_callback.py`: `mode` y `_is_improvement`.
# - `comparisons/training.py`: los casos `validation_split` y `early_stopping` comparan con
#   Keras la época en que para, `best_epoch` y los pesos restaurados.
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
# 2. Cambia a `monitor="val_accuracy"`. ¿Qué `mode` se elige solo? ¿Para en la misma época?
# 3. Pon `min_delta=0.01`. ¿Qué mejoras dejan de contar?
# 4. Con `validation_split=0.25` y 100 ejemplos, ¿cuántos entrenan y cuáles validan?
#    Compruébalo con `minired.trainers.data_adapter.train_validation_split`.
