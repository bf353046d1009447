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
# # 5. Backpropagation y descenso del gradiente
#
# ## La idea
#
# Entrenar es bajar por la pérdida `L`: mover cada peso un poco en la dirección contraria a su
# gradiente, `w ← w - lr · ∂L/∂w` (**descenso del gradiente**). Para eso hace falta `∂L/∂w`
# para *todos* los pesos, y **backpropagation** es la forma eficiente de obtenerlos: la regla de
# la cadena aplicada desde la salida hacia la entrada, reutilizando en cada capa el gradiente
# que llega de la de arriba.
#
# En la práctica no se usa todo el conjunto de datos en cada paso, sino **mini-lotes**: `fit`
# baraja los datos en cada época, los corta en lotes de `batch_size` (32 por defecto; el último
# lote, más pequeño, se conserva) y da un paso por lote. Eso es el descenso del gradiente
# estocástico (SGD).
#
# ## Las matemáticas, en la notación del código
#
# Una capa `Dense` recibe `δa = ∂L/∂a`, de forma `(N, units)`, y calcula:
#
# ```text
# δz     = f'(z) ⊙ δa           el backward de la activación
# ∂L/∂W  = xᵀ δz                (in, units): el producto suma sobre los N ejemplos
# ∂L/∂b  = Σ_n δz_n             (units,)
# δx     = δz Wᵀ                (N, in): el δa de la capa de abajo
# ```
#
# El modelo empieza con `δᴸ = ∂L/∂ŷ`, que da la pérdida, y recorre las capas al revés:
# `δˡ⁻¹ = layerˡ.backward(δˡ)`. La pérdida es la **media** sobre el lote
# (`L = Σ_n ℓ_n / N`), así que su gradiente ya lleva el `1/N`: la suma `xᵀ δz` sobre los
# ejemplos es entonces un promedio, y la tasa de aprendizaje no depende del tamaño del lote.
#
# Un paso de entrenamiento (`Trainer.train_step`):
#
# 1. forward con `training=True` → `ŷ`;
# 2. pérdida `L = loss(y, ŷ) + Σ penalizaciones` (las penalizaciones, en la lección 9);
# 3. backward → `∂L/∂w` para cada peso;
# 4. `optimizer.apply(gradientes, pesos)`: los pesos se mueven (con SGD, `w ← w - lr·g`).
#
# ## Dónde verlo en el código
#
# - `minired/layers/dense.py`: `Dense.forward` guarda `self.cache = (x, z, a)`;
#   `Dense.backward` calcula `δz` con `self.activation.backward` y llama a `backward_from_z`,
#   que suma `xᵀ δz` a `kernel_gradient` y `Σ_n δz_n` a `bias_gradient`, y devuelve `δz Wᵀ`.
#   Suma (`+=`) y no sobrescribe: si la misma capa se usa dos veces en un modelo, su gradiente
#   es la suma de las dos llamadas, `∂L/∂W = Σ_llamadas xᵀ δz`.
# - `minired/models/sequential.py`: `Sequential.forward` apunta cada llamada `(capa, caché)`
#   en `self.calls`; `Sequential.backward` las recorre en orden inverso, devolviendo a cada
#   capa la caché *de esa llamada*, y `loss_and_gradients(x, y)` devuelve `L` y los gradientes
#   en el orden de `get_weights()` sin tocar ningún peso.
# - `minired/trainers/trainer.py`, `_forward_backward`: forward, pérdida, gradientes a cero,
#   backward, y el gradiente de las penalizaciones.
# - `minired/losses/loss.py`, `Loss.value_and_gradient`: `∂L/∂ŷ_n = (w_n / N) · ∂ℓ_n/∂ŷ_n`.
# - `minired/trainers/trainer.py`: `train_step` y el bucle de `fit`;
#   `minired/trainers/data_adapter.py`: `batch_slices` y `num_batches = ceil(N / batch_size)`.
#
# ## Pruébalo: backpropagation a mano
#
# En `float64`, para que la comparación no tenga ruido de redondeo:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")          # para comparar sin ruido de redondeo
mr.utils.set_random_seed(0)
model = mr.Sequential([
    mr.Input((3,)),
    mr.layers.Dense(4, activation="tanh"),
    mr.layers.Dense(2),                  # salida lineal
])
model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.1), loss="mse")
rng = np.random.default_rng(1)
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
N, D = y.shape

