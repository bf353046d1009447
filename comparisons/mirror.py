"""Translate a model between minired and Keras: the same layers, graph, hyperparameters and
weights.

``to_keras(model)`` is also the way out for a learner who outgrows minired: the model keeps
training in Keras, on a GPU or under a distribution strategy.

Both directions handle a ``Sequential`` and a functional model (``mr.Model(inputs,
outputs)`` / ``keras.Model(inputs, outputs)``). A functional model is copied call by call:
its nodes are replayed in topological order, each layer mapped to one twin (a layer called
twice stays one layer called twice), a model used as a layer mapped to a nested model, and
the inputs and outputs keep their structure (one tensor, a list or a dict) and their names.
Weights are copied layer by layer, so the two models' ``get_weights()`` orders are compared
by the cases, not assumed here.

Example:
    >>> keras_model = to_keras(model)              # compiled, with the same weights
    >>> back = from_keras(keras_model)             # and back again
"""

from __future__ import annotations

from functools import partial

import numpy as np

from comparisons.keras_env import keras, mr

# What keras.Model(inputs, outputs) returns (keras_env imports Keras, quietly, first).
KerasFunctional = keras.src.models.functional.Functional

# Layers that merge a list of inputs and have no configuration besides their name.
_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
# Layers whose get_config is Keras' own: each twin is made by the other library's
# ``from_config`` (the Keras-only options left at their defaults; minired refuses others).
_BY_CONFIG = ("Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "MaxPooling1D",
              "MaxPooling2D", "AveragePooling1D",
              "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
              "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization",
              "LayerNormalization", "Reshape",
              "ZeroPadding2D", "UpSampling2D", "SpatialDropout2D", "LSTM", "GRU", "SimpleRNN",
              "Bidirectional")
# The small reshaping layers (no weights; Keras' own config keys).
_BY_CONFIG += ("RepeatVector", "Permute", "Cropping1D", "Cropping2D", "UpSampling1D",
               "ZeroPadding1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization",
               "Identity")
# The image augmentation layers (no weights; Keras' own config keys).
_BY_CONFIG += ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
               "RandomContrast", "RandomBrightness", "RandomCrop")
_BY_CONFIG += ("RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
               "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
               "RandomShear", "RandomColorJitter", "AutoContrast", "Equalization",
               "RandomErasing", "RandomGaussianBlur", "Pipeline", "RandAugment", "MixUp",
               "CutMix", "RandomPerspective")
_BY_CONFIG += ("RandomElasticTransform", "AugMix", "ContrastLimitedAdaptiveHistogramEqualization",
               "MaxNumBoundingBoxes")
# Depthwise and separable convolutions (Keras' own config keys).
_BY_CONFIG += ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
# Attention: called on (query, value) and keyword tensors (key=, attention_mask=) or options.
_BY_CONFIG += ("MultiHeadAttention", "Attention", "AdditiveAttention")
# Normalization, spatial and alpha dropout, and the TimeDistributed wrapper (Keras' own keys).
_BY_CONFIG += ("GroupNormalization", "UnitNormalization", "RMSNormalization",
               "SpatialDropout1D", "SpatialDropout3D", "AlphaDropout", "TimeDistributed")
# Preprocessing without a vocabulary (Keras' own keys; adapted boundaries are in the config).
_BY_CONFIG += ("Resizing", "CenterCrop", "CategoryEncoding", "Discretization")
# The 3-D layers (volumes; Keras' own config keys).
_BY_CONFIG += ("Conv3D", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D",
               "GlobalAveragePooling3D", "GlobalMaxPooling3D", "UpSampling3D",
               "ZeroPadding3D", "Cropping3D")
# EinsumDense and the adaptive poolings (Keras' own config keys).
_BY_CONFIG += ("EinsumDense", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
               "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
               "AdaptiveMaxPooling3D")
# The convolutional LSTMs (Keras' own config keys).
_BY_CONFIG += ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
# SpectralNormalization (Keras' own config keys; the wrapped layer serialized inside).
_BY_CONFIG += ("SpectralNormalization",)
# The audio layers (Keras' own config keys; STFTSpectrogram's kernels copied as weights).
_BY_CONFIG += ("STFTSpectrogram", "MelSpectrogram")
# Embeddings and grouped-query attention (Keras' own config keys).
_BY_CONFIG += ("Embedding", "ReversibleEmbedding", "GroupQueryAttention", "GroupedQueryAttention")
_SUPPORTED = ("Dense, Dropout, Activation, Flatten, Add, Subtract, Multiply, Average, Maximum, "
              f"Minimum, Concatenate, {', '.join(_BY_CONFIG)}, and Sequential or functional "
              "models used as layers")

