"""The Distiller: train a small student model on the labels and on a frozen teacher.

One training step on a batch ``(x, y)``, as Keras' ``Distiller.compute_loss`` does it::

    ŷ   = student(x)                              (training=True)
    L_S = loss(y, ŷ)                              the student's own loss, from compile
    L_D = Σ_k w_k · D_k(teacher(x), student(x))   each distillation loss D_k, weight w_k
    L   = α L_S + (1 - α) L_D                     α = student_loss_weight

and ``∂L/∂w`` for the student's weights only: the teacher is frozen (``trainable=False``)
and its outputs are targets. minired records the step on a tape
(:class:`~minired.autodiff.GradientTape`) and walks it back, as Keras' ``train_step``
does with ``tf.GradientTape``.
"""

from __future__ import annotations

import warnings

import numpy as np

from minired import ops, tree
from minired.autodiff.tape import GradientTape
from minired.autodiff.tensor import Tensor
from minired.distillation.distillation_loss import (
    apply_loss,
    convert_loss_to_function,
    sum_of_losses,
)
from minired.metrics.metric import Mean
from minired.models.model import Model
from minired.trainers.trainer import _scale_gradients


class Distiller(Model):
    """Knowledge distillation: a student model learns from the labels and from a teacher.

    The student's loss on a batch is::

        L = α · L_S(y, ŷ) + (1 - α) · Σ_k w_k · D_k

    with ``α`` = ``student_loss_weight``, ``L_S`` the loss given to :meth:`compile`, and
    ``D_k`` the distillation losses (:class:`~minired.distillation.LogitsDistillation`,
    :class:`~minired.distillation.FeatureDistillation`, or yours) with weights ``w_k``.
    The gradient ``∂L/∂w = α ∂L_S/∂w + (1 - α) Σ_k w_k ∂D_k/∂w`` reaches the student's
    weights only: the teacher is frozen when the Distiller is made.

    ``fit`` logs ``loss`` (``L``, batch-size-weighted over the epoch) and the compiled
    metrics, then ``student_loss``, ``distillation_loss`` and ``total_loss`` (``L_S``,
    ``Σ w_k D_k`` and ``L``, each a plain mean of the batches' values), as Keras does.
    ``predict`` and calling the Distiller give the student's outputs. As in Keras, the
    loss has no regularization penalties (the student's ``kernel_regularizer``...), and
    ``sample_weight`` weighs the metrics, not the loss.

    Args:
        teacher: a trained model (``mr.Model``), frozen here.
        student: the model to train (``mr.Model``); after training use ``distiller.student``.
        distillation_losses: one distillation loss, or a list of them.
        distillation_loss_weights: the weights ``w_k``, one per distillation loss (default:
            all 1; ignored when a single loss is given, as in Keras).
        student_loss_weight: ``α`` in ``[0, 1]`` (default 0.5).
        name: the model's name (default ``"distiller"``).

    Example:
        >>> teacher = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3)])
        >>> student = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3)])
        >>> distiller = Distiller(teacher, student,
        ...                       mr.distillation.LogitsDistillation(temperature=2.0))
        >>> distiller.compile(optimizer="sgd", loss=mr.losses.SparseCategoricalCrossentropy(
        ...     from_logits=True))
        >>> history = distiller.fit(np.ones((8, 4)), np.zeros(8), epochs=2, verbose=0)
        >>> sorted(history.history)
        ['distillation_loss', 'loss', 'student_loss', 'total_loss']
        >>> teacher.trainable, distiller.predict(np.ones((2, 4)), verbose=0).shape
        (False, (2, 3))
    """

    def __init__(self, teacher, student, distillation_losses, distillation_loss_weights=None,
                 student_loss_weight: float = 0.5, name: str = "distiller", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self._validate_models(teacher, student)
        self.teacher = teacher
        self.student = student

        if not isinstance(student_loss_weight, int | float):
            raise ValueError(f"student_loss_weight must be a number, got "
                             f"{type(student_loss_weight)}")
        if student_loss_weight < 0.0 or student_loss_weight > 1.0:
            raise ValueError(f"student_loss_weight must be between 0.0 and 1.0, got "
                             f"{student_loss_weight}")
        self.student_loss_weight = student_loss_weight

        if distillation_losses is None:
            raise ValueError("'distillation_losses' cannot be `None`. Provide a distillation "
                             "loss (e.g., LogitsDistillation or FeatureDistillation) or a list "
                             "of distillation losses.")
        if not isinstance(distillation_losses, list | tuple):
            self.distillation_losses = [distillation_losses]
            self.distillation_loss_weights = [1.0]
        else:
            self.distillation_losses = distillation_losses
            if distillation_loss_weights is None:
                self.distillation_loss_weights = [1.0] * len(distillation_losses)
            else:
                if len(distillation_loss_weights) != len(distillation_losses):
                    raise ValueError(
                        f"Number of distillation_loss_weights "
                        f"({len(distillation_loss_weights)}) must match number of "
                        f"distillation_losses ({len(distillation_losses)})")
                self.distillation_loss_weights = distillation_loss_weights

        for distillation_loss in self.distillation_losses:
            distillation_loss.validate_model_compatibility(teacher, student)
        self._create_multi_feature_extractors()

        self.teacher.trainable = False
        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")
        self.total_loss_tracker = Mean(name="total_loss")

    # -- checks -----------------------------------------------------------------------------
    def _validate_models(self, teacher, student) -> None:
        """Both are models, with inputs and outputs of compatible shapes and equal dtypes."""
        for role, model in (("Teacher", teacher), ("Student", student)):
            if not isinstance(model, Model):
                raise ValueError(f"{role} must be a keras.Model (an mr.Model), got "
                                 f"{type(model)}")
        for attribute, context in (("inputs", "input"), ("outputs", "output")):
            teacher_tensors = getattr(teacher, attribute, None)
            student_tensors = getattr(student, attribute, None)
            if teacher_tensors is None or student_tensors is None:
                continue
            tree.map_structure(
                lambda t, s, c=context: _assert_shapes_are_compatible(t.shape, s.shape, c),
                teacher_tensors, student_tensors)
        for attribute, context in (("inputs", "input"), ("outputs", "output")):
            teacher_tensors = getattr(teacher, attribute, None)
            student_tensors = getattr(student, attribute, None)
            if teacher_tensors is None or student_tensors is None:
                return
            tree.map_structure(
                lambda t, s, c=context: _assert_same_dtype(t.dtype, s.dtype, c),
                teacher_tensors, student_tensors)

    # -- the layers a FeatureDistillation reads ---------------------------------------------
    def _create_multi_feature_extractors(self) -> None:
        """One functional model per side that returns, in one pass, the output
        (``"final_output"``) and every layer a distillation loss names (None if none)."""
        teacher_names, student_names = [], []
        for distillation_loss in self.distillation_losses:
            name = getattr(distillation_loss, "teacher_layer_name", None)
            if name and name not in teacher_names:
                teacher_names.append(name)
            name = getattr(distillation_loss, "student_layer_name", None)
            if name and name not in student_names:
                student_names.append(name)
        self._teacher_feature_extractor = _feature_extractor(self.teacher, teacher_names)
        self._student_feature_extractor = _feature_extractor(self.student, student_names)

    def _extract_all_teacher_features(self, x) -> dict:
        if self._teacher_feature_extractor is not None:
            return self._teacher_feature_extractor(x, training=False)
        return {"final_output": self.teacher(x, training=False)}

    def _extract_all_student_features(self, x, y_pred) -> dict:
        # Keras runs the student's extractor with training=True, in evaluate too
        if self._student_feature_extractor is not None:
            return self._student_feature_extractor(x, training=True)
        return {"final_output": y_pred}

    def _get_distillation_loss_features(self, distillation_loss, all_features: dict,
                                        is_teacher: bool):
        attribute = "teacher_layer_name" if is_teacher else "student_layer_name"
        layer_name = getattr(distillation_loss, attribute) or "final_output"
        if layer_name not in all_features:
            raise ValueError(f"Layer '{layer_name}' not found in extracted features. "
                             f"Available: {list(all_features.keys())}")
        return all_features[layer_name]

    # -- compile and the loss -----------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs) -> None:
        """Choose the optimizer, the student's loss ``L_S`` (required) and the metrics.

        Args:
            optimizer: an optimizer name or object (``"adam"`` by default, as in Keras).
            loss: the student's loss on the labels: a name (a class name gives the loss
                object, any other name Keras' function), a function or a Loss object.
            metrics: a list or tuple of metrics on the student's outputs.
            **kwargs: the other arguments of :meth:`~minired.models.Model.compile`.
        """
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        self._student_loss = tree.map_structure(convert_loss_to_function, loss)
        self._student_loss_for_serialization = loss
        if metrics is not None and not isinstance(metrics, list | tuple):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None, **kwargs):
        """The student's outputs."""
        return self.student(inputs, training=training, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training: bool = True):
        """``L = α L_S + (1 - α) Σ_k w_k D_k`` on a batch (Keras' signature); updates the
        ``student_loss``, ``distillation_loss`` and ``total_loss`` trackers.

        Args:
            x: the inputs (the teacher reads them, and the student's feature extractor).
            y: the labels, or None (then ``L_S = 0``).
            y_pred: the student's outputs (computed from ``x`` when None).
            sample_weight: not used by the loss (as in Keras).
            training: the mode of the student's call when ``y_pred`` is None.
        """
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            values = tree.map_structure(apply_loss, self._student_loss, y, y_pred)
            flat = tree.flatten(values)
            student_loss = sum_of_losses(flat) if len(flat) > 1 else flat[0]
            if np.ndim(student_loss) > 0:
                student_loss = ops.mean(student_loss)

        distillation_loss = 0.0
        if self.student_loss_weight < 1.0:
            teacher_features = self._extract_all_teacher_features(x)
            student_features = self._extract_all_student_features(x, y_pred)
            for loss_fn, weight in zip(self.distillation_losses,
                                       self.distillation_loss_weights, strict=False):
                if getattr(loss_fn, "teacher_layer_name", None) is not None:
                    try:
                        teacher_output = self._get_distillation_loss_features(
                            loss_fn, teacher_features, is_teacher=True)
                        student_output = self._get_distillation_loss_features(
                            loss_fn, student_features, is_teacher=False)
                    except ValueError as error:
                        raise RuntimeError(
                            f"Failed to extract features for {type(loss_fn).__name__} "
                            f"targeting teacher layer '{loss_fn.teacher_layer_name}' and "
                            f"student layer '{loss_fn.student_layer_name}'. Original error: "
                            f"{error}") from error
                else:
                    teacher_output = teacher_features["final_output"]
                    student_output = y_pred
                loss_fn.validate_outputs(teacher_output, student_output)
                current = loss_fn.compute_loss(teacher_output, student_output)
                if np.ndim(current) > 0:
                    raise ValueError(
                        f"Distillation loss {type(loss_fn).__name__} returned a non-scalar "
                        f"loss with shape {np.shape(current)}. The compute_loss method must "
                        "return a scalar tensor.")
                distillation_loss = _add(distillation_loss, _times(weight, current))

        total_loss = _add(_times(self.student_loss_weight, student_loss),
                          _times(1.0 - self.student_loss_weight, distillation_loss))
        self.student_loss_tracker.update_state(_number(student_loss))
        self.distillation_loss_tracker.update_state(_number(distillation_loss))
        self.total_loss_tracker.update_state(_number(total_loss))
        return total_loss

    # -- the steps fit and evaluate run -----------------------------------------------------
    def train_step(self, x, y: list, sample_weight=None) -> float:
        """Forward and loss on a tape, ``∂L/∂w`` of the student's weights from it, update."""
        self._release_caches()
        self._step_training = True
        plan = self._plan()
        inputs = self._structured(x)
        with GradientTape() as tape:
            y_pred = self(inputs, training=True)
            loss = self.compute_loss(inputs, self._targets(y), y_pred, sample_weight,
                                     training=True)
        value = _number(loss)
        outputs = self._flat_outputs(tree.map_structure(_plain, y_pred))
        self._update_trackers(value, [], y, outputs, sample_weight)
        if np.isfinite(value) and plan.weights:
            for gradient, found in zip(plan.gradients, tape.gradient(loss, plan.weights),
                                       strict=True):
                np.copyto(gradient, found)
            _scale_gradients(plan.gradients, self.optimizer)
            self.optimizer.apply(plan.gradients, plan.weights)
        return value

    def test_step(self, x, y: list, sample_weight=None) -> float:
        """Forward (``training=False``) and loss; updates the running means."""
        self._release_caches()
        self._step_training = False
        inputs = self._structured(x)
        y_pred = self(inputs, training=False)
        value = _number(self.compute_loss(inputs, self._targets(y), y_pred, sample_weight,
                                          training=False))
        self._update_trackers(value, [], y, self._flat_outputs(y_pred), sample_weight)
        return value

    def loss_and_gradients(self, x, y=None, training: bool = False, sample_weight=None
                           ) -> tuple[float, list[np.ndarray]]:
        """``L`` and ``∂L/∂w`` for every weight, in ``get_weights()`` order (the frozen
        teacher's are zeros); no weight changes.

        Example:
            >>> teacher = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3)])
            >>> student = mr.Sequential([mr.Input((2,)), mr.layers.Dense(3)])
            >>> distiller = Distiller(teacher, student, mr.distillation.FeatureDistillation())
            >>> distiller.compile(loss="mse")
            >>> loss, grads = distiller.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 3)))
            >>> [bool(g.any()) for g in grads]            # teacher's kernel, bias; student's
            [False, False, True, True]
        """
        from minired.trainers.data_adapter import num_samples

        self._require_compiled("loss_and_gradients")
        x = self._prepare_x(x, "x", allow_empty=False, method="loss_and_gradients")
        y = self._prepare_y(y, num_samples(x))
        inputs = self._structured(x)
        with GradientTape() as tape:
            loss = self.compute_loss(inputs, self._targets(y), self(inputs, training=training),
                                     sample_weight, training=training)
        return _number(loss), tape.gradient(loss, self.weights)

    def _targets(self, y: list):
        """The per-output list of the training loop as ``call`` nests its outputs."""
        if y is None or all(item is None for item in y):
            return None
        return y[0] if len(y) == 1 else self._pack_outputs(list(y))

    def _metric_logits(self, index: int, metric):
        """Metrics read the student's outputs ``ŷ`` (not a softmax layer's logits)."""
        return None

    def _needs_targets(self) -> bool:
        return getattr(self, "_reading_targets", False) or super()._needs_targets()

    def _prepare_y(self, y, n_samples: int, argument: str = "y"):
        """The labels, checked when given; ``y=None`` leaves out the student's loss (Keras)."""
        if y is None:
            return [None] * len(self.output_keys)
        self._reading_targets = True
        try:
            return super()._prepare_y(y, n_samples, argument)
        finally:
            self._reading_targets = False

    def reset_metrics(self) -> None:
        """Zero every metric, the three loss trackers included."""
        super().reset_metrics()
        for tracker in (self.student_loss_tracker, self.distillation_loss_tracker,
                        self.total_loss_tracker):
            tracker.reset_state()

    # -- saving -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' config: the two models and the distillation losses serialized, the
        weights, ``student_loss_weight``, and ``name``, ``trainable``, ``dtype``."""
        from minired.saving.serialization_lib import dtype_policy, serialize_keras_object

        return {"name": self.name, "trainable": self.trainable,
                "dtype": dtype_policy(self.dtype),
                "teacher": serialize_keras_object(self.teacher),
                "student": serialize_keras_object(self.student),
                "distillation_losses": [serialize_keras_object(loss)
                                        for loss in self.distillation_losses],
                "distillation_loss_weights": self.distillation_loss_weights,
                "student_loss_weight": self.student_loss_weight}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Distiller:
        from minired.saving.serialization_lib import _deserialize, deserialize_keras_object

        config = dict(config)
        if isinstance(config.get("dtype"), dict):       # Keras' DTypePolicy: its name
            config["dtype"] = _deserialize(config["dtype"])
        for key in ("teacher", "student"):
            config[key] = deserialize_keras_object(config[key], custom_objects=custom_objects)
        config["distillation_losses"] = [
            deserialize_keras_object(loss, custom_objects=custom_objects)
            for loss in config["distillation_losses"]]
        return cls(**config)

    def compile_from_config(self, config: dict) -> None:
        """Keras does not compile a loaded Distiller (its ``compile`` is its own): it warns,
        and so does minired. Call :meth:`compile` after loading."""
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom. All subclassed Models that have `compile()` "
            "overridden should also override `get_compile_config()` and "
            "`compile_from_config(config)`. Alternatively, you can call `compile()` "
            "manually after loading.", stacklevel=2)

    def _keras_saving_entries(self):
        """The weights file as Keras lays it out: the Distiller's own (empty) group, then
        its layers (``layers/sequential``: the teacher, ``layers/sequential_1``: the student,
        then the feature extractors), each object once."""
        from minired.saving import saving_lib

        visited = {id(self)}
        yield "", self.name, [], None
        for path, child in saving_lib._keras_children(self, ""):
            if id(child) in visited:
                continue
            visited.add(id(child))
            yield from saving_lib._layer_entries(child, path, visited)


# -- helpers ----------------------------------------------------------------------------------
def _assert_shapes_are_compatible(shape1, shape2, context: str) -> None:
    if len(shape1) != len(shape2):
        raise ValueError(f"Teacher and student {context} shapes have different dimensions. "
                         f"Teacher: {shape1}, Student: {shape2}.")
    for dim1, dim2 in zip(shape1, shape2, strict=True):
        if dim1 is not None and dim2 is not None and dim1 != dim2:
            raise ValueError(f"Teacher and student {context} shapes are incompatible. "
                             f"Teacher: {shape1}, Student: {shape2}. All dimensions must "
                             "match.")


def _assert_same_dtype(teacher_dtype, student_dtype, context: str) -> None:
    if teacher_dtype != student_dtype:
        raise ValueError(f"Teacher and student {context} dtypes must match. Teacher: "
                         f"{teacher_dtype}, Student: {student_dtype}.")


def _feature_extractor(model, layer_names: list[str]):
    """A functional model on ``model``'s inputs returning ``{"final_output": its output,
    name: that layer's output...}``; None without names."""
    from minired.models.sequential import Sequential

    if not layer_names:
        return None
    if getattr(model, "inputs", None) is None:
        raise ValueError(f"Cannot create feature extractor for {model.name}. The model has "
                         "no symbolic inputs attribute.")
    final_output = model.layers[-1].output if isinstance(model, Sequential) else model.output
    outputs = {"final_output": final_output}
    for layer_name in layer_names:
        outputs[layer_name] = model.get_layer(name=layer_name).output
    return Model(inputs=model.inputs, outputs=outputs,
                 name=f"{model.name}_multi_feature_extractor")


def _plain(value):
    return value.view(np.ndarray) if isinstance(value, Tensor) else value


def _number(value) -> float:
    return float(np.asarray(_plain(value)))


def _times(factor: float, value):
    """``factor · value``; a Python number stays one (no float64 array joins a float32 sum)."""
    return factor * value if isinstance(value, float | int) else ops.multiply(factor, value)


def _add(a, b):
    if isinstance(a, float | int) and isinstance(b, float | int):
        return a + b
    return ops.add(a, b)
