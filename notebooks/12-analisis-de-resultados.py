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
# # 12. Análisis de resultados: gráficas y TensorBoard
#
# ## La idea
#
# Un número final («97 % de exactitud», de *accuracy*) dice poco. Las **curvas de
# aprendizaje** (*learning curves*), la pérdida (*loss*) y las métricas época a época en
# entrenamiento y en validación, cuentan cómo se llegó ahí:
#
# | lo que ves | lo que suele significar | qué probar |
# |---|---|---|
# | las dos pérdidas altas y planas | la red no aprende: subajuste (*underfitting*), o una tasa de aprendizaje (*learning rate*) demasiado baja | más capacidad, más épocas, otra tasa |
# | entrenamiento baja, validación sube o se estanca lejos | sobreajuste (*overfitting*) | dropout, L2, más datos, parada temprana (*early stopping*) |
# | pérdida que oscila o salta hacia arriba | tasa de aprendizaje demasiado alta | bajarla |
# | `nan` o `inf` | divergencia | bajar la tasa; el `fit` de minired se detiene con un `ValueError` que da la época y el lote, el de Keras **sigue** y apunta `nan` en `History` (para pararlo, `keras.callbacks.TerminateOnNaN()`) |
#
# Y para un clasificador, la **matriz de confusión** (*confusion matrix*) dice *qué* clases
# confunde.
#
# ## `History`: lo que devuelve `fit`
#
# `fit` devuelve un objeto `History` (también queda en `model.history`). Su atributo
# `history` es un diccionario con una lista por clave y un valor por época (*epoch*): `loss`, cada
# métrica (`accuracy`) y, si hay validación, `val_loss` y `val_accuracy`. `history.epoch` es la
# lista de índices de época, desde 0 como en Keras (`[0, 1, ..., 29]` para 30 épocas); al
# hablar de ellas contamos desde 1, como la barra de progreso de Keras («Epoch 1/30»): el
# índice $i$ es la época $i + 1$ (lección 10). Dos detalles para interpretar las curvas:
#
# -  `loss` y `accuracy` son la **media de la época**, ponderada por el tamaño de cada lote
#   (*batch*), de valores calculados **antes** de cada actualización y con `training=True`
#   (dropout activo).
# - `val_loss` y `val_accuracy` se calculan al final de la época, con los pesos de ese momento
#   y `training=False`.
#
# Por eso, en la primera época, la pérdida de entrenamiento suele quedar por encima de la de
# validación: promedia la red de los primeros lotes, aún sin entrenar. Si pasas el mismo
# `History` a dos llamadas a `fit`, sigue añadiendo a las mismas listas (como en Keras).
#
# Código: `minired/callbacks/history.py` (`on_epoch_end` añade los registros) y
# `minired/trainers/trainer.py` (`fit` arma los registros de cada época con `_logs` y les
# añade los `val_*`).
#
# ## Pruébalo: curvas y matriz de confusión
#
# <!-- keras -->

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")                       # sin ventana: escribe el PNG a disco
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])
model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
              loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train[:300], y_train[:300], epochs=30, batch_size=32,
                    validation_data=(x_val, y_val), verbose=0)

h = history.history                         # {"loss": [...], "val_loss": [...], ...}
print(sorted(h), len(history.epoch))
best = int(np.argmin(h["val_loss"]))
print(f"mejor val_loss {h['val_loss'][best]:.4f} en la época {best + 1}; "
      f"última {h['val_loss'][-1]:.4f}")