# -- minired -> Keras ----------------------------------------------------------------------


def to_keras(model: mr.models.Functional):
    """Build the equivalent Keras model: graph, layers, activations, initializers,
    regularizers, current weights and, when ``model`` is compiled, its losses (one per
    output), loss weights, optimizer and metrics.

    The optimizer is a fresh one with the same hyperparameters (its state is not copied).
    """
    if not isinstance(model, mr.models.Functional):   # a Sequential is one too
        raise TypeError(
            "to_keras: `model` must be a minired Sequential or functional model "
            f"(mr.Model(inputs, outputs)), got {type(model).__name__}.")
    keras_model = _model_to_keras(model)
    if model.compiled:
        _compile_like(keras_model, model)
    return keras_model


def _model_to_keras(model):
    """The Keras twin of a minired model, with its weights, not compiled."""
    if not model.built:
        raise ValueError(f"to_keras: build the model {model.name!r} first (Input layer, "
                         "build() or one call).")
    if isinstance(model, mr.Sequential):
        return _sequential_to_keras(model)
    return _functional_to_keras(model)


def _sequential_to_keras(model: mr.Sequential):
    layers = [keras.Input(shape=tuple(model.input_shape[1:]))]
    twins: dict[int, object] = {}   # a layer used twice maps to one Keras layer, used twice
    for layer in model.layers:
        if id(layer) not in twins:
            twins[id(layer)] = _layer_to_keras(layer)
        layers.append(twins[id(layer)])
    keras_model = keras.Sequential(layers, name=model.name)
    _copy_weights(model.unique_layers, twins)
    return keras_model


def _functional_to_keras(model):
    """Replay the model's calls (``model._nodes``, in topological order) on Keras tensors."""
    tensors: dict[int, object] = {}    # id(minired tensor) -> its Keras twin
    for tensor in model.inputs:
        layer = tensor._keras_history.operation
        if not isinstance(layer, mr.layers.InputLayer):
            raise ValueError(
                f"to_keras: model {model.name!r} takes as input the output of layer "
                f"{layer.name!r}; only inputs made by mr.Input can be translated.")
        tensors[id(tensor)] = keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype,
                                          name=layer.name)
    twins: dict[int, object] = {}
    for node in model._nodes:
        layer = node.operation
        if id(layer) not in twins:
            twins[id(layer)] = _layer_to_keras(layer)
        if node.arguments is not None:      # more than its inputs: MultiHeadAttention
            arguments = node.arguments.map(lambda t: tensors[id(t)])
            outputs = twins[id(layer)](*arguments.args, **arguments.kwargs)
        else:
            outputs = twins[id(layer)](_map_structure(lambda t: tensors[id(t)],
                                                      node.call_inputs))
        for tensor, twin in zip(node.outputs, keras.tree.flatten(outputs), strict=True):
            tensors[id(tensor)] = twin
    keras_model = keras.Model(_map_structure(lambda t: tensors[id(t)], model._inputs_struct),
                              _map_structure(lambda t: tensors[id(t)], model._outputs_struct),
                              name=model.name)
    _copy_weights(model.unique_layers, twins)
    return keras_model


def _copy_weights(layers: list, twins: dict[int, object]) -> None:
    """Each layer's weights into its twin (a nested model copied its own when it was made)."""
    for layer in layers:
        if layer.weights and not isinstance(layer, mr.Model):
            twins[id(layer)].set_weights(layer.get_weights())