# Feedforward, guardando lo que el backward necesita
W1, b1, W2, b2 = model.get_weights()
z1 = x @ W1 + b1
a1 = np.tanh(z1)
y_hat = a1 @ W2 + b2

# Backward: la regla de la cadena, de la salida hacia la entrada
delta2 = 2 * (y_hat - y) / (N * D)       # ∂L/∂ŷ del MSE medio (salida lineal: δz² = δa²)
dW2, db2 = a1.T @ delta2, delta2.sum(axis=0)
delta_a1 = delta2 @ W2.T                 # δx de la capa 2 = δa¹
delta1 = delta_a1 * (1 - a1**2)          # tanh'(z) = 1 - a²
dW1, db1 = x.T @ delta1, delta1.sum(axis=0)

loss, grads = model.loss_and_gradients(x, y)
print("L =", round(loss, 6))
for name, ours, lib in zip(["W1", "b1", "W2", "b2"], [dW1, db1, dW2, db2], grads):
    print(f"∂L/∂{name}", np.abs(ours - lib).max())

# Un paso de descenso del gradiente: w <- w - lr·∂L/∂w
expected = [w - 0.1 * g for w, g in zip(model.get_weights(), grads)]
model.train_on_batch(x, y)
print("paso SGD:", max(np.abs(w - e).max() for w, e in zip(model.get_weights(), expected)))

# %% [markdown]
# Las diferencias son del orden de `1e-17`: el redondeo de `float64`.
#
# ## Pruébalo: la tasa de aprendizaje
#
# El mismo modelo, 100 pasos de descenso del gradiente escritos a mano con cuatro tasas:

# %%
import numpy as np

import minired as mr

mr.config.set_floatx("float64")
mr.utils.set_random_seed(0)
model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, activation="tanh"), mr.layers.Dense(2)])
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(1)
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
start = model.get_weights()

for lr in [0.01, 0.1, 1.0, 3.0]:
    model.set_weights(start)
    losses = []
    for step in range(100):
        loss, grads = model.loss_and_gradients(x, y)
        losses.append(loss)
        model.set_weights([w - lr * g for w, g in zip(model.get_weights(), grads)])
    print(f"lr={lr:<5} L: {losses[0]:.4f} -> {losses[-1]:.4g}")

# %% [markdown]
# Una tasa pequeña avanza despacio; una demasiado grande hace que cada paso se pase de largo y
# la pérdida **diverja**. Dentro de `fit`, una pérdida `inf` o `nan` detiene el entrenamiento
# con un `ValueError` que dice en qué época y lote ocurrió.
#
# Estos fragmentos no funcionan con `import keras as mr`: `loss_and_gradients` es de minired.
# En Keras los gradientes salen de `tf.GradientTape`; `keras_loss_and_gradients` en
# `comparisons/common.py` muestra cómo, y el apéndice A compara los dos.
#
# ## Ejercicios
#
# 1. Cambia la capa oculta a `sigmoid` y adapta la línea `delta1` (`σ'(z) = a(1 - a)`).
# 2. Sustituye el bucle del segundo fragmento por `model.train_on_batch(x, y)` con
#    `mr.optimizers.SGD(learning_rate=lr)` (créalo después de `set_floatx`). ¿Obtienes las
#    mismas pérdidas?
# 3. Si la pérdida fuera la **suma** sobre el lote en vez de la media, ¿qué tasa de aprendizaje
#    daría los mismos pasos que `lr = 0.1` con lotes de 32?
# 4. ¿Por qué `backward` no actualiza los pesos él mismo? Piensa en `loss_and_gradients` y en
#    la comprobación numérica del apéndice A.
