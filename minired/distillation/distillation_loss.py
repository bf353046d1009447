"""What a student learns from a teacher: the distillation losses (Keras' ``keras.distillation``).

A trained **teacher** gives, for each sample, more than its label: its whole output.
For a classifier those are the logits ``z`` of every class, and the softmax at a
**temperature** ``T > 1``::

    p_c = exp(z_c / T) / Σ_k exp(z_k / T)

spreads the probability over the classes the teacher finds *similar* to the right one (a
"7" that looks a bit like a "1"). The hard label says only "7"; the softened distribution
also says which mistakes are reasonable. That extra information is what the **student**
(a smaller model) learns from (Hinton, Vinyals and Dean, 2015, *Distilling the Knowledge
in a Neural Network*).

- :class:`LogitsDistillation` compares the two models' outputs divided by ``T``.
- :class:`FeatureDistillation` compares what two layers inside them compute.
- :class:`DistillationLoss` is the base class of both, and of yours.

Every loss here is written with ``mr.ops``, so while the :class:`~minired.distillation.Distiller`
trains, the tape (:mod:`minired.autodiff`) differentiates it: the student's weights get
``∂L/∂w`` through the loss and the student's layers, the frozen teacher gets nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minired import config, ops, tree
from minired import losses as losses_module
from minired.autodiff.tape import record
from minired.autodiff.tensor import Tensor
from minired.losses.loss import Loss


# -- losses given by name, and applied on the tape ---------------------------------------------
def convert_loss_to_function(loss_item):
    """A loss given to a distillation loss (or to ``Distiller.compile``), as Keras'
    ``keras.losses.get`` turns it: a class name (``"KLDivergence"``) gives an instance of
    that class, any other name (``"kl_divergence"``, ``"mse"``) the **function** of that
    name, which returns one loss value per sample. ``None`` and objects stay as they are.

    Example:
        >>> convert_loss_to_function("mse").__name__
        'mean_squared_error'
        >>> type(convert_loss_to_function("KLDivergence")).__name__
        'KLDivergence'
    """
    if loss_item is None or not isinstance(loss_item, str):
        return loss_item
    loss = losses_module.get(loss_item)          # an unknown name raises here, as in Keras
    if loss_item == type(loss).__name__:
        return loss
    return losses_module._CLASSES_AND_FUNCTIONS[type(loss)]


def apply_loss(loss_fn, y_true, y_pred):
    """``loss_fn(y_true, y_pred)`` as Keras calls it, recorded on the tape when ``y_pred``
    is traced (the gradient flows into ``y_pred`` only: ``y_true`` is the teacher's, or
    the labels).

    A :class:`~minired.losses.Loss` object returns its reduced value (one number); a loss
    function of :mod:`minired.losses` returns one value per sample, each recorded with the
    loss's own gradient ``∂ℓ/∂ŷ``; any other function (yours, written with ``mr.ops``) is
    called as it is, and the tape follows its operations.
    """
    if isinstance(loss_fn, Loss):
        if loss_fn.reduction in ("none", None) and not loss_fn._uses_call():
            return per_sample_values(loss_fn, y_true, y_pred)
        value = loss_fn(y_true, y_pred)
        # outside a tape a Loss returns a Python float: keep the predictions' precision
        return np.asarray(value, dtype=_float_dtype(y_pred)) if isinstance(value, float) \
            else value
    builtin = losses_module._BY_FUNCTION.get(loss_fn)
    if builtin is not None:
        return per_sample_values(builtin(), y_true, y_pred)
    return loss_fn(y_true, y_pred)


def per_sample_values(loss: Loss, y_true, y_pred):
    """The unreduced losses ``ℓ`` of a built-in ``loss`` (one per vector of the last axis),
    as one operation on the tape.

    Forward: ``ℓ = loss.values(y, ŷ)``. Backward: ``δŷ = δℓ[..., None] · ∂ℓ/∂ŷ``, each loss
    value scaling the gradient of its own vector ``ŷ``.
    """
    plain = y_pred.view(np.ndarray) if isinstance(y_pred, Tensor) else y_pred
    shape = np.shape(plain)
    true, pred, axis = loss._prepare_along_axis(_plain(y_true), plain)
    values, dvalues = loss.values_and_gradients(true, pred, loss.from_logits)

    def vjp(grad):
        dpred = dvalues * np.asarray(grad, dtype=dvalues.dtype)[..., None]
        if axis != -1:
            dpred = np.moveaxis(dpred, -1, axis)
        return (dpred.reshape(shape),)

    return record(values, (y_pred,), vjp)


def _plain(value):
    return value.view(np.ndarray) if isinstance(value, Tensor) else value


def _float_dtype(value) -> np.dtype:
    dtype = np.asarray(_plain(value)).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(config.floatx())


def sum_of_losses(flat_losses: list):
    """``Σ`` of a list of losses (Keras' ``ops.sum(ops.stack(flat_losses))``); a skipped
    output's ``0.0`` takes the dtype of the others, as TensorFlow's ``stack`` converts it."""
    dtype = next((np.asarray(_plain(v)).dtype for v in flat_losses
                  if not isinstance(v, float | int)), None)
    if dtype is None:
        return float(sum(flat_losses))
    values = [np.asarray(v, dtype=dtype) if isinstance(v, float | int) else v
              for v in flat_losses]
    return ops.sum(ops.stack(values))


def _structure(value) -> Any:
    """The nesting of ``value`` with its leaves shown as ``*`` (for error messages)."""
    return tree.map_structure(lambda _: "*", value)


# -- the losses -------------------------------------------------------------------------------
class DistillationLoss:
    """Base class of the distillation losses: how far the student's outputs are from the
    teacher's.

    Write your own by overriding :meth:`compute_loss` with ``mr.ops`` (the tape
    differentiates it); it returns one number, the loss ``L_D``.

    Example:
        >>> class MeanGap(DistillationLoss):
        ...     def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        ...         return mr.ops.mean(mr.ops.abs(teacher_outputs - student_outputs))
        >>> float(MeanGap().compute_loss(np.ones((2, 3)), np.zeros((2, 3))))
        1.0
    """

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The loss ``L_D`` between the teacher's and the student's outputs (one number)."""
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs) -> None:
        """Check that the two outputs are nested the same way (ValueError otherwise)."""
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher, student) -> None:
        """Check that the loss can be used with these two models (nothing by default)."""