def _layer_to_keras(layer):
    kind = type(layer).__name__
    if isinstance(layer, mr.Model):
        return _model_to_keras(layer)
    if kind == "Dense":
        return keras.layers.Dense(
            layer.units, activation=layer.activation.__name__, use_bias=layer.use_bias,
            kernel_initializer=_by_class(keras.initializers, layer.kernel_initializer),
            bias_initializer=_by_class(keras.initializers, layer.bias_initializer),
            kernel_regularizer=_by_class(keras.regularizers, layer.kernel_regularizer),
            bias_regularizer=_by_class(keras.regularizers, layer.bias_regularizer),
            activity_regularizer=_by_class(keras.regularizers, layer.activity_regularizer),
            kernel_constraint=_by_class(keras.constraints, layer.kernel_constraint),
            bias_constraint=_by_class(keras.constraints, layer.bias_constraint),
            name=layer.name)
    if kind == "Dropout":
        return keras.layers.Dropout(layer.rate, noise_shape=layer.noise_shape, seed=layer.seed,
                                    name=layer.name)
    if kind == "Activation":
        return keras.layers.Activation(layer.activation.__name__, name=layer.name)
    if kind == "Flatten":
        return keras.layers.Flatten(name=layer.name)
    if kind in _MERGES:
        return getattr(keras.layers, kind)(name=layer.name)
    if kind == "Concatenate":
        return keras.layers.Concatenate(axis=layer.axis, name=layer.name)
    if kind in _BY_CONFIG:   # same config keys and values: name, initializers, regularizers
        return getattr(keras.layers, kind).from_config(layer.get_config())
    raise ValueError(f"to_keras: no Keras equivalent known for layer {layer.name!r} ({kind}).")


def _by_class(keras_module, obj):
    """The Keras object of the same class name with the same configuration."""
    if obj is None:
        return None
    return getattr(keras_module, type(obj).__name__)(**obj.get_config())


def _compile_like(keras_model, model) -> None:
    """Compile ``keras_model`` as ``model`` is: per-output losses, weights and metrics."""
    keys = model.output_keys
    by_output = {out.index: out for out in model._output_losses}
    losses = [loss_to_keras(by_output[i].loss) if i in by_output else None
              for i in range(len(keys))]
    weights = [by_output[i].weight if i in by_output else None for i in range(len(keys))]
    metrics = [[_metric_to_keras(m) for m in ids] for ids in model._metric_identifiers]
    weighted = [[_metric_to_keras(m) for m in ids]
                for ids in model._weighted_metric_identifiers]
    weighted_given = any(weighted)
    if len(keys) == 1:
        loss, loss_weights, metrics, weighted = losses[0], weights[0], metrics[0], weighted[0]
    else:
        # None means "not multiplied": 1.0 gives the same numbers and keeps the structure.
        loss_weights = None if all(w is None for w in weights) else [
            1.0 if w is None else w for w in weights]
        loss = losses
        if isinstance(model._outputs_struct, dict):   # keys are the dict's, sorted
            loss = dict(zip(keys, losses, strict=True))
            metrics = dict(zip(keys, metrics, strict=True))
            weighted = dict(zip(keys, weighted, strict=True))
            loss_weights = None if loss_weights is None else dict(
                zip(keys, loss_weights, strict=True))
    keras_model.compile(optimizer=optimizer_to_keras(model.optimizer), loss=loss,
                        loss_weights=loss_weights, metrics=metrics,
                        weighted_metrics=weighted if weighted_given else None,
                        steps_per_execution=model.steps_per_execution)