epochs = np.arange(1, len(history.epoch) + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(epochs, h["loss"], label="entrenamiento")
left.plot(epochs, h["val_loss"], label="validación")
left.axvline(best + 1, color="gray", linestyle=":")
left.set(xlabel="época", ylabel="pérdida", title="Pérdida")
right.plot(epochs, h["accuracy"], label="entrenamiento")
right.plot(epochs, h["val_accuracy"], label="validación")
right.set(xlabel="época", ylabel="accuracy", title="Accuracy")
for ax in (left, right):
    ax.legend()
fig.tight_layout()
Path("reports").mkdir(exist_ok=True)       # reports/ no entra en git
fig.savefig("reports/curvas.png", dpi=90)

# ¿En qué se equivoca? La matriz de confusión de la validación (filas: clase real)
predicted = model.predict(x_val, verbose=0).argmax(axis=1)
cm = confusion_matrix(y_val.argmax(axis=1), predicted)
print(cm)
np.fill_diagonal(cm, 0)
real, pred = np.unravel_index(cm.argmax(), cm.shape)
print(f"confusión más frecuente: {cm[real, pred]} veces un {real} tomado por un {pred}")

# %% [markdown]
# ![Curvas de pérdida y de exactitud (accuracy)](../docs/img/curvas.png)
#
# Con solo 300 ejemplos de entrenamiento, la pérdida de entrenamiento llega casi a 0 y la
# exactitud de entrenamiento a 1, mientras la validación se estanca: el hueco entre las dos
# curvas es el sobreajuste. (El programa y la figura cuentan las épocas desde 1, con
# `best + 1` y `np.arange(1, ...)`.) El salto de `val_loss` hacia la época 14 (con su bajón de
# `val_accuracy`), que tarda un par de épocas en deshacerse, recuerda que con
# $\mathrm{lr} = 0.01$ el camino no es suave. Con `import keras as mr` el
# programa funciona y dibuja curvas parecidas (otros pesos iniciales).
#
# ## Las mismas figuras en una línea: `mr.plot`
#
# Dibujar a mano enseña qué hay en `History`; para el día a día, `mr.plot` tiene las figuras
# que piden estas lecciones. Cada función devuelve una `Figure` de matplotlib (y acepta `ax=`
# para dibujar en unos ejes tuyos). matplotlib es opcional: `pip install "minired[plot]"` (las
# dos órdenes del README ya lo instalan).

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")                       # sin ventana: escribe el PNG a disco
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])
model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
              loss="categorical_crossentropy", metrics=["accuracy"])
stop = mr.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
history = model.fit(x_train[:300], y_train[:300], epochs=100, validation_data=(x_val, y_val),
                    callbacks=[stop], verbose=0)

Path("reports").mkdir(exist_ok=True)
fig = mr.plot.history(history, early_stopping=stop)       # marca la parada y la mejor época
fig.savefig("reports/history.png", dpi=90)
print([ax.get_title() for ax in fig.axes])
print("parada en la época", stop.stopped_epoch + 1, "· pesos de la época", stop.best_epoch + 1)
mr.plot.confusion_matrix(model, x_val, y_val).savefig("reports/confusion.png", dpi=90)
mr.plot.model(model).savefig("reports/modelo.png", dpi=90)  # capas, formas y parámetros

# %% [markdown]
# `examples/figures.py` dibuja así las figuras del README (`.venv/bin/python
# examples/figures.py` las regenera en `docs/img/`). Esta es la de las curvas, con una paciencia
# mayor: la línea verde es la mejor época, cuyos pesos restaura `EarlyStopping`, y la roja, la
# época en la que paró.
#
# ![Curvas con la parada y la mejor época marcadas](../docs/img/history.png)
#
# Código: `minired/plot/training.py` (`history`), `minired/plot/data.py` (`confusion_matrix`,
# `decision_boundary`), `minired/plot/diagram.py` (`model`).
#
# ## TensorBoard
#
# TensorBoard es la herramienta de visualización que acompaña a TensorFlow: un servidor web
# que lee los ficheros de eventos que se escriben durante el entrenamiento y los dibuja. En
# Keras se activa con el callback `keras.callbacks.TensorBoard`; minired tiene el mismo
# callback, con los mismos argumentos, y escribe los mismos ficheros **sin TensorFlow** (con el
# paquete `tensorboard`: `pip install "minired[tensorboard]"`, ya instalado por las órdenes del
# README). Un ejemplo completo:
#
# ```bash
# .venv/bin/python examples/digits.py --logdir logs/digits       # entrena y escribe eventos
# .venv/bin/tensorboard --logdir logs                             # abre http://localhost:6006
# ```
#
# Qué muestra cada pestaña:
#
# - **Scalars**: `epoch_loss` y `epoch_accuracy` por época, con una curva por *run*:
#   `train` y `validation` (los `val_*` de `History`, sin el prefijo). Es la figura de arriba,
#   interactiva y con suavizado. `epoch_learning_rate` sigue la tasa de aprendizaje (se ve
#   bajar con `ReduceLROnPlateau` o con un programa de tasas, *learning-rate schedule*). Con
#   `update_freq=10` añade `batch_loss` cada 10 lotes. El eje horizontal (*step*) de los
#   escalares de época es el índice de época, desde 0, como en Keras.
# - **Histograms** y **Distributions** (con `histogram_freq=1`): la distribución de cada peso
#   (`sequential/dense/kernel/histogram`) y, además de lo que escribe Keras, la de su gradiente
#   (`.../kernel/gradient/histogram`) época a época. Unos pesos que no se mueven, unos
#   gradientes que se encogen capa a capa (desvanecimiento del gradiente, *vanishing
#   gradients*) o que crecen sin freno (explosión del gradiente, *exploding gradients*) se ven
#   aquí.
# - **Graphs**: las capas del modelo en orden.
# - **HParams**: una fila por combinación de una búsqueda de hiperparámetros (*hyperparameters*,
#   lección 11):
#   `.venv/bin/python examples/hyperparameters.py --logdir logs/grid` y
#   `tensorboard --logdir logs/grid`. Las funciones están en `minired/callbacks/hparams.py`.
#
# Los ficheros se pueden leer también desde Python con el lector del propio TensorBoard, que
# es lo que hacen los tests:

# %%
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)

mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(32, activation="relu"),
                       mr.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
logs = Path(tempfile.mkdtemp()) / "digits"           # en tu máquina, por ejemplo "logs/digits"
tensorboard = mr.callbacks.TensorBoard(log_dir=logs, histogram_freq=1)
history = model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[tensorboard], verbose=0)

print(sorted(run.name for run in logs.iterdir()))   # una carpeta por "run", como Keras
train = EventAccumulator(str(logs / "train"))
train.Reload()
for tag in sorted(train.Tags()["tensors"]):
    print(tag, [event.step for event in train.Tensors(tag)])
losses = [float(event.tensor_proto.float_val[0]) for event in train.Tensors("epoch_loss")]
print("epoch_loss == history['loss']:", np.allclose(losses, history.history["loss"]))

# %% [markdown]
# (`keras` es la descripción del modelo que usa la pestaña Graphs.) El gradiente de cada
# histograma es el del último lote de la época, el que usó la última actualización.
#
# Código: `minired/callbacks/tensorboard.py`. Una diferencia deliberada con Keras 3: con un
# `update_freq` entero, Keras deja de escribir los escalares de época cuando el número de lotes
# no es múltiplo de `update_freq`; minired los escribe siempre.
#
# ## Mirar dentro de la red: pesos, gradientes y activaciones
#
# Las curvas dicen *que* algo va mal; los histogramas ayudan a ver *dónde*. Con una tasa de
# aprendizaje demasiado alta, muchas ReLU acaban con $z < 0$ para todos los ejemplos: su
# salida es siempre 0, su gradiente también, y ya no aprenden (**neuronas muertas**, *dead
# neurons* o *dying ReLU*).

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from sklearn.datasets import load_digits

import minired as mr

digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = mr.utils.to_categorical(digits.target, num_classes=10)

Path("reports").mkdir(exist_ok=True)
for lr in (0.01, 2.0):
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(64, activation="relu"),
                           mr.layers.Dense(64, activation="relu"),
                           mr.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=lr),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0)
    mr.plot.activations(model, x).savefig(f"reports/activaciones_lr{lr}.png", dpi=80)
    mr.plot.gradients(model, x, y).savefig(f"reports/gradientes_lr{lr}.png", dpi=80)
    mr.plot.weights(model).savefig(f"reports/pesos_lr{lr}.png", dpi=80)
    model(x)                                          # un forward con todo x: model.calls
    dead = [f"{np.mean(np.all(cache.a == 0, axis=0)):.0%}" for _, cache in model.calls[:2]]
    print(f"lr={lr}: accuracy {history.history['accuracy'][-1]:.3f}, unidades muertas {dead}")