class FeatureDistillation(DistillationLoss):
    """Make the student's features (a layer's outputs) match the teacher's.

    With ``h_T`` the output of the teacher's layer ``teacher_layer_name`` and ``h_S`` that
    of the student's layer ``student_layer_name`` (the models' outputs when a name is None),
    both of the same shape, and ``ℓ`` the loss (``"mse"`` by default)::

        L_D = mean(ℓ(h_T, h_S))          (Keras: mean of the values ℓ returns)

    so for the default, ``L_D = (1/(N·D)) Σ (h_T - h_S)²`` and ``∂L_D/∂h_S = 2(h_S - h_T)/(N·D)``,
    which the tape sends back through the student's layers below ``h_S``. The teacher's
    features are targets: no gradient reaches the teacher.

    Matching inside the network guides the student's hidden layers directly, where the
    output alone only guides them through the chain rule.

    Args:
        loss: a loss name (``"mse"``, ``"mae"``, ``"cosine_similarity"``...), a loss
            function or object; for models with several outputs, a list or dict of them
            (``None`` for an output not distilled). At least one must not be None.
        teacher_layer_name: the teacher's layer to read (None: the teacher's output).
        student_layer_name: the student's layer to read (None: the student's output).

    Example:
        >>> distill = FeatureDistillation(loss="mse")
        >>> float(distill.compute_loss(np.ones((2, 3)), np.zeros((2, 3))))
        1.0
        >>> sorted(distill.get_config())
        ['loss', 'student_layer_name', 'teacher_layer_name']
    """

    def __init__(self, loss="mse", teacher_layer_name: str | None = None,
                 student_layer_name: str | None = None) -> None:
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = tree.map_structure(convert_loss_to_function, loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError("The `loss` argument in `FeatureDistillation` must contain at "
                             "least one non-`None` value.")

    def validate_model_compatibility(self, teacher, student) -> None:
        """With layer names, both models must be functional (or Sequential) and have those
        layers."""
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [role for role, model in (("teacher", teacher), ("student", student))
                          if getattr(model, "inputs", None) is None]
            if subclassed:
                models_str = " and ".join(subclassed)
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {models_str} model(s) appear to be subclassed "
                    "(no symbolic inputs/outputs). Either use Functional/Sequential models, "
                    "or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead.")
        for role, model, name in (("teacher", teacher, self.teacher_layer_name),
                                  ("student", student, self.student_layer_name)):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as error:
                    raise ValueError(f"In {role} model: {error}") from None

    def validate_outputs(self, teacher_outputs, student_outputs) -> None:
        """The outputs nest alike, and as the losses do."""
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except ValueError as error:
            raise ValueError(f"Loss structure mismatch. Loss structure: "
                             f"{_structure(self.loss)}, Output structure: "
                             f"{_structure(teacher_outputs)}. Error: {error}") from None

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """``Σ`` over the outputs of ``mean(ℓ(h_T, h_S))`` (an output without a loss: 0)."""
        def one(loss_fn, teacher_features, student_features):
            if loss_fn is None:
                return 0.0
            return ops.mean(apply_loss(loss_fn, teacher_features, student_features))

        values = tree.map_structure(one, self.loss, teacher_outputs, student_outputs)
        return sum_of_losses(tree.flatten(values))

    def get_config(self) -> dict:
        """Keras' config: ``loss`` serialized, and the two layer names."""
        return {"loss": losses_module.serialize(self.loss),
                "teacher_layer_name": self.teacher_layer_name,
                "student_layer_name": self.student_layer_name}

    @classmethod
    def from_config(cls, config: dict) -> FeatureDistillation:
        config = dict(config)
        config["loss"] = losses_module.deserialize(config["loss"])
        return cls(**config)


