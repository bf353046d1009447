"""Translate a model between minired and Keras: the same layers, hyperparameters and weights.

``to_keras(model)`` is also the way out for a learner who outgrows minired: the model keeps
training in Keras, on a GPU or under a distribution strategy.

Example:
    >>> keras_model = to_keras(model)              # compiled, with the same weights
    >>> back = from_keras(keras_model)             # and back again
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr

# -- minired -> Keras ----------------------------------------------------------------------


def to_keras(model: mr.Sequential):
    """Build the equivalent Keras model: layers, activations, initializers, regularizers,
    current weights and, when ``model`` is compiled, its loss, optimizer and metrics.

    The optimizer is a fresh one with the same hyperparameters (its state is not copied).
    """
    if not isinstance(model, mr.Sequential):
        raise TypeError(
            f"to_keras: `model` must be a minired Sequential, got {type(model).__name__}.")
    if not model.built:
        raise ValueError("to_keras: build the model first (Input layer, build() or one call).")
    layers = [keras.Input(shape=tuple(model.input_shape[1:]))]
    twins: dict[int, object] = {}   # a layer used twice maps to one Keras layer, used twice
    for layer in model.layers:
        if id(layer) not in twins:
            twins[id(layer)] = _layer_to_keras(layer)
        layers.append(twins[id(layer)])
    keras_model = keras.Sequential(layers, name=model.name)
    keras_model.set_weights(model.get_weights())
    if model.compiled:
        keras_model.compile(optimizer=optimizer_to_keras(model.optimizer),
                            loss=loss_to_keras(model.loss),
                            metrics=[_metric_to_keras(m) for m in model._metric_identifiers[0]])
    return keras_model


def _layer_to_keras(layer):
    kind = type(layer).__name__
    if kind == "Dense":
        return keras.layers.Dense(
            layer.units, activation=layer.activation.__name__, use_bias=layer.use_bias,
            kernel_initializer=_by_class(keras.initializers, layer.kernel_initializer),
            bias_initializer=_by_class(keras.initializers, layer.bias_initializer),
            kernel_regularizer=_by_class(keras.regularizers, layer.kernel_regularizer),
            bias_regularizer=_by_class(keras.regularizers, layer.bias_regularizer),
            name=layer.name)
    if kind == "Dropout":
        return keras.layers.Dropout(layer.rate, noise_shape=layer.noise_shape, seed=layer.seed,
                                    name=layer.name)
    if kind == "Activation":
        return keras.layers.Activation(layer.activation.__name__, name=layer.name)
    if kind == "Flatten":
        return keras.layers.Flatten(name=layer.name)
    raise ValueError(f"to_keras: no Keras equivalent known for layer {layer.name!r} ({kind}).")


def _by_class(keras_module, obj):
    """The Keras object of the same class name with the same configuration."""
    if obj is None:
        return None
    return getattr(keras_module, type(obj).__name__)(**obj.get_config())


def optimizer_to_keras(optimizer):
    """A Keras optimizer with the same class and hyperparameters (schedules included)."""
    config = optimizer.get_config()
    schedule = optimizer._learning_rate
    if isinstance(schedule, mr.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = _by_class(keras.optimizers.schedules, schedule)
    return getattr(keras.optimizers, type(optimizer).__name__)(**config)


def loss_to_keras(loss):
    """A Keras loss with the same class and configuration."""
    return getattr(keras.losses, type(loss).__name__)(**loss.get_config())


def _metric_to_keras(metric):
    if isinstance(metric, str):
        return metric
    return getattr(keras.metrics, type(metric).__name__)(name=metric.name)


# -- Keras -> minired ----------------------------------------------------------------------

# Keras arguments minired does not have, and the value that means "not used".
_UNSUPPORTED_DEFAULTS = {
    "kernel_constraint": None, "bias_constraint": None, "activity_regularizer": None,
    "lora_rank": None, "use_ema": False, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def from_keras(keras_model) -> mr.Sequential:
    """Build the minired model equivalent to a Keras ``Sequential`` (weights and, if
    compiled, loss, optimizer and metrics). Raises ValueError naming anything that minired
    cannot represent (a layer type, an activation, an option in use)."""
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(
            "from_keras: `keras_model` must be a keras.Sequential, got "
            f"{type(keras_model).__name__}.")
    layers = [mr.Input(tuple(keras_model.inputs[0].shape[1:]))]
    layers += [_layer_from_keras(layer) for layer in keras_model.layers]
    model = mr.Sequential(layers, name=keras_model.name)
    model.set_weights(keras_model.get_weights())
    if keras_model.compiled and keras_model.optimizer is not None:
        loss = getattr(keras_model, "loss", None)
        model.compile(optimizer=optimizer_from_keras(keras_model.optimizer),
                      loss=loss_from_keras(loss),
                      metrics=list(_compiled_metric_names(keras_model)))
    return model


def _layer_from_keras(layer):
    kind = type(layer).__name__
    config = layer.get_config()
    if kind == "Dense":
        _reject_unsupported(layer, config)
        return mr.layers.Dense(
            config["units"], activation=_activation_name(layer, layer.activation),
            use_bias=config["use_bias"],
            kernel_initializer=_from_class(mr.initializers, layer.kernel_initializer, layer),
            bias_initializer=_from_class(mr.initializers, layer.bias_initializer, layer),
            kernel_regularizer=_from_class(mr.regularizers, layer.kernel_regularizer, layer),
            bias_regularizer=_from_class(mr.regularizers, layer.bias_regularizer, layer),
            name=layer.name)
    if kind == "Dropout":
        return mr.layers.Dropout(config["rate"], noise_shape=config.get("noise_shape"),
                                 seed=config.get("seed"), name=layer.name)
    if kind == "Activation":
        return mr.layers.Activation(_activation_name(layer, layer.activation), name=layer.name)
    if kind == "Flatten":
        return mr.layers.Flatten(name=layer.name)
    raise ValueError(
        f"from_keras: layer {layer.name!r} is a {kind}, which minired does not have "
        "(supported: Dense, Dropout, Activation, Flatten)."
    )


def _reject_unsupported(layer, config: dict) -> None:
    for key, default in _UNSUPPORTED_DEFAULTS.items():
        if key in config and config[key] != default:
            raise ValueError(
                f"from_keras: layer {layer.name!r} uses {key}={config[key]!r}, which minired "
                "does not support."
            )


def _activation_name(layer, activation) -> str:
    name = getattr(activation, "__name__", repr(activation))
    if name not in mr.activations.ALL_ACTIVATIONS:
        raise ValueError(
            f"from_keras: layer {layer.name!r} uses activation {name!r}, which minired does "
            f"not have (it has {', '.join(sorted(mr.activations.ALL_ACTIVATIONS))})."
        )
    return name


def _from_class(mr_module, obj, owner):
    if obj is None:
        return None
    name = type(obj).__name__
    cls = getattr(mr_module, name, None)
    if cls is None:
        module = mr_module.__name__.split(".")[-1]
        raise ValueError(f"from_keras: {owner.name!r} uses {name}, which minired.{module} "
                         "does not have.")
    return cls(**obj.get_config())


def optimizer_from_keras(optimizer):
    """The minired optimizer with the same class and hyperparameters."""
    name = type(optimizer).__name__
    cls = getattr(mr.optimizers, name, None)
    if cls is None:
        raise ValueError(f"from_keras: optimizer {name} is not available in minired.")
    config = optimizer.get_config()
    for key, default in _UNSUPPORTED_DEFAULTS.items():
        value = config.pop(key, default)
        if value != default:
            raise ValueError(f"from_keras: optimizer option {key}={value!r} is not supported "
                             "by minired.")
    for key in ("ema_momentum", "ema_overwrite_frequency"):
        config.pop(key, None)
    learning_rate = optimizer._learning_rate
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = _from_class(mr.optimizers.schedules, learning_rate, optimizer)
    else:
        config["learning_rate"] = float(np.asarray(learning_rate))
    return cls(**config)


def loss_from_keras(loss):
    """The minired loss for a Keras loss object or name."""
    if isinstance(loss, str):
        return mr.losses.get(loss)
    name = type(loss).__name__
    cls = getattr(mr.losses, name, None)
    if cls is None:
        raise ValueError(f"from_keras: loss {name} is not available in minired.")
    config = {k: v for k, v in loss.get_config().items() if k not in ("dtype", "axis")}
    return cls(**config)


def _compiled_metric_names(keras_model):
    compiled = getattr(keras_model, "_compile_metrics", None)
    names = getattr(compiled, "_user_metrics", None) or []
    for metric in names:
        yield metric if isinstance(metric, str) else metric.name
