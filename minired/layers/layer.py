"""The base class of every layer: the forward/backward contract, or just ``call()``.

A layer is a function ``a = f(x; w)`` that can also run backwards:

- ``forward(inputs, training=False)`` computes the outputs and keeps in ``self.cache`` what
  the backward pass will need (the inputs ``x``, the pre-activation ``z``, the dropout
  mask...);
- ``backward(grad_outputs)`` receives ``δa = ∂L/∂a``, reads ``self.cache``, **adds** this
  call's gradient of every weight to the array next to the weight (``kernel_gradient``
  beside ``kernel``), and returns ``δx = ∂L/∂x`` for the layer below.

Why *adds*: a model may call the same layer more than once (shared weights). Each call
leaves its own cache, which the model hands back before that call's backward, and the
weight gradient is the sum over the calls, ``∂L/∂W = Σ_calls ∂L/∂W|call``. The model
zeroes the gradients (:meth:`zero_gradients`) before each backward pass, and adds the
gradient of the penalties (``∂R/∂W``, :meth:`add_penalty_gradients`) once at the end.

``backward`` never changes a weight: the optimizer does that, so gradients can be checked.

A layer whose ``backward`` (and ``backward_from_z``) take ``input_gradient=False`` (Dense,
the convolutions) can skip ``δx``: the model asks so for the layers that read the model's
own inputs, a gradient no one uses in training (see :func:`takes_input_gradient`).

**Your own layer**, as in Keras, writes ``call(inputs)`` with ``mr.ops`` instead of the two
passes, and creates its weights with :meth:`Layer.add_weight` (in ``__init__`` or in
``build(input_shape)``). Its ``forward`` then runs ``call`` on a tape and its ``backward``
walks that tape (see :mod:`minired.autodiff.layer_calls`): automatic differentiation for the
code the user writes, hand-written backward passes for the built-in layers.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

import numpy as np

from minired import config, dtype_policies
from minired.autodiff import layer_calls
from minired.autodiff.layer_calls import CallArguments
from minired.constraints.attached import attach_layer_constraints
from minired.layers import layer_state
from minired.layers.activity import is_float_array, recorded_activity_penalty
from minired.layers.input_spec import assert_input_compatibility
from minired.layers.keras_tensor import KerasTensor
from minired.layers.node import Node, flatten_tensors
from minired.saving import serialization_lib
from minired.utils.naming import auto_name
from minired.variables import Variable

#: Attributes a training step sets on a layer or a model (its cache, its gradient marks, the
#: training flag of the step): :meth:`Layer.__setattr__` skips its tracking for them.
_SET_EVERY_STEP = frozenset({"cache", "_unwritten_gradients", "_step_training"})


class Layer:
    """Base layer: subclasses implement ``build`` and either ``forward`` and ``backward``
    (the built-in layers) or ``call`` (yours; the tape differentiates it).

    Args:
        name: the layer's name; a unique Keras-style name is made when ``None``.
        trainable: whether the optimizer updates this layer's weights.
        input_shape: shape of one sample, accepted on the first layer of a ``Sequential``
            with a warning, as Keras 3 does (prefer ``Input(shape)``).
        input_dim: the same for 1-D samples: ``input_dim=4`` means ``input_shape=(4,)``.
        activity_regularizer: a penalty ``R = r(a)/N`` on the layer's outputs ``a``, added
            to the loss at every call (a name such as ``"l1"``, a Regularizer or None); see
            :mod:`minired.layers.activity`.
        dtype: the layer's dtype policy (a name, a DTypePolicy or its config dict), or
            None for the global one. minired computes every layer in the global policy's
            dtype (``mr.config.dtype()``), so another dtype raises ValueError.

    Example:
        >>> layer = Layer(name="identity")
        >>> layer.name, layer.built, layer.weights
        ('identity', False, [])

        A layer of your own, as in Keras:

        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.s
        >>> Scale()(np.ones((2, 3))).shape
        (2, 3)
    """

    #: Whether the layer is called on a list of tensors (merge layers, models with several
    #: inputs) rather than on one tensor.
    _takes_several_inputs = False

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        instance.__dict__["_auto_config"] = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, name: str | None = None, trainable: bool = True, **kwargs) -> None:
        input_shape, input_dim = kwargs.pop("input_shape", None), kwargs.pop("input_dim", None)
        self._dtype_policy = check_dtype_policy(kwargs.pop("dtype", None), type(self).__name__)
        kwargs.pop("autocast", None)          # every layer computes in the global dtype
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{kwargs}.")
        self.name = name if name is not None else auto_name(type(self).__name__)
        self._init_tracking()
        from minired import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.trainable = trainable
        self.built = False
        self.input_shape: tuple | None = None
        self.cache: Any = None
        self._inbound_nodes: list[Node] = []    # one per call on symbolic tensors
        self._outbound_nodes: list[Node] = []   # the calls that read this layer's outputs
        self._input_shape_arg = _input_shape_argument(type(self).__name__, input_shape,
                                                      input_dim)

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of shape ``input_shape`` (batch dimension first)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Return the output shape for ``input_shape``; the default keeps the shape, and for
        a layer written with ``call`` runs it on a batch of one sample of zeros (changing
        no Variable) and reads the shape of the result."""
        if self._uses_call():
            return layer_calls.infer_output_shape(self, input_shape)
        return tuple(input_shape)

    # -- what a layer holds: sublayers and Variables, tracked as Keras tracks them ------------
    def _init_tracking(self) -> None:
        self.__dict__.setdefault("_tracked_layers", [])    # layers set as attributes
        self.__dict__.setdefault("_own_variables", [])     # add_weight / mr.Variable attributes
        self.__dict__.setdefault("_last_losses", [])       # add_loss values of the last call

    def __setattr__(self, name: str, value) -> None:
        """``self.dense = Dense(4)`` makes the Dense a sublayer (its weights are this layer's
        too); ``self.w = mr.Variable(...)`` makes ``w`` one of this layer's weights."""
        if name in _SET_EVERY_STEP:      # no layer, no weight: nothing to track
            object.__setattr__(self, name, value)
            return
        if "_tracked_layers" not in self.__dict__:
            self._init_tracking()
        if isinstance(value, Layer) and value is not self:
            if all(value is not known for known in self._tracked_layers):
                self._tracked_layers.append(value)
        elif isinstance(value, list | tuple | dict) and value and all(
                isinstance(v, Layer) for v in _leaves(value)):     # nested too, as Keras
            self._tracked_layers.extend(v for v in _leaves(value)
                                        if all(v is not k for k in self._tracked_layers))
        elif isinstance(value, Variable) and all(value is not v for v in self._own_variables):
            self._own_variables.append(value)
        super().__setattr__(name, value)

    # -- the two passes -----------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs) -> None:
        """Keras' wrappers, for every class of layer:

        - its ``build`` marks the layer built and records the input shape, even when a
          user's ``build`` does not call ``super().build`` (see :func:`_marks_built`);
        - a subclass of a built-in layer that overrides ``call`` (``class ShiftedDense(Dense):
          def call(self, x): return super().call(x) + 1``) runs that ``call`` on the tape,
          as any layer of your own, instead of the built-in hand-written ``forward``.
        """
        super().__init_subclass__(**kwargs)
        if inspect.isfunction(vars(cls).get("build")):
            cls.build = _marks_built(vars(cls)["build"])
        if "call" in vars(cls) and _hand_written_class(cls) is not None:
            cls.forward, cls.backward = Layer.forward, Layer.backward

    def call(self, inputs, training=None):
        """What the layer computes, written with ``mr.ops`` (your layers implement this;
        the built-in ones implement ``forward`` and ``backward`` instead).

        A built-in layer's ``call`` is its hand-written ``forward``, recorded on the tape as
        one operation whose VJP is its hand-written ``backward``: so a subclass that
        overrides ``call`` can use ``super().call(inputs)``, and the tape differentiates it.
        """
        hand_written = _hand_written_class(type(self))
        if hand_written is None:
            raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` "
                                      "method implemented.")
        return layer_calls.record_layer_call(self, inputs,
                                             layer_calls.current_training(training),
                                             hand_written)

    def _uses_call(self) -> bool:
        """Whether this layer is written with ``call`` (differentiated by the tape): your
        layers, and the subclasses of built-in layers that override ``call``."""
        return type(self).call is not Layer.call     # the built-in layers define no call

    def forward(self, inputs: np.ndarray, training: bool = False, mask=None) -> np.ndarray:
        """For a layer written with ``call``: run it on a tape (kept in ``self.cache``).

        ``mask`` (from a model, see :meth:`_takes_mask`) is passed to a ``call`` that takes
        it, as Keras fills it in; it is no input of the tape (masks get no gradient)."""
        if not self._uses_call():
            raise NotImplementedError(f"Layer {type(self).__name__} implements neither "
                                      "`call()` nor `forward()`/`backward()`.")
        if mask is not None and not (isinstance(inputs, CallArguments)
                                     and "mask" in inputs.kwargs):
            self.__dict__["call"] = functools.partial(type(self).call, self, mask=mask)
            try:
                outputs, self.cache = layer_calls.run_call(self, inputs, training)
            finally:
                del self.__dict__["call"]
        else:
            outputs, self.cache = layer_calls.run_call(self, inputs, training)
        self._last_losses = self.cache.losses
        return outputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        """For a layer written with ``call``: walk its tape back from ``δa`` (see
        :func:`~minired.autodiff.layer_calls.backward_call`)."""
        if not self._uses_call():
            raise NotImplementedError(f"Layer {type(self).__name__} implements neither "
                                      "`call()` nor `forward()`/`backward()`.")
        return layer_calls.backward_call(self, self.cache, grad_outputs)

    def passes_logits_through(self, training: bool) -> bool:
        """Whether this call returns its input unchanged, so a loss can still read the
        logits of the softmax/sigmoid before it (see :mod:`minired.keras_numerics`).

        Only an inactive :class:`~minired.layers.Dropout` does; every other layer computes
        something new.
        """
        return False

    # -- masking (Keras' masks: which time steps of a sequence are real) ---------------------
    #: A built-in layer that, as in Keras, passes a mask on sets this to True (Dense, Dropout,
    #: the activations...); None keeps Keras' default rule (see :attr:`supports_masking`).
    _supports_masking_default: bool | None = None
    #: True for a built-in layer called with several tensor arguments whose ``forward``
    #: reads the mask of each (a :class:`CallArguments` of masks, as Keras fills its
    #: ``query_mask``/``value_mask``/``key_mask``); else it gets the first argument's.
    _reads_argument_masks: bool = False

    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes a mask on (its output mask is :meth:`compute_mask`).

        Keras' default rule: True for a layer that overrides ``compute_mask``, else False;
        the built-in layers that Keras marks set it to True. A layer that does not support
        masking and receives a mask drops it, with Keras' warning. It can be set, as in
        Keras (``self.supports_masking = True`` in ``__init__``).
        """
        value = self.__dict__.get("_supports_masking")
        if value is None:
            value = type(self)._supports_masking_default
        if value is None:
            value = type(self).compute_mask is not Layer.compute_mask
        return value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs, previous_mask):
        """The mask of this call's outputs, from its inputs and their mask
        (``previous_mask``: one boolean array, a list for a merge layer, or None).

        A mask says which positions of a sequence are real: ``mask[n, t]`` is True for a
        time step to use, False for padding. Keras' default passes the mask on unchanged;
        the producers (``Embedding(mask_zero=True)``, ``Masking``) and consumers (the
        global average pooling, the merging layers) override it.

        Example:
            >>> Layer().compute_mask(np.zeros((1, 2, 3)), np.array([[True, False]]))
            array([[ True, False]])
        """
        return previous_mask

    def _may_make_mask(self) -> bool:
        """Whether this layer may give its output a mask when its input has none (decided
        once, when a model is built: a model none of whose layers may only runs the
        unmasked path). A layer of your own that overrides ``compute_mask`` may."""
        return self.supports_masking and type(self).compute_mask is not Layer.compute_mask

    def _takes_mask(self) -> bool:
        """Whether this layer's computation receives the mask: a built-in layer whose
        ``forward`` takes a ``mask`` keyword, a layer of your own whose ``call`` does.

        This is the protocol for a built-in consumer of masks: write
        ``forward(self, inputs, training=False, mask=None)``, and the models pass it the
        mask of its input (one array, a list for several inputs, or None) at every call.
        """
        method = type(self).call if self._uses_call() else type(self).forward
        return _has_parameter(method, "mask")

    def _forward_with_mask(self, inputs, training: bool, mask):
        """``forward`` given the mask of ``inputs`` (see :meth:`_takes_mask`); a layer whose
        computation does not read a mask runs as without one, except those whose Keras
        computation reads it, which refuse it (rather than compute something else)."""
        if mask is None or (isinstance(mask, list) and all(m is None for m in mask)):
            if self._takes_mask():
                return self.forward(inputs, training=training, mask=mask)
            return self.forward(inputs, training=training)
        if self._takes_mask():
            return self.forward(inputs, training=training, mask=mask)
        reader = next((klass.__name__ for klass in type(self).__mro__
                       if klass.__name__ in KERAS_MASK_READERS), None)
        if reader is not None and not (reader == "BatchNormalization" and not training):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) received a mask: Keras' "
                f"{reader} computes something else where the mask is False, which minired's "
                f"{type(self).__name__} does not implement yet. Remove the mask before it "
                "(Embedding(mask_zero=False), no Masking layer).")
        return self.forward(inputs, training=training)

    def _checked_call_mask(self, mask, inputs):
        """The ``mask`` given by hand to a call, checked by :func:`check_mask` (a layer that
        takes masks of another shape, as Keras' ConvLSTM ``(N, T)``, overrides this)."""
        return check_mask(mask, inputs, self.name)

    def _output_mask(self, inputs, previous_mask):
        """The output mask of a call that received ``previous_mask``: ``compute_mask`` when
        the layer supports masking; else None, with Keras' warning when a mask is dropped."""
        if self.supports_masking:
            return self.compute_mask(inputs, previous_mask)
        if any(m is not None for m in layer_calls.flatten(previous_mask)):
            warnings.warn(
                f"Layer '{self.name}' (of type {self.__class__.__name__}) was passed an input "
                "with a mask attached to it. However, this layer does not support masking "
                "and will therefore destroy the mask information. Downstream layers will not "
                "see the mask.", UserWarning, stacklevel=3)
        return None

    def __call__(self, inputs, *args, training: bool | None = None, **kwargs):
        """Run the layer on arrays, or add it to a graph when called on symbolic tensors.

        On arrays (one, or a list for a merge layer): build on first use, then ``forward``
        (for a layer written with ``call``, ``call`` itself; inside another layer's recorded
        ``call``, as one operation on its tape). ``training`` defaults to the one of the call
        this call runs inside, else False.
        On :class:`~minired.layers.keras_tensor.KerasTensor` (from ``mr.Input``): build on
        first use, check the shapes, record a :class:`~minired.layers.node.Node` and return
        symbolic outputs of shape ``compute_output_shape(...)``; nothing is computed.

        A layer written with ``call`` takes the arguments its ``call`` takes, as in Keras:
        ``AddTwo()(a, b)`` for ``call(self, a, b)``, ``Scale()(x, factor=3.0)`` for
        ``call(self, x, factor=2.0)`` (see :meth:`_bind_arguments`). Every tensor argument
        is an input: of the node, and of the backward pass, which gives each its gradient.
        """
        mask = None
        if "mask" in kwargs and not self._uses_call() and self._takes_mask():
            mask = kwargs.pop("mask")       # a built-in consumer given its mask by hand
        if args or kwargs:
            inputs, training = self._bind_arguments(inputs, args, kwargs, training)
        if any(isinstance(t, KerasTensor) for t in flatten_tensors(inputs)):
            if mask is not None:
                raise ValueError(f"Layer {self.name!r}: in a model, a mask comes with the "
                                 "tensors (from Embedding(mask_zero=True) or Masking), not "
                                 "as the `mask` argument of a built-in layer.")
            return self._symbolic_call(inputs)
        training = layer_calls.current_training(training)
        inputs = map_arrays(self._cast_input, inputs)
        shapes = map_arrays(lambda a: (None, *a.shape[1:]), inputs)
        self._build_once(shapes.first if isinstance(shapes, CallArguments) else shapes,
                         inputs.first if isinstance(inputs, CallArguments) else inputs)
        outputs = self._call_on_arrays(inputs, training, mask)
        if self.activity_regularizer is not None:
            self._add_activity_penalties(outputs)
        return outputs

    def _call_on_arrays(self, inputs, training: bool, mask):
        """:meth:`__call__` on arrays, once built: ``forward``, or inside another layer's
        recorded ``call`` one operation on its tape (a layer written with ``call``: its own
        operations on that tape)."""
        if mask is not None:
            mask = self._checked_call_mask(mask, inputs)
            if layer_calls.inside_recording():
                self.__dict__["forward"] = functools.partial(type(self).forward, self,
                                                             mask=mask)
                try:
                    return layer_calls.record_layer_call(self, inputs, training)
                finally:
                    del self.__dict__["forward"]
            return self.forward(inputs, training=training, mask=mask)
        if layer_calls.inside_recording():
            if self._uses_call():            # its operations go on the same tape
                start = len(layer_calls.active_tape().losses)
                outputs = layer_calls.call_with_training(self, inputs, training)
                self._last_losses = layer_calls.active_tape().losses[start:]
                return outputs
            return layer_calls.record_layer_call(self, inputs, training)
        return self.forward(inputs, training=training)

    def _add_activity_penalties(self, outputs) -> None:
        """Add ``R = r(a)/N`` of the :attr:`activity_regularizer` for each float output ``a``
        of this call to the losses: the layer's own (:attr:`losses`) and, inside a recorded
        call, the tape's, recorded with its backward (see :mod:`minired.layers.activity`)."""
        penalties = [recorded_activity_penalty(self.activity_regularizer, a)
                     for a in (outputs if isinstance(outputs, list | tuple) else [outputs])
                     if is_float_array(a)]
        if layer_calls.inside_recording():
            layer_calls.active_tape().losses.extend(penalties)
        # a built-in layer's losses are this call's penalties; a layer written with `call`
        # keeps the losses its call added first
        self._last_losses = [*(self._last_losses if self._uses_call() else []), *penalties]

    def _bind_arguments(self, inputs, args: tuple, kwargs: dict, training):
        """``layer(inputs, *args, **kwargs)`` as Keras' ``CallSpec`` reads it: returns what
        to call the layer on (``inputs``, or :class:`CallArguments` when ``call`` takes more)
        and ``training``.

        Only tensors may be positional (Keras' rule: ``Scale()(x, 3.0)`` is an error, write
        ``factor=3.0``). ``training`` given by name or position is the layer's (passed to
        ``call`` when it takes it), and ``mask=None`` is dropped when ``call`` has no
        ``mask``. A built-in layer takes its inputs only (and ``mask=`` when its
        ``forward`` takes it, see :meth:`_takes_mask`: :meth:`__call__` reads it first).
        """
        for value in layer_calls.flatten(list(args)):
            if not (value is None or layer_calls.is_tensor(value)):
                raise ValueError("Only input tensors may be passed as positional arguments. "
                                 "The following argument value should be passed as a "
                                 f"keyword argument: {value!r} (of type {type(value)})")
        parameters = inspect.signature(type(self).call).parameters
        if kwargs.get("mask", 0) is None and "mask" not in parameters:
            kwargs = {key: value for key, value in kwargs.items() if key != "mask"}
        if not self._uses_call():
            if args or kwargs:
                raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) is called on "
                                "one input (a tensor, or a list of tensors for a merge "
                                f"layer), got {len(args)} more positional argument(s) and "
                                f"the keyword arguments {sorted(kwargs)}.")
            return inputs, training
        try:
            bound = inspect.signature(type(self).call).bind(self, inputs, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"Layer {self.name!r}: {type(self).__name__}.call"
                            f"{inspect.signature(type(self).call)} cannot take these "
                            f"arguments: {error}.") from None
        args = list(args)       # kept as given (a functional config writes them so)
        if "training" in parameters and "training" in bound.arguments:
            position = list(parameters).index("training") - 2     # after self and inputs
            given = args.pop(position) if 0 <= position < len(args) else None
            training = given if training is None else training
        if not args and not kwargs:
            return inputs, training
        return CallArguments((inputs, *args), kwargs), training

    #: What the first input must be (a :class:`~minired.layers.input_spec.InputSpec`, or a
    #: list of them): a layer of yours may set it; None checks nothing.
    input_spec = None

    def _build_once(self, shapes, first_input=None) -> None:
        """Build on the first call (Keras' ``_maybe_build``), else check the shapes. The
        first input is checked against ``input_spec`` before ``build`` and again after it
        (which may set it), as in Keras."""
        self._assert_input_spec(first_input)
        if not self.built:
            self.build(shapes)
            self.built = True          # a user's build need not call super().build
            self._assert_input_spec(first_input)
        else:
            self._check_call_shape(shapes)

    def _assert_input_spec(self, first_input) -> None:
        if first_input is not None and self.input_spec:
            assert_input_compatibility(self.input_spec, first_input, self.name)

    #: Whether the layer takes text (TextVectorization, StringLookup): any other layer
    #: refuses an array of strings instead of failing inside NumPy.
    _accepts_strings = False

    def _cast_input(self, array) -> np.ndarray:
        if not isinstance(array, np.ndarray):
            array = np.asarray(array)
        if array.dtype.kind in "USO" and not self._accepts_strings:
            raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) received an array "
                            f"of strings ({array.dtype}); it computes on numbers. Turn text "
                            "into numbers first, with a TextVectorization or StringLookup "
                            "layer before it.")
        if np.issubdtype(array.dtype, np.floating) and array.dtype != self._float_dtype():
            # Keras autocasts floating inputs to the layer's dtype (float64 -> float32).
            if layer_calls.inside_recording():
                from minired import ops

                return ops.cast(array, self._float_dtype())
            array = array.astype(self._float_dtype())
        return array

    def _symbolic_call(self, inputs):
        """``layer(tensor)`` in a functional model: build, check, record the node."""
        if not all(isinstance(t, KerasTensor) for t in flatten_tensors(inputs)):
            raise TypeError(f"Layer {self.name!r} was called on a mix of symbolic tensors and "
                            "arrays: call it on the outputs of mr.Input and of other layers "
                            "only.")
        if isinstance(inputs, list | tuple | dict) and not (self._takes_several_inputs
                                                            or self._uses_call()):
            count = len(flatten_tensors(inputs))
            raise ValueError(f"Layer {self.name!r} expects 1 input, but it received {count} "
                             f"input tensor{'s' * (count != 1)} in a {type(inputs).__name__}: "
                             "call it on one tensor, e.g. layer(x).")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        shapes = map_arrays(lambda t: t.shape, inputs)
        if isinstance(inputs, CallArguments):
            self._build_once(shapes.first, inputs.first)
            output_shape = self._output_shape_of(inputs)
        else:
            self._build_once(shapes, inputs)
            output_shape = self.compute_output_shape(shapes)
        dtype = str(self._float_dtype())
        if isinstance(output_shape, list):      # several outputs (a model used as a layer)
            outputs = [KerasTensor(s, dtype) for s in output_shape]
        else:
            outputs = KerasTensor(output_shape, dtype)
        Node(self, inputs, outputs)
        return outputs

    def _output_shape_of(self, arguments: CallArguments):
        """The output shape of a call with more arguments than its inputs (symbolic
        tensors): ``compute_output_shape`` of the first argument's shape when the layer
        defines it (as Keras does for a one-argument ``compute_output_shape``), else the
        shape of ``call`` run on zeros."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            return self.compute_output_shape(map_arrays(lambda t: t.shape, arguments.first))
        return layer_calls.infer_output_shape(self, arguments)

    def _check_call_shape(self, input_shape) -> None:
        """Refuse inputs this built layer cannot take (Keras' ``input_spec``); the base layer
        takes any shape, layers with weights check the axes their weights depend on."""

    @property
    def input(self):
        """The symbolic input of the layer's first call (a list for several inputs)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self):
        """The symbolic output of the layer's first call, e.g. for feature extraction:
        ``mr.Model(model.inputs, model.get_layer("hidden").output)``."""
        return self._node_attribute("outputs", "output")

    def _node_attribute(self, attribute: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name!r} has never been called on a symbolic "
                                 f"tensor and thus has no defined {what}.")
        values = getattr(self._inbound_nodes[0], attribute)
        return values[0] if len(values) == 1 else values

    # -- weights ------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weight arrays (the arrays themselves, not copies), in Keras order."""
        return [w for w, _, _ in self._weight_triples()]

    @property
    def gradients(self) -> list[np.ndarray]:
        """∂L/∂w for each array of :attr:`weights`, in the same order, summed since the last
        :meth:`zero_gradients`."""
        return [g for _, g, _ in self._weight_triples()]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights the optimizer updates: none when ``trainable`` is False, else every
        weight but the non-trainable Variables (counters, moving means)."""
        return [w for w, _ in self._trainable_pairs()]

    @property
    def trainable_gradients(self) -> list[np.ndarray]:
        """The gradients of :attr:`trainable_weights`, in the same order."""
        return [g for _, g in self._trainable_pairs()]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The weights the optimizer leaves alone."""
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    # Keras 3's names for the state: see minired.layers.layer_state
    variables = property(layer_state.variables)
    trainable_variables = property(layer_state.trainable_variables)
    non_trainable_variables = property(layer_state.non_trainable_variables)
    metrics_variables = property(layer_state.metrics_variables)
    path = property(layer_state.path)
    add_variable = layer_state.add_variable
    save_own_variables = layer_state.save_own_variables
    load_own_variables = layer_state.load_own_variables
    compute_output_spec = layer_state.compute_output_spec
    input_dtype = property(layer_state.input_dtype)

    def _trainable_pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if not self.trainable:
            return []
        if not self._tracked_layers:          # a built-in layer, or one without sublayers
            return [(w, g) for w, g, _ in self._weight_triples()
                    if getattr(w, "trainable", True)]
        in_sublayers = {id(t[0]) for layer in self._tracked_layers
                        for t in layer._weight_triples()}
        own = [(w, g) for w, g, _ in self._weight_triples()
               if id(w) not in in_sublayers and getattr(w, "trainable", True)]
        return _unique_by_id(own + [pair for layer in self._tracked_layers
                                    for pair in layer._trainable_pairs()])

    @property
    def losses(self) -> list[float]:
        """The values ``call`` passed to :meth:`add_loss` in the last call (this layer's
        and its sublayers'), then the penalties ``R(w)`` of the regularized weights."""
        return [*self._call_losses(), *penalties_of(self._weight_triples())]

    @property
    def metrics(self) -> list:
        """The metric objects this layer holds as attributes (``self.acc =
        mr.metrics.BinaryAccuracy()``), then its sublayers', as Keras' ``Layer.metrics``.

        A metric updated in ``call`` reaches the logs of the model that calls the layer
        under its own name (see :meth:`~minired.trainers.trainer.Trainer.metrics`).
        """
        found = held_metrics(self)
        for layer in self._tracked_layers:
            found.extend(layer.metrics)
        return found

    def _call_losses(self) -> list:
        """The values ``call`` passed to :meth:`add_loss` in the last call: the start of
        :attr:`losses`, before the penalties."""
        return self._last_losses

    def _weight_triples(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        """``(weight, its gradient, its regularizer or None)`` for every weight array.

        The built-in layers list their arrays; the base class lists the Variables made by
        :meth:`add_weight` (trainable ones first, as Keras), then the sublayers' weights.
        """
        own = sorted(self._own_variables, key=lambda v: not v.trainable)
        triples = [(v, v.gradient, v.regularizer) for v in own]
        triples += [t for layer in self._tracked_layers for t in layer._weight_triples()]
        return _unique_by_id(triples)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None,
                   aggregation: str = "none", overwrite_with_gradient: bool = False,
                   name: str | None = None):
        """Create a weight of this layer: a :class:`~minired.variables.Variable`.

        Args:
            shape: its shape (``()`` when None).
            initializer: a Keras name, an initializer or a function ``f(shape, dtype)``;
                ``"glorot_uniform"`` for floats and ``"zeros"`` otherwise, as Keras.
            dtype: ``floatx`` when None.
            trainable: whether the optimizer updates it (False for a counter or a mean).
            regularizer: a penalty ``R(w)`` added to the loss (a name or a Regularizer).
            constraint: a projection ``w ← c(w)`` the optimizer applies after each update
                (a name such as ``"non_neg"``, a Constraint or a function).
            name: its name.

        Example:
            >>> layer = Layer()
            >>> w = layer.add_weight(shape=(2, 3), initializer="ones", name="w")
            >>> layer.weights[0] is w, w.shape
            (True, (2, 3))
        """
        from minired import constraints, regularizers
        from minired.variables import Variable

        if overwrite_with_gradient:
            raise ValueError(f"{self.name}.add_weight: `overwrite_with_gradient=True` is not "
                             "implemented in minired.")
        dtype = np.dtype(dtype or self._float_dtype())
        if initializer is None:
            initializer = "glorot_uniform" if np.issubdtype(dtype, np.floating) else "zeros"
        variable = Variable(initializer, shape=() if shape is None else shape, dtype=dtype,
                            trainable=trainable, name=name,
                            regularizer=regularizers.get(regularizer),
                            constraint=constraints.get(constraint))
        if all(variable is not v for v in self._own_variables):
            self._own_variables.append(variable)
        return variable

    def add_loss(self, loss) -> None:
        """Add ``loss`` (a scalar computed in ``call``, e.g. an activity penalty) to the
        model's loss: ``L = loss(y, ŷ) + Σ added losses``; its gradient flows back through
        the tape. It shows in :attr:`losses` until the next call."""
        from minired.autodiff.tape import active_tape

        tape = active_tape()
        if tape is not None:
            tape.losses.append(loss)
        else:
            self._last_losses = [*self._last_losses, loss]

    #: ``(weight attribute, constraint attribute)`` pairs of a built-in layer, such as
    #: ``(("kernel", "kernel_constraint"),)``: after ``build`` each constraint is attached to
    #: its array, for the optimizer to apply after each update (see minired.constraints).
    _constrained_weights: tuple[tuple[str, str], ...] = ()

    #: Set by the built-in layers whose ``backward`` adds to every gradient array with
    #: :meth:`_add_to_gradient` (Dense, the convolutions): their :meth:`zero_gradients`
    #: marks the arrays instead of filling them.
    _writes_gradients = False

    def zero_gradients(self) -> None:
        """Set every ∂L/∂w to 0: the start of a backward pass.

        A layer that sets ``_writes_gradients`` skips the fill: its arrays are only marked
        as zero, and the first contribution of the backward pass is *written* into them
        (see :meth:`_add_to_gradient`). Anyone who reads the arrays gets them through
        :meth:`_weight_triples`, which first fills with zeros those that no backward wrote.
        """
        if self._writes_gradients:
            self._unwritten_gradients = self.gradients
            return
        for gradient in self.gradients:
            gradient.fill(0)

    def _add_to_gradient(self, gradient: np.ndarray, compute, *args, **kwargs) -> None:
        """``gradient += compute(*args, **kwargs)``, one call's part of ``∂L/∂w``.

        When ``gradient`` is still marked by :meth:`zero_gradients`, the part is written
        into it instead (``compute(..., out=gradient)``: ``0 + v = v``, the same numbers
        without a pass of zeros and a temporary as large as the weights). A layer called
        twice in one forward pass writes with the first backward and adds with the second.

        Example: ``self._add_to_gradient(self.kernel_gradient, np.matmul, x.T, grad_z)``.
        """
        unwritten = self.__dict__.get("_unwritten_gradients")
        for i, marked in enumerate(unwritten or ()):
            if marked is gradient:
                del unwritten[i]
                compute(*args, out=gradient, **kwargs)
                return
        gradient += compute(*args, **kwargs)

    def _fill_unwritten_gradients(self) -> None:
        """Fill with zeros the arrays :meth:`zero_gradients` marked and no backward wrote
        (a layer the backward pass did not reach), here and in the sublayers. Called first
        by ``_weight_triples`` of the layers that set ``_writes_gradients`` (through
        :meth:`_kernel_and_bias_triples`), so a marked array is never read; and by a
        training step, which reads the gradients from its plan
        (:class:`~minired.trainers.step_plan.StepPlan`)."""
        unwritten = self.__dict__.get("_unwritten_gradients")
        while unwritten:
            unwritten.pop().fill(0)
        for layer in self._tracked_layers:
            layer._fill_unwritten_gradients()

    def __getstate__(self) -> dict:
        """What a copy (``copy.deepcopy``, ``pickle``) takes: everything but the last forward
        pass' ``cache``, which serves only that batch's backward pass (and a call of your
        own keeps its tape there, whose functions pickle cannot write)."""
        state = self.__dict__.copy()
        if state.get("cache") is not None:
            state["cache"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        """A copy's arrays are new arrays: attach the layer's constraints to them."""
        self.__dict__.update(state)
        attach_layer_constraints(self)

    def _release_caches(self) -> None:
        """Let go of what the last forward pass kept for its backward (``cache``), here and
        in the sublayers. A model's training, test and predict steps call it first: nothing
        reads the last batch's arrays any more, and once freed their memory (still in the
        CPU's cache) holds the next batch's, instead of new memory (measured, each of two
        models in both roles: ``predict`` 2% faster, ``evaluate`` 1-4%, ``fit`` 5-9% on a
        convnet and nothing on an MLP)."""
        self.cache = None
        for layer in self._tracked_layers:
            layer._release_caches()

    def _kernel_and_bias_triples(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        """``_weight_triples`` of a layer with a ``kernel`` and, with ``use_bias``, a
        ``bias`` (Dense, the convolutions), each with its ``*_gradient`` and
        ``*_regularizer``; the gradients no backward wrote are filled with zeros first."""
        if not self.built:
            return []
        self._fill_unwritten_gradients()      # see zero_gradients
        triples = [(self.kernel, self.kernel_gradient, self.kernel_regularizer)]
        if self.use_bias:
            triples.append((self.bias, self.bias_gradient, self.bias_regularizer))
        if self._own_variables:     # a subclass's own mr.Variable: trainable ones first
            own = [(v, v.gradient, v.regularizer) for v in self._own_variables]
            triples = ([t for t in own if t[0].trainable] + triples
                       + [t for t in own if not t[0].trainable])
        return triples

    def add_penalty_gradients(self) -> None:
        """``∂L/∂w += ∂R/∂w`` for each regularized weight: once per backward pass, however
        many times the layer was called (the penalty is in the loss once)."""
        add_penalty_gradients_of(self._weight_triples())

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights (plain arrays)."""
        return [np.array(w) for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Copy ``weights`` into the layer's arrays in place (the optimizer keeps its state)."""
        assign_weights(self.weights, weights, f"set_weights on layer {self.name!r}")

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def _float_dtype(self) -> np.dtype:
        return config.dtype()

    # -- dtypes (Keras' dtype policy: see minired.dtype_policies) -----------------------------
    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's DTypePolicy: the one given as ``dtype``, else the global one."""
        policy = self.__dict__.get("_dtype_policy")
        return dtype_policies.get(None) if policy is None else policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        self._dtype_policy = check_dtype_policy(value, type(self).__name__)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights, as a name (Keras' alias of ``variable_dtype``)."""
        return self.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's inputs, outputs and arithmetic."""
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self.dtype_policy.variable_dtype

    # -- saving (Keras' config format: see minired.saving) --------------------------------
    #: Whether the config records the shape the layer was built with (Keras' build_config).
    #: None: when the class defines its own ``build``, as Keras decides.
    _keras_build_config: bool | None = None

    def get_config(self) -> dict:
        """The constructor arguments, with Keras' keys: ``Dense.from_config(d.get_config())``
        makes a layer like ``d`` (new weights). ``dtype`` is Keras' dtype policy.

        A layer of your own that does not override it gets, as in Keras, the arguments its
        constructor was called with, when they are plain values (str, int, float, bool,
        None, and lists or dicts of them).
        """
        config = {"name": self.name}
        auto = self.__dict__.get("_auto_config")
        if type(self).get_config is Layer.get_config and auto is not None:
            config.update(auto)
            if not _init_takes(type(self), "name"):
                config.pop("name")
        config = {**config, "trainable": self.trainable,
                  "dtype": dtype_policies.serialize(self.dtype_policy)}
        if self.activity_regularizer is not None:       # as Keras: only when there is one
            config["activity_regularizer"] = serialization_lib.serialize_keras_object(
                self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        """Create a layer from :meth:`get_config`'s output (minired's or Keras')."""
        config = serialization_lib.strip_keras_only(cls, "layers", dict(config))
        policy = check_dtype_policy(config.pop("dtype", None), cls.__name__)
        config = {key: serialization_lib._deserialize(value)
                  if serialization_lib.is_serialized_object(value) else value
                  for key, value in config.items()}
        trainable = config.get("trainable", True)
        if not _init_takes(cls, "trainable"):     # a user's __init__(self, units) only
            config.pop("trainable", None)
        layer = cls(**config)
        layer.trainable = trainable
        if policy is not None:              # kept as given, so get_config writes it back
            layer._dtype_policy = policy
        return layer

    def get_build_config(self) -> dict | None:
        """``{"input_shape": ...}``, the shape the layer was built with, or None."""
        writes = self._keras_build_config
        if writes is None:      # Keras: a layer it does not build at init (yours: always)
            writes = (type(self).build is not Layer.build
                      or serialization_lib.builtin_base(type(self)) is Layer)
        if not writes or not self.built or self.input_shape is None:
            return None
        return {"input_shape": self.input_shape}

    def build_from_config(self, config: dict) -> None:
        """Build (create the weights) from :meth:`get_build_config`'s output."""
        shape = serialization_lib.shape_from_json(config.get("input_shape"))
        if shape is not None:
            self.build(shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _marks_built(build):
    """``build`` followed by what Keras' ``build_wrapper`` does: the layer is built, and
    remembers the shape it was built with (for ``get_build_config``), whether ``build``
    was called by the first call or by hand, and whether it called ``super().build``."""
    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        unbuilt = layer_state.unbuilt_sublayers(self)     # what this build may build
        build(self, *args, **kwargs)
        layer_state.stamp_paths(self, unbuilt)           # Keras' paths: "model/layer"
        attach_layer_constraints(self)       # kernel_constraint... to the new arrays
        shapes = [*args, *kwargs.values()]
        if len(shapes) == 1 and shapes[0] is not None and vars(self).get("input_shape") is None:
            self.input_shape = tuple(shapes[0])        # as Layer.build, had it been called
        self.built = True
    return build_and_mark


def _hand_written_class(cls: type) -> type | None:
    """The class whose hand-written ``forward``/``backward`` a layer of class ``cls`` has
    (``Dense`` for ``Dense`` and its subclasses), or None for a layer written with ``call``
    only (and for the models, whose ``forward`` runs their graph or their ``call``)."""
    for klass in cls.__mro__:
        if klass is Layer or getattr(klass, "_forward_runs_call", False):
            return None
        forward = vars(klass).get("forward")
        if forward is not None and forward is not Layer.forward:
            return klass
    return None


def check_dtype_policy(policy, owner: str,
                       expected: str | None = None) -> dtype_policies.DTypePolicy | None:
    """The DTypePolicy that a layer's ``dtype`` (a name, a policy, its config dict or None)
    names, refused unless it computes in ``expected``, by default the global policy's dtype
    ``mr.config.dtype()``: minired runs every layer in that one dtype (so a float64 model or
    file needs ``mr.config.set_dtype_policy("float64")`` first), and has no mixed precision."""
    if policy is None:
        return None
    try:
        policy = dtype_policies.get(policy)
    except ValueError as error:
        raise ValueError(f"{owner}: {error}") from None
    policies = policy.policies() if isinstance(policy, dtype_policies.DTypePolicyMap) \
        else [policy]
    setters = ("set_floatx",) if expected else ("set_dtype_policy", "set_floatx")
    expected = expected or str(config.dtype())
    for each in policies:
        if each.compute_dtype != expected:
            calls = " or ".join(f"mr.config.{setter}({each.compute_dtype!r})"
                                for setter in setters)
            fix = (f" Call {calls} before building or loading the model."
                   if each.compute_dtype in ("float32", "float64") else "")
            raise ValueError(f"{owner}: the dtype policy {each.name!r} computes in "
                             f"{each.compute_dtype!r}, but minired computes {owner} in "
                             f"{expected!r} (one dtype for the whole model).{fix}")
    return policy


def _input_shape_argument(cls_name: str, input_shape, input_dim) -> tuple | None:
    """Keras 3 still accepts ``input_shape``/``input_dim`` on a layer, with a warning."""
    if input_dim is not None:
        input_shape = (input_dim,)
    if input_shape is None:
        return None
    if isinstance(input_shape, int | np.integer):
        input_shape = (input_shape,)
    if not isinstance(input_shape, tuple | list) or not all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0
            for d in input_shape):
        raise ValueError(f"{cls_name}: `input_shape` must be a tuple of positive ints "
                         f"(one sample's shape, e.g. (4,)), got {input_shape!r}.")
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
        "Sequential models, prefer using an `Input(shape)` object as the first layer in "
        "the model instead.", UserWarning, stacklevel=4)
    return tuple(int(d) for d in input_shape)


def _auto_config(cls: type, args: tuple, kwargs: dict) -> dict | None:
    """The arguments of ``cls(*args, **kwargs)`` by name, defaults included, when they are
    all plain values (Keras' automatic config of a layer without ``get_config``)."""
    if cls.__init__ is Layer.__init__:
        return None
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None                   # __init__ will raise it, with Python's message
    bound.apply_defaults()
    parameters = inspect.signature(cls.__init__).parameters
    arguments = dict(bound.arguments)
    for name, parameter in parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            arguments |= arguments.pop(name, {})
        elif parameter.kind is parameter.VAR_POSITIONAL and arguments.pop(name, ()):
            return None
    arguments.pop(next(iter(parameters)), None)          # self
    arguments.pop("name", None)
    return arguments if _plain(arguments) else None


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, str | int | float | bool | type(None))


def _init_takes(cls: type, argument: str) -> bool:
    parameters = inspect.signature(cls.__init__).parameters
    return argument in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def takes_input_gradient(cls: type) -> bool:
    """Whether ``cls.backward`` (and ``backward_from_z``, if any) accept
    ``input_gradient=False`` to skip ``δx`` (a subclass overriding them may not)."""
    methods = [cls.backward] + ([cls.backward_from_z] if hasattr(cls, "backward_from_z")
                                else [])
    return all(_has_input_gradient(method) for method in methods)


#: Keras layers whose computation reads the mask (not only pass it on): a minired layer of
#: one of these classes whose ``forward`` takes no ``mask`` refuses a mask (see
#: :meth:`Layer._forward_with_mask`) rather than compute what Keras does without it.
KERAS_MASK_READERS = frozenset({
    "Softmax", "BatchNormalization", "LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional",
    "TimeDistributed", "ConvLSTM1D", "ConvLSTM2D", "Attention", "AdditiveAttention",
    "MultiHeadAttention", "GroupedQueryAttention", "Lambda",
    "Maximum", "Minimum", "Multiply"})     # Keras' merge of masked values (not only the mask)


def check_mask(mask, inputs, owner: str):
    """``mask`` as boolean arrays, checked against ``inputs`` (one array, or a list with
    one mask or None per input): each mask's shape must be the start of its input's shape,
    ``(N, T)`` for inputs ``(N, T)`` or ``(N, T, C)``; else a ValueError."""
    if isinstance(inputs, CallArguments):
        inputs = inputs.first
    if isinstance(inputs, list | tuple):
        if not isinstance(mask, list | tuple) or len(mask) != len(inputs):
            raise ValueError(f"Layer {owner!r}: `mask` must be a list with one mask (or None) "
                             f"per input ({len(inputs)}), got {type(mask).__name__}.")
        return [check_mask(m, x, owner) for m, x in zip(mask, inputs, strict=True)]
    if mask is None:
        return None
    mask = np.asarray(mask)
    shape = np.shape(inputs)
    if mask.ndim not in (len(shape) - 1, len(shape)) or mask.ndim == 0 or \
            mask.shape != tuple(shape[:mask.ndim]):
        raise ValueError(f"Layer {owner!r}: `mask` must have the shape of the inputs without "
                         f"their last axis, {tuple(shape[:-1])} (or {tuple(shape)}), got "
                         f"{mask.shape}.")
    return mask.astype(bool, copy=False)


@functools.cache
def _has_parameter(method, name: str) -> bool:
    """Whether ``method`` takes an argument ``name`` (cached per function object)."""
    return name in inspect.signature(method).parameters


@functools.cache
def _has_input_gradient(method) -> bool:
    """Cached per function object, so a method replaced later is inspected anew."""
    return "input_gradient" in inspect.signature(method).parameters


def _leaves(container) -> list:
    """The items of a list or tuple, the values of a dict (in insertion order), those of a
    nested container in its place: what Keras' tracker finds in an attribute."""
    items = container.values() if isinstance(container, dict) else container
    return [leaf for item in items for leaf in (
        _leaves(item) if isinstance(item, list | tuple | dict) else [item])]


def _unique_by_id(items: list[tuple]) -> list[tuple]:
    """Keep the first of the tuples whose first element is the same array (a shared
    sublayer's weights count once)."""
    seen, unique = set(), []
    for item in items:
        if id(item[0]) not in seen:
            seen.add(id(item[0]))
            unique.append(item)
    return unique


def held_metrics(owner, skip_attributes: tuple[str, ...] = ()) -> list:
    """The metrics ``owner`` holds as attributes (alone, or in a list, tuple or dict of
    metrics only), in the order the attributes were first set, each once; the attributes
    named in ``skip_attributes`` are not read.

    A container is read only up to its first item that is no metric: a vocabulary of
    50,000 words costs one look, not 50,000, at each reset of the metrics.

    Example:
        >>> layer = Layer()
        >>> layer.acc = mr.metrics.BinaryAccuracy(name="acc")
        >>> [metric.name for metric in held_metrics(layer)]
        ['acc']
    """
    from minired.metrics.metric import Metric

    found: list = []
    for attribute, value in vars(owner).items():
        if attribute in skip_attributes:
            continue
        items = (value.values() if isinstance(value, dict)
                 else value if isinstance(value, list | tuple) else [value])
        if not items or not all(isinstance(item, Metric) for item in items):
            continue
        for item in items:
            if all(item is not known for known in found):
                found.append(item)
    return found


def penalties_of(triples: list[tuple]) -> list:
    """``R(w)`` for each ``(w, ∂L/∂w, R)`` of ``triples`` that has a regularizer, in order:
    the penalty terms of a loss."""
    return [regularizer(w) for w, _, regularizer in triples if regularizer is not None]


def add_penalty_gradients_of(triples: list[tuple]) -> None:
    """``∂L/∂w += ∂R/∂w`` for each ``(w, ∂L/∂w, R)`` of ``triples`` that has a regularizer."""
    for weight, gradient, regularizer in triples:
        if regularizer is not None:
            gradient += regularizer.gradient(weight)


def map_arrays(function, structure):
    """Apply ``function`` to each leaf of a value, a list/tuple (as a list) or a dict; to
    each tensor of :class:`CallArguments`."""
    if isinstance(structure, CallArguments):
        return structure.map(function)
    if isinstance(structure, dict):
        return {key: map_arrays(function, value) for key, value in structure.items()}
    if isinstance(structure, list | tuple):
        return [map_arrays(function, item) for item in structure]
    return function(structure)


def assign_weights(targets: list[np.ndarray], values, caller: str) -> None:
    """Check ``values`` against ``targets`` (count, then every shape), then copy them in place.

    Nothing is written unless everything fits, so a bad call leaves the weights as they were.
    """
    if not isinstance(values, list | tuple) or len(values) != len(targets):
        got = len(values) if isinstance(values, list | tuple) else type(values).__name__
        raise ValueError(
            f"{caller}: `weights` must be a list of {len(targets)} arrays "
            f"(shapes {[t.shape for t in targets]}), got {got}."
        )
    values = [np.asarray(v) for v in values]
    for i, (target, value) in enumerate(zip(targets, values, strict=True)):
        if value.shape != target.shape:
            raise ValueError(
                f"{caller}: weight {i} must have shape {target.shape}, got {value.shape}."
            )
    for target, value in zip(targets, values, strict=True):
        target[...] = value