def optimizer_to_keras(optimizer):
    """A Keras optimizer with the same class and hyperparameters (schedules included)."""
    config = optimizer.get_config()
    schedule = optimizer._learning_rate
    if isinstance(schedule, mr.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = _by_class(keras.optimizers.schedules, schedule)
    if "inner_optimizer" in config:   # a LossScaleOptimizer: around the mirrored inner one
        config["inner_optimizer"] = optimizer_to_keras(optimizer.inner_optimizer)
    return getattr(keras.optimizers, type(optimizer).__name__)(**config)


def loss_to_keras(loss):
    """A Keras loss with the same class and configuration."""
    return getattr(keras.losses, type(loss).__name__)(**loss.get_config())


def _metric_to_keras(metric):
    if isinstance(metric, str):
        return metric
    if isinstance(metric, mr.losses.Loss):            # a loss object used as a metric
        return loss_to_keras(metric)
    if not isinstance(metric, mr.metrics.Metric):      # mr.metrics.hinge: Keras' function
        return getattr(keras.metrics, metric.__name__)
    # the same class and arguments (IoU, PrecisionAtRecall... have required ones)
    return getattr(keras.metrics, type(metric).__name__)(**metric.get_config())


# -- Keras -> minired ----------------------------------------------------------------------

# Keras arguments minired does not have, and the value that means "not used".
_UNSUPPORTED_DEFAULTS = {
    "lora_rank": None,
}


def from_keras(keras_model) -> mr.models.Functional:
    """Build the minired model equivalent to a Keras ``Sequential`` or functional model
    (graph, weights and, if compiled, losses, loss weights, optimizer and metrics). Raises
    ValueError naming anything that minired cannot represent (a layer type, an activation,
    an option in use, a layer called with keyword arguments)."""
    if not isinstance(keras_model, keras.Sequential | KerasFunctional):
        raise TypeError(
            "from_keras: `keras_model` must be a keras.Sequential or a functional "
            f"keras.Model(inputs, outputs), got {type(keras_model).__name__} (a subclassed "
            "model has no graph to read).")
    model = _model_from_keras(keras_model)
    if keras_model.compiled and keras_model.optimizer is not None:
        compiled_loss = getattr(keras_model, "_compile_loss", None)
        model.compile(optimizer=optimizer_from_keras(keras_model.optimizer),
                      loss=_map_structure(loss_from_keras, getattr(keras_model, "loss", None)),
                      loss_weights=getattr(compiled_loss, "_user_loss_weights", None),
                      metrics=_compiled_metrics(keras_model))
    return model


def _model_from_keras(keras_model):
    """The minired twin of a Keras model, with its weights, not compiled."""
    if isinstance(keras_model, keras.Sequential):
        return _sequential_from_keras(keras_model)
    if isinstance(keras_model, KerasFunctional):
        return _functional_from_keras(keras_model)
    raise ValueError(f"from_keras: the nested model {keras_model.name!r} is a "
                     f"{type(keras_model).__name__}: only Sequential and functional models "
                     "can be translated.")


def _sequential_from_keras(keras_model):
    twins: dict[int, object] = {}    # a layer used twice stays one layer, used twice
    layers = [mr.Input(tuple(keras_model.inputs[0].shape[1:]))]
    for layer in keras_model.layers:
        if id(layer) not in twins:
            twins[id(layer)] = _layer_from_keras(layer)
        layers.append(twins[id(layer)])
    model = mr.Sequential(layers, name=keras_model.name)
    _copy_weights_from_keras(twins, keras_model.layers)
    return model


def _functional_from_keras(keras_model):
    """Replay the Keras model's nodes, deepest first (``_nodes_by_depth``), on minired
    tensors."""
    tensors: dict[int, object] = {}
    for tensor in keras_model.inputs:
        layer = tensor._keras_history.operation
        tensors[id(tensor)] = mr.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype,
                                       name=layer.name)
    twins: dict[int, object] = {}
    layers = []
    for depth in sorted(keras_model._nodes_by_depth, reverse=True):
        for node in keras_model._nodes_by_depth[depth]:
            if node.is_input:
                continue
            layer = node.operation
            args = node.arguments.args
            # Keras records the call's defaults: `training=False` for a Dropout (fit and
            # predict override it), `mask=None` for a model. Only other values change a call.
            kwargs = {k: v for k, v in node.arguments.kwargs.items()
                      if v is not None and not (k == "training" and v is False)}
            several = type(layer).__name__ in ("MultiHeadAttention", "Attention",
                                               "AdditiveAttention", "GroupedQueryAttention",
                                               "ReversibleEmbedding")   # key=, reverse=...
            several = several or (type(layer).__name__ in ("LSTM", "GRU", "SimpleRNN",
                                                           "Bidirectional")
                                  and set(kwargs) <= {"initial_state"})   # seq2seq
            if (kwargs or len(args) != 1) and not several:
                raise ValueError(
                    f"from_keras: layer {layer.name!r} is called with {len(args)} positional "
                    f"arguments and the keyword arguments {sorted(kwargs)}; minired layers "
                    "take one input (or one list of inputs) and nothing else.")
            if id(layer) not in twins:
                twins[id(layer)] = _layer_from_keras(layer)
                layers.append(layer)
            symbolic = partial(_symbolic, tensors, layer)
            if several:
                outputs = twins[id(layer)](
                    *_map_structure(symbolic, list(args)),
                    **{k: _map_structure(partial(_symbolic_or_value, symbolic), v)
                       for k, v in kwargs.items()})
            else:
                outputs = twins[id(layer)](_map_structure(symbolic, args[0]))
            for tensor, twin in zip(node.outputs, keras.tree.flatten(outputs), strict=True):
                tensors[id(tensor)] = twin
    model = mr.Model(_map_structure(lambda t: tensors[id(t)], keras_model._inputs_struct),
                     _map_structure(lambda t: tensors[id(t)], keras_model._outputs_struct),
                     name=keras_model.name)
    _copy_weights_from_keras(twins, layers)
    return model