class LogitsDistillation(DistillationLoss):
    """Make the student's softened outputs match the teacher's: the loss of Hinton et al.

    With ``z_T`` and ``z_S`` the teacher's and the student's logits (their outputs), both
    are divided by the temperature ``T``. When ``loss`` is a
    :class:`~minired.losses.KLDivergence` **object**, each becomes a distribution,
    ``p = softmax(z_T/T)`` and ``q = softmax(z_S/T)``, and::

        L_D = T² · mean_n Σ_c p_nc log(p_nc / q_nc)
        ∂L_D/∂z_S = T (q - p) / N

    The ``T²`` keeps the size of this gradient independent of ``T`` (the softmax at ``T``
    divides it by ``T``), so the weight given to distillation does not change with it.

    Keras applies the softmax and ``T²`` only to a ``KLDivergence`` object. Every other
    loss, **the default** ``"kl_divergence"`` **included** (a name gives Keras' *function*
    ``kl_divergence``, not the class), is applied to the scaled logits themselves:
    ``L_D = mean(ℓ(z_T/T, z_S/T))``. For ``kl_divergence`` that clips the logits to
    ``[ε, 1]`` as if they were probabilities. minired does what Keras does; for Hinton's
    loss pass ``loss=mr.losses.KLDivergence()``.

    Args:
        temperature: ``T > 0``; the larger, the softer the distributions (3 to 5 is usual).
        loss: a loss name, function or object (``"kl_divergence"`` by default); for models
            with several outputs, a list or dict of them (``None``: not distilled).

    Example:
        >>> distill = LogitsDistillation(temperature=2.0, loss=mr.losses.KLDivergence())
        >>> z = np.array([[1.0, 2.0, 3.0]])
        >>> float(distill.compute_loss(z, z))     # the same logits: nothing to learn
        0.0
        >>> distill.get_config()["temperature"]
        2.0
    """

    def __init__(self, temperature: float = 3.0, loss="kl_divergence") -> None:
        self.temperature = temperature
        self.loss = tree.map_structure(convert_loss_to_function, loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError("At least one loss must be non-`None`.")
        if not isinstance(self.temperature, int | float):
            raise ValueError(f"temperature must be a number, got {type(self.temperature)}")
        if self.temperature <= 0.0:
            raise ValueError("temperature must be positive.")

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """``L_D`` for the logits ``z_T`` and ``z_S`` (summed over the outputs)."""
        temperature = self.temperature
        teacher_scaled = tree.map_structure(lambda z: ops.divide(z, temperature),
                                            teacher_outputs)
        student_scaled = tree.map_structure(lambda z: ops.divide(z, temperature),
                                            student_outputs)

        def one(loss_fn, teacher_logits, student_logits):
            if loss_fn is None:
                return 0.0
            if isinstance(loss_fn, losses_module.KLDivergence):
                teacher_probs = ops.softmax(teacher_logits, axis=-1)
                student_probs = ops.softmax(student_logits, axis=-1)
                loss = ops.mean(apply_loss(loss_fn, teacher_probs, student_probs))
                return loss * (temperature ** 2)
            return ops.mean(apply_loss(loss_fn, teacher_logits, student_logits))

        values = tree.map_structure(one, self.loss, teacher_scaled, student_scaled)
        return sum_of_losses(tree.flatten(values))

    def get_config(self) -> dict:
        """Keras' config: ``temperature`` and ``loss`` serialized."""
        from minired.saving.serialization_lib import serialize_keras_object

        return {"temperature": self.temperature, "loss": serialize_keras_object(self.loss)}

    @classmethod
    def from_config(cls, config: dict) -> LogitsDistillation:
        config = dict(config)
        config["loss"] = losses_module.deserialize(config["loss"])
        return cls(**config)