# %% [markdown]
# Con `lr=2.0` la red acierta como al azar (0.088 con 10 clases) y en
# `reports/activaciones_lr2.0.png` casi todo el histograma de las dos capas ocultas está en 0:
# la figura anota las unidades muertas de cada capa ReLU. `reports/gradientes_lr2.0.png`
# dibuja $\log_{10} \lvert \partial L / \partial w \rvert$: los pesos de las unidades muertas
# tienen gradiente exactamente 0 (la figura cuenta los ceros). `model.calls` guarda, del último
# paso hacia delante (*forward pass*), la caché de
# cada capa (`cache.a` es su salida): de ahí leen `mr.plot.activations` y este bucle.
#
# Y dos figuras más, para el apéndice A y la lección 2: `mr.plot.gradcheck(informe)` dibuja
# el error relativo de cada array de `mr.gradcheck.check_model` en escala logarítmica, con las
# líneas de $10^{-7}$ (bien) y $10^{-2}$ (mal); `mr.plot.model(model)` dibuja las capas con sus
# formas y parámetros.
#
# Código: `minired/plot/inside.py` (`weights`, `gradients`, `activations`),
# `minired/plot/checks.py` (`gradcheck`).
#
# ## El informe de `comparisons/`
#
# `make compare` (o `.venv/bin/python -m comparisons`) escribe en `reports/comparisons/`:
#
# -  `summary.md`: una fila por caso y precisión con `max abs diff`, `max rel diff` (la
#   diferencia relativa por array del apéndice A), la tolerancia, el array peor y el resultado;
#   después una sección *Notes* (por ejemplo, la pérdida recortada, *clipped*, de los casos de
#   `saturation`) y *Training curves*.
# - `figures/<área>_<caso>_<precisión>.png`: una figura por cada caso de entrenamiento. Arriba,
#   las curvas de pérdida de Keras (trazo grueso) y minired (cruces) superpuestas; abajo, en
#   escala logarítmica, la diferencia relativa de cada época,
#   $\lvert \text{minired} - \text{Keras} \rvert / \max \lvert \text{Keras} \rvert$, la
#   misma medida con la que se juzga el caso (apéndice A; el máximo del denominador se toma
#   sobre toda la curva de Keras), con una línea de puntos en la tolerancia relativa del caso:
#   el caso pasa si todos los puntos quedan por debajo. Una coincidencia exacta (diferencia 0)
#   no tiene logaritmo y se dibuja en el fondo del eje, en $10^{-18}$. Las etiquetas de los ejes
#   van en español y en inglés, porque el informe lo leen también usuarios en inglés.
#
# `--report carpeta` cambia el destino. Esta figura sale de la orden del apéndice A,
# `python -m comparisons gradients/cce_softmax training/early_stopping dropout/keep_rate
# --report /tmp/informe`:
#
# ![Comparación de la parada temprana en float32: curvas de pérdida de Keras y minired, y su diferencia relativa frente a la tolerancia](../docs/img/comparacion-early-stopping-float32.png)
#
# En `float32` la diferencia relativa queda en torno a $10^{-7}$, unas mil veces por debajo de
# la tolerancia de los casos de entrenamiento, $10^{-4}$; en la tercera época las dos pérdidas
# coinciden bit a bit.
#
# La carpeta `reports/` no se guarda en git: se regenera en cada ejecución. El dibujo está en
# `comparisons/report.py` (`write_report`, `_draw_curves`).
#
# ## Ejercicios
#
# 1. Entrena con los 1257 ejemplos de `x_train` en lugar de 300. ¿Se estrecha el hueco entre
#    las curvas?
#
#     ??? note "Solución"
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
#
#
#         def gap(n):
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             h = model.fit(x_train[:n], y_train[:n], epochs=30, batch_size=32,
#                           validation_data=(x_val, y_val), verbose=0).history
#             print(f"{n:4d} ejemplos: loss {h['loss'][-1]:.4f}  val_loss {h['val_loss'][-1]:.4f}  "
#                   f"accuracy {h['accuracy'][-1]:.3f}  val_accuracy {h['val_accuracy'][-1]:.3f}")
#
#
#         gap(300)
#         gap(len(x_train))
#         ```
#
#         ```text
#          300 ejemplos: loss 0.0044  val_loss 0.2015  accuracy 1.000  val_accuracy 0.933
#         1257 ejemplos: loss 0.0011  val_loss 0.0918  accuracy 1.000  val_accuracy 0.976
#         ```
#
#         Sí: el entrenamiento sigue casi en pérdida 0, pero la validación mejora mucho
#         (`val_loss` de 0.20 a 0.09), así que el hueco entre las curvas se reduce a menos de la
#         mitad. Más datos es el remedio más directo del sobreajuste: es más difícil memorizar
#         1257 ejemplos que 300, y lo aprendido se parece más a la población.
#
# 2. Añade `mr.layers.Dropout(0.5)` tras la capa oculta y vuelve a dibujar. ¿Qué curva cambia más?
#
#     ??? note "Solución"
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
#
#
#         for dropout in (False, True):
#             mr.utils.set_random_seed(0)
#             layers = [mr.Input((64,)), mr.layers.Dense(128, activation="relu")]
#             if dropout:
#                 layers.append(mr.layers.Dropout(0.5))
#             model = mr.Sequential(layers + [mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                           loss="categorical_crossentropy", metrics=["accuracy"])
#             h = model.fit(x_train[:300], y_train[:300], epochs=30, batch_size=32,
#                           validation_data=(x_val, y_val), verbose=0).history
#             print(f"dropout={dropout!s:5}: loss {h['loss'][-1]:.4f}  val_loss {h['val_loss'][-1]:.4f}  "
#                   f"accuracy {h['accuracy'][-1]:.3f}  val_accuracy {h['val_accuracy'][-1]:.3f}")
#         ```
#
#         ```text
#         dropout=False: loss 0.0044  val_loss 0.2015  accuracy 1.000  val_accuracy 0.933
#         dropout=True : loss 0.0513  val_loss 0.1566  accuracy 0.987  val_accuracy 0.944
#         ```
#
#         Cambia más la curva de **entrenamiento**: su pérdida sube más de diez veces (de 0.004
#         a 0.05), porque `fit` la mide con el dropout activo, mientras que la de validación
#         baja algo (de 0.20 a 0.16). Las curvas se acercan sobre todo porque la de
#         entrenamiento deja de caer a 0.
#
# 3. Dibuja las 8 imágenes de «7 tomado por 4» con `plt.imshow(x_val[i].reshape(8, 8))`.
#
#     ??? note "Solución"
#         Hay que repetir el entrenamiento del fragmento para tener `predicted` y buscar los índices
#         con clase real 7 y predicha 4:
#
#         ```python
#         import matplotlib
#
#         matplotlib.use("Agg")
#         import matplotlib.pyplot as plt
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
#
#         mr.utils.set_random_seed(0)
#         model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(128, activation="relu"),
#                                mr.layers.Dense(10, activation="softmax")])
#         model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01),
#                       loss="categorical_crossentropy", metrics=["accuracy"])
#         model.fit(x_train[:300], y_train[:300], epochs=30, batch_size=32, verbose=0)
#         predicted = model.predict(x_val, verbose=0).argmax(axis=1)
#
#         wrong = np.flatnonzero((y_val.argmax(axis=1) == 7) & (predicted == 4))
#         print("índices de «7 tomado por 4»:", wrong)
#         fig, axes = plt.subplots(1, len(wrong), figsize=(2 * len(wrong), 2))
#         for ax, i in zip(axes, wrong):
#             ax.imshow(x_val[i].reshape(8, 8), cmap="gray_r")
#             ax.set_axis_off()
#         fig.savefig("siete_por_cuatro.png", dpi=80)
#         ```
#
#         ```text
#         índices de «7 tomado por 4»: [ 46  94 109 161 224 453 512 523]
#         ```
#
#         Casi todos son sietes estrechos, con el trazo de arriba muy corto y una barra
#         horizontal que cruza el palo por la mitad (el 7 «europeo»). En 8x8 píxeles eso deja
#         un palo vertical con una raya en medio, que es justo lo que caracteriza a un 4. Son
#         errores comprensibles, no fallos absurdos de la red.
#
# 4. Genera el informe completo con `make compare` y abre `reports/comparisons/summary.md`.
#    ¿Qué caso tiene la mayor `max rel diff` en `float32`?
#
#     ??? note "Solución"
#         `make compare` ejecuta `python -m comparisons`, que escribe `reports/comparisons/summary.md`
#         (270 filas: 135 casos por 2 precisiones; la misma orden con `--report /tmp/informe` deja el
#         informe fuera del repositorio). Ordenando por `max rel diff` las filas de `float32`:
#
#         - Los números más grandes (en torno a 2–3) son de los casos **estadísticos**
#           (`initializers/*` con distribución normal, `dropout/keep_rate`...): en ellos la columna no
#           es una diferencia relativa sino $\lvert z \rvert$, en errores estándar, contra la cota 5.
#         - Entre los casos numéricos, el mayor al ejecutarlo para esta solución fue
#           `gradients/hidden_softmax`, con unos $4.6 \cdot 10^{-7}$ (seguido de cerca por
#           `gradients/cce_sample_weight` y `sparse_cce_sample_weight`, $4.0 \cdot 10^{-7}$): unos
#           pocos épsilon de `float32`, muy por debajo de su tolerancia $10^{-5}$. Los gradientes que
#           pasan por varias capas y un softmax acumulan más redondeos que un solo paso. Estos valores
#           tan pequeños pueden cambiar un poco de una ejecución a otra.
#
# 5. Arranca TensorBoard sobre `examples/digits.py --logdir logs/digits` y, en *Histograms*,
#    compara la distribución del gradiente de `dense/kernel` en la primera y en la última
#    época. ¿Por qué se estrecha?
#
#     ??? note "Solución"
#         En la primera época el histograma del gradiente de `dense/kernel` es ancho: la red acierta
#         poco, el error de la salida $\delta = \hat p - y$ es grande para casi todos los ejemplos y
#         $\partial L / \partial W = x^\top \delta_z$ también. En la última época está mucho más
#         concentrado alrededor de 0: la mayoría de los ejemplos ya se clasifican bien con
#         probabilidad cercana a 1, así que su $\hat p - y$ es casi nulo y apenas aportan gradiente.
#         Lo que queda es el gradiente de los pocos ejemplos difíciles (y el término pequeño
#         $2\lambda_2 W$ de la L2). Que se estreche es la señal de que la pérdida se acerca a un
#         mínimo; si no se estrechara, o se ensanchara, la tasa de aprendizaje sería sospechosa.
#
# 6. Repite el experimento de las neuronas muertas con `Adam(learning_rate=0.01)` en lugar de
#    `SGD(2.0)`. ¿Cuántas unidades mueren? Mira `mr.plot.activations`.
#
#     ??? note "Solución"
#         ```python
#         import numpy as np
#         from sklearn.datasets import load_digits
#
#         import minired as mr
#
#         digits = load_digits()
#         x = (digits.data / 16.0).astype("float32")
#         y = mr.utils.to_categorical(digits.target, num_classes=10)
#
#         for name, optimizer in [("SGD(2.0)", mr.optimizers.SGD(learning_rate=2.0)),
#                                 ("Adam(0.01)", mr.optimizers.Adam(learning_rate=0.01))]:
#             mr.utils.set_random_seed(0)
#             model = mr.Sequential([mr.Input((64,)), mr.layers.Dense(64, activation="relu"),
#                                    mr.layers.Dense(64, activation="relu"),
#                                    mr.layers.Dense(10, activation="softmax")])
#             model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
#             history = model.fit(x, y, epochs=5, verbose=0)
#             model(x)
#             dead = [f"{np.mean(np.all(cache.a == 0, axis=0)):.0%}" for _, cache in model.calls[:2]]
#             print(f"{name:10s}: accuracy {history.history['accuracy'][-1]:.3f}, unidades muertas {dead}")
#         ```
#
#         ```text
#         SGD(2.0)  : accuracy 0.088, unidades muertas ['75%', '98%']
#         Adam(0.01): accuracy 0.978, unidades muertas ['20%', '22%']
#         ```
#
#         Con Adam mueren bastantes menos (una de cada cinco, frente al 75 % y el 98 %) y la
#         red aprende (0.978): Adam divide cada paso entre $\sqrt{\hat v}$, así que cada peso se
#         mueve del orden de $\mathrm{lr} = 0.01$ por paso, sin los saltos enormes con los que
#         `SGD(2.0)` empuja de golpe sesgos y pesos a la zona $z < 0$ para todos los ejemplos.
#         Las que mueren con Adam son unidades que pocos ejemplos activaban desde el principio.
#         En `mr.plot.activations(model, x)` las capas ocultas siguen teniendo un pico en 0 (la
#         ReLU da 0 para la mitad de las entradas, más o menos), pero con una cola amplia de
#         valores positivos, y la anotación de unidades muertas baja.
#
# 7. Pasa `examples/hyperparameters.py --logdir logs/grid` y, en la pestaña *HParams*, ordena
#    por `val_accuracy`. ¿Coincide con la tabla de la lección 11?
#
#     ??? note "Solución"
#         Sí: las ejecuciones son las mismas (misma semilla por combinación, mismos datos) y HParams
#         guarda la `val_accuracy` y la `val_loss` de la **última** época, las mismas columnas que
#         ordena `main`. Ordenada por `val_accuracy` descendente, la primera fila es `lr=0.03`,
#         `units=128`, `dropout=0.0` (0.9833) y las últimas son las de 8 unidades con `0.0003`. La
#         única diferencia posible son los empates: `main` los rompe con la menor `val_loss` y
#         TensorBoard no; en esta rejilla no hay empates en `val_accuracy`, así que el orden coincide.
#         La vista de coordenadas paralelas muestra además de un vistazo que las líneas de
#         `0.0003` y de 8 unidades acaban abajo.