def _symbolic_or_value(symbolic, value):
    """A Keras tensor's minired twin; any other call argument (None, True) as it is."""
    return symbolic(value) if isinstance(value, keras.KerasTensor) else value


def _symbolic(tensors: dict, layer, value):
    """The minired tensor standing for the Keras tensor ``value`` (an argument of ``layer``)."""
    if id(value) not in tensors:
        raise ValueError(f"from_keras: layer {layer.name!r} is called on {value!r}, which is "
                         "not a tensor of the graph; minired layers take tensors only.")
    return tensors[id(value)]


def _copy_weights_from_keras(twins: dict[int, object], layers: list) -> None:
    for layer in layers:
        twin = twins[id(layer)]
        if layer.weights and not isinstance(layer, keras.Model):
            twin.set_weights([np.asarray(w) for w in layer.get_weights()])


def _layer_from_keras(layer):
    kind = type(layer).__name__
    if isinstance(layer, keras.Model):
        return _model_from_keras(layer)
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
            activity_regularizer=_from_class(mr.regularizers, layer.activity_regularizer,
                                             layer),
            kernel_constraint=_from_class(mr.constraints, layer.kernel_constraint, layer),
            bias_constraint=_from_class(mr.constraints, layer.bias_constraint, layer),
            name=layer.name)
    if kind == "Dropout":
        return mr.layers.Dropout(config["rate"], noise_shape=config.get("noise_shape"),
                                 seed=config.get("seed"), name=layer.name)
    if kind == "Activation":
        return mr.layers.Activation(_activation_name(layer, layer.activation), name=layer.name)
    if kind == "Flatten":
        return mr.layers.Flatten(name=layer.name)
    if kind in _MERGES:
        return getattr(mr.layers, kind)(name=layer.name)
    if kind == "Concatenate":
        return mr.layers.Concatenate(axis=config["axis"], name=layer.name)
    if kind in _BY_CONFIG:
        _reject_unsupported(layer, config)
        return getattr(mr.layers, kind).from_config(config)
    raise ValueError(
        f"from_keras: layer {layer.name!r} is a {kind}, which minired does not have "
        f"(supported: {_SUPPORTED})."
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
    try:
        mr.activations.get(name)
    except ValueError:
        raise ValueError(
            f"from_keras: layer {layer.name!r} uses activation {name!r}, which minired does "
            "not have."
        ) from None
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
    config = optimizer.get_config()   # the shared options (use_ema...) are minired's too
    if "inner_optimizer" in config:   # a LossScaleOptimizer: around the mirrored inner one
        config["inner_optimizer"] = optimizer_from_keras(optimizer.inner_optimizer)
        return cls(**config)
    learning_rate = optimizer._learning_rate
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = _from_class(mr.optimizers.schedules, learning_rate, optimizer)
    else:
        config["learning_rate"] = float(np.asarray(learning_rate))
    return cls(**config)


def loss_from_keras(loss):
    """The minired loss for a Keras loss object or name (``None`` stays: no loss)."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return mr.losses.get(loss)
    name = type(loss).__name__
    cls = getattr(mr.losses, name, None)
    if cls is None:
        raise ValueError(f"from_keras: loss {name} is not available in minired.")
    config = {k: v for k, v in loss.get_config().items() if k not in ("dtype", "axis")}
    return cls(**config)


def _compiled_metrics(keras_model):
    """The metrics given to Keras' ``compile``, as names, in the structure given (a list,
    one list per output, or a dict by output name), or None."""
    compiled = getattr(keras_model, "_compile_metrics", None)
    if getattr(compiled, "_user_weighted_metrics", None):
        raise ValueError("from_keras: the model is compiled with `weighted_metrics`, which "
                         "minired does not support.")
    metrics = getattr(compiled, "_user_metrics", None)
    if not metrics:
        return None
    return _map_structure(lambda m: m if isinstance(m, str) else m.name, metrics)


def _map_structure(function, structure):
    """``function`` on each leaf of a value, a list/tuple (as a list) or a dict (``None``
    stays ``None``)."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {key: _map_structure(function, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return [_map_structure(function, item) for item in structure]
    return function(structure)
