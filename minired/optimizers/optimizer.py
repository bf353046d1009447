"""The base class of every optimizer: what happens around the update rule.

Notation used by all optimizers: ``w`` a weight array, ``g = ∂L/∂w`` its gradient,
``lr`` the learning rate, ``t`` the step number (``iterations + 1``).

One call to :meth:`Optimizer.apply_gradients` does, in this order (Keras'
``BaseOptimizer.apply`` and ``_backend_apply_gradients``)::

    1. drop pairs whose gradient is None (with a warning)
    2. unscale                         g <- g / loss_scale_factor            (if set)
    3. gradient accumulation           (if gradient_accumulation_steps = k is set)
                                       not the k-th call: acc <- acc + g, skip to 7;
                                       the k-th call: g <- (g + acc) / k, acc <- 0
    4. clip the gradients              (clipnorm | global_clipnorm | clipvalue)
    5. decoupled weight decay          w <- w - w*wd*lr      (every variable, biases too)
    6. update_step(g, w, lr)           the optimizer's own rule, variable by variable
    7. moving average (use_ema)        avg <- m*avg + (1-m)*w   (m = 0 at the first step),
                                       and w <- avg every ema_overwrite_frequency steps
    8. constraints                     w <- c(w) for each variable with a constraint c
    9. iterations <- iterations + 1

The step counter :attr:`Optimizer.iterations` (int64) and a float learning rate are 0-d
:class:`minired.Variable` objects, as in Keras: ``opt.learning_rate.assign(0.01)``,
``float(opt.learning_rate)``, ``int(opt.iterations)``. A step reads each of them once, as a
plain NumPy scalar, so the arithmetic never goes through the Variable class.

Variables are the model's own NumPy arrays: every update writes into them in place
(``w -= ...``), so the model sees the new values without copying anything back.

What makes a step fast, without changing a single number:

- the checks (float arrays, one gradient of the right shape per variable, the same arrays
  as at build) run in full on the first step; later steps that pass the built arrays in
  the built order only compare identities and shapes (:meth:`Optimizer._is_built_step`);
- the scalars of a step (the learning rate cast to the variable's dtype, Adam's bias
  correction...) are computed once per step and dtype, not once per variable
  (:meth:`Optimizer._scalars`);
- the update rules write their intermediate results with NumPy's ``out=`` into scratch
  arrays allocated at build (:meth:`Optimizer._create_scratch`), in Keras' order of
  operations, instead of making a new temporary array for each operation. An in-place
  ``np.multiply(a, b, out=s)`` rounds exactly as ``s = a * b``, so the results are the same;
- large arrays are updated block by block in the CPU's cache (:func:`cache_blocks`); the
  blocks are cut once and kept while the same arrays come back, as in ``fit``
  (:meth:`Optimizer._cache_blocks`);
- when the update rule treats each element on its own (:attr:`Optimizer._elementwise`), the
  small variables (biases, small kernels) are updated together, as one flat array: one
  dozen NumPy calls for all of them instead of a dozen each
  (:mod:`minired.optimizers.variable_groups`).

The arithmetic follows Keras operation by operation, so float32 results match TensorFlow
bit for bit except where a summation order or a ``pow`` differs by an ulp:

- a float learning rate is stored in a ``floatx`` Variable when the optimizer is created,
  like Keras' learning-rate variable: ``SGD(0.1)`` steps with ``float32(0.1) = 0.10000000149...``;
- constants are cast to the variable's dtype before use; constants such as ``1 - beta_1``
  are computed in Python double precision first, as Keras does;
- the constants Keras passes through ``ops.cast`` (SGD's momentum, Adam's betas inside
  ``beta^t``, the weight decay, Adagrad's initial accumulator) are rounded to float32 even
  in float64 mode, because TensorFlow makes a float32 tensor of a Python float before
  casting it: see :func:`minired.keras_numerics.as_keras_constant`.

An update is all or nothing: a Ctrl-C (KeyboardInterrupt) that arrives while the variables
are being written is held back until the last one is written and the step counter has moved
(:func:`minired.utils.interrupts.defer_keyboard_interrupt`).
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import operator
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from minired import config, keras_numerics
from minired.autodiff.tensor import Tensor
from minired.constraints.attached import apply_constraints
from minired.optimizers import optimizer_variables
from minired.optimizers.schedules import LearningRateSchedule
from minired.optimizers.schedules import deserialize as deserialize_schedule
from minired.optimizers.schedules import serialize as serialize_schedule
from minired.optimizers.variable_groups import VariableGroup, pack_slots, small_variable_groups
from minired.utils import interrupts
from minired.utils.naming import auto_name
from minired.variables import Variable

#: The arguments every optimizer shares, documented once. Each optimizer's docstring says
#: ``{{base_optimizer_keyword_args}}`` where they belong (Keras' own template name), and
#: :meth:`Optimizer.__init_subclass__` writes this text there.
BASE_OPTIMIZER_KEYWORD_ARGS = """weight_decay: if set, every step first does ``w <- w - w*wd*lr``
    (decoupled weight decay, biases included).
clipnorm: clip each gradient to this L2 norm: ``g <- g*c / max(||g||, c)``.
clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
global_clipnorm: clip all gradients together to this joint L2 norm.
    Only one of the three clipping arguments may be given.
use_ema: keep an exponential moving average (EMA) of the weights: after each update
    ``avg <- m*avg + (1-m)*w``, with ``m = 0`` at the first step (the average starts
    as the weights). ``fit`` ends by copying the averages into the weights
    (:meth:`~minired.optimizers.Optimizer.finalize_variable_values`).
ema_momentum: ``m`` above, in [0, 1] (default 0.99). Only used with ``use_ema=True``.
ema_overwrite_frequency: with ``use_ema=True``, copy the averages into the weights
    every this many steps (an int >= 1), or never during training (None).
loss_scale_factor: if set, ``fit`` takes the gradients of ``L*s`` instead of ``L``
    (:meth:`~minired.optimizers.Optimizer.scale_loss`) and each step first divides
    them by ``s``: ``g <- g / s``. Mixed precision uses it against underflow.
gradient_accumulation_steps: an int ``k >= 2``: the weights move every ``k`` calls,
    with the mean ``(g_1 + ... + g_k) / k`` of the gradients received since the last
    move; :attr:`~minired.optimizers.Optimizer.iterations` counts the moves, while a
    learning-rate schedule sees every call.
name: the optimizer's name (default: the class name in snake_case, made unique
    as Keras does: ``"sgd"``, then ``"sgd_1"``...)."""

_SHARED_ARGUMENTS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                     "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                     "gradient_accumulation_steps", "name")


#: How many bytes of each array one block of an update covers (see :func:`cache_blocks`):
#: 256 KiB, so a block's half-dozen arrays fit together in a 2 MiB L2 cache.
BLOCK_BYTES = 256 * 1024


def cache_blocks(arrays: tuple, scratch: tuple = ()) -> Iterator[tuple[tuple, tuple]]:
    """Cut an elementwise update into blocks that stay in the CPU's cache.

    An update such as Adam's runs a dozen NumPy operations, each over whole arrays. When
    the arrays are larger than the cache, every operation reads them from main memory again.
    Done block by block, a block of ``g``, ``w``, ``m``, ``v`` is read once and stays in the
    cache through all the operations: the same numbers (each element's arithmetic is
    unchanged), about 1.2x faster for 235k weights and 1.8x for 1.8M.

    Yields ``(array blocks, scratch blocks)``: flat views of ``BLOCK_BYTES`` of each of
    ``arrays`` (same size each), in order, and views of the same length at the start of each
    scratch array (rewritten by every block, so they stay in the cache too). Arrays of one
    block or less, or not C-contiguous, come whole, in one piece.

    Example:
        >>> w, g = np.zeros(100_000, np.float32), np.ones(100_000, np.float32)
        >>> for (w_block, g_block), _ in cache_blocks((w, g)):
        ...     w_block -= g_block
        >>> float(w.sum())
        -100000.0
    """
    size = arrays[0].size
    step = max(1, BLOCK_BYTES // arrays[0].itemsize)
    if size <= step or not all(a.flags.c_contiguous for a in (*arrays, *scratch)
                               if a is not None):
        yield arrays, scratch
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    flat_scratch = [s.reshape(-1) for s in scratch]
    for start in range(0, size, step):
        stop = min(start + step, size)
        yield (tuple(None if a is None else a[start:stop] for a in flat),
               tuple(s[:stop - start] for s in flat_scratch))


def _scalar_variable(value, dtype, name: str | None = None) -> Variable:
    """A 0-d, non-trainable Variable: the step counter, the learning rate, Nadam's Π."""
    return Variable(value, dtype=dtype, trainable=False, name=name)


def _as_sequence(values: Iterable) -> list | tuple:
    """``values`` itself if it is a list or a tuple (no copy per step), else a list of it."""
    return values if isinstance(values, list | tuple) else list(values)


def _fill_template(docstring: str | None) -> str | None:
    """Write :data:`BASE_OPTIMIZER_KEYWORD_ARGS` where ``docstring`` has its placeholder,
    indented like the placeholder."""
    if docstring is None:
        return None

    def indented(match: re.Match) -> str:
        indent = match.group(1)
        return "\n".join(indent + line for line in BASE_OPTIMIZER_KEYWORD_ARGS.splitlines())

    return re.sub(r"^([ \t]*)\{\{base_optimizer_keyword_args\}\}", indented, docstring,
                  flags=re.MULTILINE)


class Optimizer:
    """Base class: clipping, weight decay, the step counter and the per-variable state.

    A subclass implements two methods, and may implement a third:

    - ``_create_slots(variables)``: allocate its state (momentums, velocities...) with
      :meth:`add_slots`, one array per variable, like Keras' ``build``;
    - ``update_step(gradient, variable, learning_rate)``: update one variable in place;
    - ``_compute_scalars(dt, learning_rate)``: the scalars its update needs, in the
      variable's dtype ``dt``; ``update_step`` reads them with :meth:`_scalars`, which calls
      this once per step and dtype. The default gives ``(lr,)``.

    Its update writes intermediate results into the variable's scratch arrays,
    ``self._scratch[index]`` (``_scratch_per_variable`` of them, of the variable's shape and
    dtype), rather than into new temporaries.

    Its constructor takes its own arguments, with Keras' defaults, and passes the shared
    ones on as ``**kwargs``: ``super().__init__(learning_rate=learning_rate, **kwargs)``.

    Args:
        learning_rate: a Python float, a
            :class:`~minired.optimizers.schedules.LearningRateSchedule` (called with the
            step counter before each update), or a function of no arguments.
            An int or an ``np.float32`` raises ``ValueError``, as in Keras: write ``1.0``,
            not ``1`` (``np.float64`` is a Python float and is fine).
        {{base_optimizer_keyword_args}}

    Example:
        >>> from minired.optimizers import SGD
        >>> w = np.array([1.0, 2.0], dtype="float32")
        >>> opt = SGD(learning_rate=0.5)
        >>> int(opt.apply_gradients([(np.array([1.0, 1.0], dtype="float32"), w)]))
        1
        >>> w
        array([0.5, 1.5], dtype=float32)
        >>> opt.learning_rate.assign(0.25)    # a Variable, as in Keras
        >>> float(opt.learning_rate), int(opt.iterations)
        (0.25, 1)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _fill_template(cls.__doc__)
        if "update_step" in cls.__dict__ and "_elementwise" not in cls.__dict__:
            cls._elementwise = False     # a new update rule: not known to be elementwise

    #: Whether ``update_step`` treats each element of a variable on its own (no sum, norm or
    #: shape), so that several variables can be updated as one flat array. The built-in
    #: rules that are say so; a subclass with its own ``update_step`` must say so too.
    _elementwise = False

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        cls = type(self).__name__
        if kwargs.pop("decay", None) is not None:  # Keras 2's argument, which Keras 3 ignores
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=3)
        if kwargs:
            raise ValueError(self._unknown_arguments_message(kwargs))
        for arg, value in (
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
            ("loss_scale_factor", loss_scale_factor),
        ):
            if value is not None and not isinstance(value, numbers.Real):
                raise TypeError(f"{cls}: `{arg}` must be a number or None, got {value!r}.")
        # Keras counts the arguments that are not None, so clipnorm=0 still "uses up" the
        # single clipping slot even though a zero clip is then skipped (the checks in
        # _clip_gradients are truthy).
        given = [value is not None for value in (clipnorm, clipvalue, global_clipnorm)]
        if sum(given) > 1:
            raise ValueError(
                f"{cls}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set, "
                f"got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}."
            )
        self._check_ema_and_accumulation(use_ema, ema_momentum, ema_overwrite_frequency,
                                         gradient_accumulation_steps)
        self.name = name if name is not None else auto_name(cls)
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._iterations = _scalar_variable(0, "int64", name="iteration")
        self._learning_rate = self._check_learning_rate(learning_rate)
        self.built = False
        # The variables this optimizer updates, and id(variable) -> position in that list.
        # Holding the arrays themselves keeps their ids unique for the optimizer's lifetime.
        self._trainable_variables: list[np.ndarray] = []
        self._trainable_variables_indices: dict[int, int] = {}
        # Work arrays, per variable (not state: see _create_scratch), and this step's
        # scalars by dtype (see _scalars).
        self._scratch: list[tuple[np.ndarray, ...]] = []
        self._scalars_of_this_step: dict[np.dtype, tuple] = {}
        # The small variables updated together (see _group_small_variables).
        self._groups: list[VariableGroup] = []
        self._grouped_indices: frozenset[int] = frozenset()
        # The moving averages (use_ema) and the gradient sums (gradient accumulation), one
        # per variable, made by build (Keras' `_model_variables_moving_average` and
        # `_accumulated_gradients`); empty lists when the option is off.
        self._model_variables_moving_average: list[np.ndarray] = []
        self._accumulated_gradients: list[np.ndarray] = []

    def _check_ema_and_accumulation(self, use_ema, ema_momentum, ema_overwrite_frequency,
                                    gradient_accumulation_steps) -> None:
        """Keras' checks of the EMA and accumulation arguments (the EMA ones only with
        ``use_ema``, as Keras), with minired's messages."""
        cls = type(self).__name__
        if gradient_accumulation_steps and (
                not isinstance(gradient_accumulation_steps, numbers.Integral)
                or isinstance(gradient_accumulation_steps, bool)
                or gradient_accumulation_steps < 2):
            raise ValueError(f"{cls}: `gradient_accumulation_steps` must be an integer >= 2 "
                             f"or None, got {gradient_accumulation_steps!r}.")
        if not use_ema:
            return
        if not isinstance(ema_momentum, numbers.Real) or not 0 <= ema_momentum <= 1:
            raise ValueError(f"{cls}: `ema_momentum` must be a number in [0, 1], got "
                             f"{ema_momentum!r}.")
        if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int)
                or isinstance(ema_overwrite_frequency, bool) or ema_overwrite_frequency < 1):
            raise ValueError(f"{cls}: `ema_overwrite_frequency` must be an integer >= 1 or "
                             f"None, got {ema_overwrite_frequency!r}.")

    def _unknown_arguments_message(self, kwargs: dict[str, Any]) -> str:
        """The TypeError for keyword arguments this optimizer does not take."""
        cls = type(self).__name__
        names = ", ".join(f"`{name}`" for name in kwargs)
        own = inspect.signature(type(self).__init__).parameters  # self, its arguments, kwargs
        known = [name for name in own if name not in ("self", "kwargs")] + [*_SHARED_ARGUMENTS]
        close = difflib.get_close_matches(next(iter(kwargs)), known, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        plural = "s" if len(kwargs) > 1 else ""
        return f"{cls} got an unexpected keyword argument{plural} {names}.{hint}"

    # -- learning rate ------------------------------------------------------------------------
    def _check_learning_rate(self, learning_rate):
        """Return the learning rate in the form it is stored (see :attr:`learning_rate`)."""
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            return learning_rate
        # Keras tests `isinstance(learning_rate, float)`: np.float64 (a float subclass) passes,
        # ints, bools and np.float32 are refused.
        if not isinstance(learning_rate, float):
            raise ValueError(
                f"{type(self).__name__}: `learning_rate` must be a Python float, a "
                f"LearningRateSchedule, or a function of no arguments, got {learning_rate!r} "
                f"({type(learning_rate).__name__})."
            )
        # Keras keeps a float learning rate in a `floatx` variable: float32(0.1) by default.
        return _scalar_variable(learning_rate, config.floatx(), name="learning_rate")

    @property
    def iterations(self) -> Variable | Tensor:
        """The number of updates applied so far: a 0-d int64 Variable, as in Keras
        (``int(opt.iterations)``, ``opt.iterations.numpy()``). It has no setter, as in
        Keras: change it with ``opt.iterations.assign(n)``.

        With ``gradient_accumulation_steps=k`` it counts the updates, not the calls: the
        calls counted by the Variable divided by ``k`` (rounded down), a new 0-d int64
        array each time (Keras' ``floor_divide``, not a Variable).
        """
        if self.gradient_accumulation_steps:
            return np.asarray(self._iterations.item() // self.gradient_accumulation_steps
                              ).view(Tensor)
        return self._iterations

    @property
    def learning_rate(self) -> Variable | Any:
        """The learning rate of the next update.

        A float learning rate is a 0-d ``floatx`` Variable, as in Keras: ``float(lr)``,
        ``lr.numpy()``, ``lr.assign(0.01)``. For a schedule this is the NumPy number
        ``schedule(iterations)`` (the first update uses ``schedule(0)``); for a function,
        what it returns. Neither of those is a Variable.
        """
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(
        self, value: float | np.ndarray | LearningRateSchedule | Callable[[], float],
    ) -> None:
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                f"{type(self).__name__}: this optimizer was created with a "
                "LearningRateSchedule, so `learning_rate` cannot be set to a number; create "
                "the optimizer with a float `learning_rate` to make it settable."
            )
        # A number, or a 0-d array such as the learning-rate Variable itself (Keras' guide
        # "Writing your own callbacks" sets `optimizer.learning_rate = lr` with lr unchanged).
        is_real_array = (isinstance(value, np.ndarray) and value.ndim == 0
                         and value.dtype.kind in "iuf")   # int, unsigned or float
        if not (isinstance(value, numbers.Real) or is_real_array):
            raise TypeError(
                f"{type(self).__name__}: `learning_rate` must be a number, a "
                f"LearningRateSchedule or a function, got {value!r}."
            )
        if isinstance(self._learning_rate, Variable):
            # Keras' `variable.assign(value)`: the dtype is kept (any number is allowed).
            self._learning_rate.assign(value)
        else:
            # It was a function: Keras fails here; minired makes a Variable, as for a float.
            self._learning_rate = _scalar_variable(value, config.floatx(), "learning_rate")

    def _current_learning_rate(self):
        """The learning rate for this step as a plain NumPy number, read once per step (cast
        to each variable's dtype later)."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate.item()      # the stored number, not the Variable
        if isinstance(self._learning_rate, LearningRateSchedule):
            return self._learning_rate(int(self._iterations))
        return self._learning_rate()

    # -- state --------------------------------------------------------------------------------
    def build(self, variables: Sequence[np.ndarray]) -> None:
        """Register the variables to update and create the optimizer state for each one.

        Called automatically by the first :meth:`apply`. Calling it again does nothing.

        Args:
            variables: the model's float weight arrays, in the order the gradients will come.
        """
        if self.built:
            return
        variables = list(variables)
        for i, variable in enumerate(variables):
            if not isinstance(variable, np.ndarray) or not np.issubdtype(
                variable.dtype, np.floating
            ):
                raise TypeError(
                    f"{type(self).__name__}: variable {i} must be a float NumPy array (updated "
                    f"in place), got {type(variable).__name__}"
                    f"{' of dtype ' + str(variable.dtype) if hasattr(variable, 'dtype') else ''}."
                )
        self._trainable_variables = variables
        self._index_variables()
        # Keras' BaseOptimizer.build makes these before the subclass makes its slots.
        if self.use_ema:
            self._model_variables_moving_average = self.add_slots(variables)
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_slots(variables)
        self._create_slots(variables)
        self._group_small_variables()
        self._create_scratch()
        self.built = True

    def _index_variables(self) -> None:
        """Map ``id(variable)`` to its position, the index into every slot list."""
        self._trainable_variables_indices = {
            id(variable): i for i, variable in enumerate(self._trainable_variables)
        }

    def _group_small_variables(self) -> None:
        """When the rule is elementwise, group the small variables of each dtype to be updated
        together (see :mod:`~minired.optimizers.variable_groups`).

        Each group's slots are packed into one flat array per slot list, and the members'
        slots become views of it. Each slot list then holds one entry per variable followed
        by one per group, and a group's weights are found at index ``n + k`` (``n``
        variables, group ``k``), so ``update_step`` finds the group's state as a variable's.
        Only the first ``n`` entries are state (:attr:`variables`, saving).
        """
        self._groups = small_variable_groups(self._trainable_variables) if self._elementwise else []
        self._grouped_indices = frozenset(i for group in self._groups for i in group.indices)
        n = len(self._trainable_variables)
        for k, group in enumerate(self._groups):
            for slots in self._slot_lists():
                slots.append(pack_slots(slots, group))
            self._trainable_variables_indices[id(group.weights)] = n + k

    def _slot_names(self) -> list[str]:
        """The attributes that hold per-variable state (:attr:`_keras_slot_order`'s)."""
        return [name for group in self._keras_slot_order for name in group]

    def _slot_lists(self) -> list[list[np.ndarray]]:
        """The lists of per-variable state this optimizer has (not empty)."""
        return [getattr(self, name) for name in self._slot_names() if getattr(self, name, None)]

    def _create_slots(self, variables: list[np.ndarray]) -> None:
        """Allocate per-variable state with :meth:`add_slots` (none in the base class)."""

    def add_slots(self, variables: list[np.ndarray], fill: float = 0.0) -> list[np.ndarray]:
        """Return one new array per variable, of its shape and dtype, filled with ``fill``.

        ``fill`` is cast as Keras' ``Constant`` initializer casts it
        (:func:`~minired.keras_numerics.as_keras_constant`).
        """
        slots = [np.full_like(v, keras_numerics.as_keras_constant(fill, v.dtype))
                 for v in variables]
        return slots

    #: How many scratch arrays each variable gets (weight decay uses the first one).
    _scratch_per_variable = 1

    def _create_scratch(self) -> None:
        """Allocate the work arrays the in-place updates write their intermediate results to.

        ``self._scratch[i]`` is a tuple of ``_scratch_per_variable`` arrays of variable
        ``i``'s shape and dtype, allocated once here so that a step makes no new arrays.
        A step updates the variables one after the other, so they all share the same memory:
        per dtype, ``_scratch_per_variable`` flat buffers the size of the largest variable,
        seen by each variable through a view of its shape (less memory, and it stays in the
        processor's cache from one variable to the next).
        They are not state: what they hold means nothing from one step to the next, so they
        are not in :attr:`variables`, not saved, and not copied with the optimizer.
        """
        updated = [*self._trainable_variables, *(group.weights for group in self._groups)]
        largest: dict[np.dtype, int] = {}
        for variable in updated:
            largest[variable.dtype] = max(largest.get(variable.dtype, 0), variable.size)
        buffers = {dtype: [np.empty(size, dtype) for _ in range(self._scratch_per_variable)]
                   for dtype, size in largest.items()}
        self._scratch = [
            tuple(buffer[:variable.size].reshape(variable.shape)
                  for buffer in buffers[variable.dtype])
            for variable in updated
        ]
        self._kept_blocks: dict[int, tuple[tuple, list]] = {}    # see _cache_blocks

    def _cache_blocks(self, index: int, arrays: tuple) -> list[tuple[tuple, tuple]]:
        """:func:`cache_blocks` of ``arrays`` (variable ``index``'s gradient, weights and
        state) with its scratch arrays, as a list kept for the next step.

        In ``fit`` every step passes the same arrays (the layers' own gradient arrays), so
        the blocks are cut once, not at every step (about 7 µs a step for a 784×256 kernel);
        other arrays are cut again. The kept views keep the last step's gradient in memory.
        """
        kept = self._kept_blocks.get(index)
        if kept is None or not all(map(operator.is_, kept[0], arrays)):   # the same arrays
            kept = arrays, list(cache_blocks(arrays, self._scratch[index]))
            self._kept_blocks[index] = kept
        return kept[1]

    def _get_variable_index(self, variable: np.ndarray) -> int:
        """Position of ``variable`` in the build list: the index into every slot list."""
        return self._trainable_variables_indices[id(variable)]

    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer's state, in Keras' order: :attr:`iterations`, the learning rate
        (only a float one: a schedule or a function has no variable), then, once built, the
        moving averages (``use_ema``), the gradient sums (``gradient_accumulation_steps``),
        the slots (Adam: m₀, v₀, m₁, v₁, ...) and the scalar state (Nadam's Π).

        These are the arrays themselves: changing one changes the optimizer.
        """
        state = [self._iterations]
        if isinstance(self._learning_rate, Variable):
            state.append(self._learning_rate)
        if self.built:
            state.extend(self._model_variables_moving_average)
            state.extend(self._accumulated_gradients)
            for group in self._keras_slot_order:
                lists = [getattr(self, name, []) for name in group]
                for i in range(len(self._trainable_variables)):
                    state.extend(slots[i] for slots in lists if slots)
            state.extend(getattr(self, name) for name in self._keras_scalar_state)
        state.extend(optimizer_variables.added_variables(self))   # add_variable's, in order
        return state

    # Keras 3's methods for an optimizer of your own: see minired.optimizers.optimizer_variables
    add_variable = optimizer_variables.add_variable
    add_variable_from_reference = optimizer_variables.add_variable_from_reference
    add_optimizer_variables = optimizer_variables.add_optimizer_variables
    assign = optimizer_variables.assign
    assign_add = optimizer_variables.assign_add
    assign_sub = optimizer_variables.assign_sub
    exclude_from_weight_decay = optimizer_variables.exclude_from_weight_decay
    set_weights = optimizer_variables.set_weights

    # -- copies -------------------------------------------------------------------------------
    # ``copy.deepcopy`` and ``pickle`` copy the variables (the same copies as the model's, as
    # both keep one copy of an array reached twice), but an id() is a memory address: the
    # index is left out of the copy and rebuilt from the copied variables. The scratch
    # arrays hold nothing worth copying: they are allocated anew. A copy makes each slot
    # view an array of its own, so the groups of small variables are left out and formed
    # again from the copied slots.

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_trainable_variables_indices"]
        state["_scratch"], state["_kept_blocks"] = [], {}
        state["_scalars_of_this_step"] = {}
        n = len(self._trainable_variables)
        for name in self._slot_names():         # the variables' entries, not the groups'
            if state.get(name):
                state[name] = state[name][:n]
        state["_groups"], state["_grouped_indices"] = [], frozenset()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._index_variables()
        if self.built:
            self._group_small_variables()
            self._create_scratch()

    # -- applying gradients -------------------------------------------------------------------
    def apply_gradients(
        self, grads_and_vars: Iterable[tuple[np.ndarray, np.ndarray]],
    ) -> Variable:
        """Apply one update from ``(gradient, variable)`` pairs; return :attr:`iterations`
        (the Variable, now counting this step), as Keras does.

        Example: ``opt.apply_gradients(zip(grads, weights))``.
        """
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        self.apply(grads, variables)
        return self._iterations

    def apply(
        self,
        grads: Sequence[np.ndarray | None],
        trainable_variables: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Update ``trainable_variables`` in place from ``grads`` (matched by position).

        The first call builds the optimizer on ``trainable_variables``. Later calls must pass
        the same arrays (or ``None`` to mean "the variables I was built with").

        The update is all or nothing: a Ctrl-C while the variables are written takes effect
        once all of them are written and :attr:`iterations` has moved.

        Args:
            grads: one gradient per variable, same shape; ``None`` skips that variable.
            trainable_variables: the weight arrays, or ``None`` once the optimizer is built.
        """
        grads = _as_sequence(grads)
        if not grads:  # Keras: nothing to apply, and the step counter does not move
            return
        if trainable_variables is not None:
            trainable_variables = _as_sequence(trainable_variables)
        if self._is_built_step(grads, trainable_variables):
            variables = self._trainable_variables   # checked when the optimizer was built
        else:
            grads, variables = self._check_step(grads, trainable_variables)

        learning_rate = self._current_learning_rate()   # a NumPy number, before iterations += 1
        self._scalars_of_this_step = {}                 # a new step: new scalars (_scalars)
        if self.loss_scale_factor is not None:          # g <- g / s (fit took ∂(sL)/∂w)
            grads = [g / g.dtype.type(self.loss_scale_factor) for g in grads]
        with interrupts.defer_keyboard_interrupt():     # every variable changes, or none
            if self.gradient_accumulation_steps:
                grads = self._accumulate(grads, variables)   # None: not an update step
            if grads is not None:
                grads = self._clip_gradients(grads)
                self._apply_weight_decay(variables, learning_rate)
                self._update_variables(grads, variables, learning_rate)
            if self.use_ema:
                self._update_moving_averages()
            self._apply_constraints(variables)
            # Keras' `iterations.assign_add(1)`, with the array's own fill(): assign_add
            # runs Python code that costs more than the rest of a small step's bookkeeping.
            self._iterations.fill(int(self._iterations) + 1)

    def _accumulate(self, grads: list[np.ndarray], variables) -> list[np.ndarray] | None:
        """Gradient accumulation over ``k`` calls (Keras' ``_backend_apply_gradients``).

        On the ``k``-th call (``(raw iterations + 1) % k == 0``) return the mean gradients
        ``(g + acc) / k`` and empty the sums; on the other calls add ``g`` to the sums,
        ``acc <- acc + g``, and return None: no clipping, decay or update on those calls.
        """
        k = self.gradient_accumulation_steps
        sums = [self._accumulated_gradients[self._get_variable_index(v)] for v in variables]
        if (self._iterations.item() + 1) % k != 0:
            for g, acc in zip(grads, sums, strict=True):
                acc += g                       # acc <- acc + g (in the variable's dtype)
            return None
        means = []
        for g, acc in zip(grads, sums, strict=True):
            mean = g + acc
            means.append(mean / mean.dtype.type(k))   # (g + acc) / k
            acc.fill(0)
        return means

    def _update_moving_averages(self) -> None:
        """``avg <- m*avg + (1-m)*w`` for every variable (Keras'
        ``_update_model_variables_moving_average``), then, every ``ema_overwrite_frequency``
        updates, ``w <- avg``.

        ``m`` is ``ema_momentum``, but 0 while :attr:`iterations` is 0, so that the first
        call copies the weights. ``m`` and ``1 - m`` are computed in the variable's dtype,
        as Keras (``cast(not_first_step) * ema_momentum``, then ``1 - momentum``).
        """
        iterations = int(self.iterations)     # the update count (calls // k when accumulating)
        for i, (variable, average) in enumerate(zip(
                self._trainable_variables, self._model_variables_moving_average, strict=True)):
            dt = variable.dtype.type
            momentum = dt(iterations != 0) * dt(self.ema_momentum)
            scratch = self._scratch[i][0]
            average *= momentum                                   # m*avg
            np.multiply(dt(1) - momentum, variable, out=scratch)  # (1-m)*w
            average += scratch
        frequency = self.ema_overwrite_frequency
        if frequency and (iterations + 1) % frequency == 0:
            self._overwrite_model_variables_with_average_value(self._trainable_variables)

    def _overwrite_model_variables_with_average_value(self, variables) -> None:
        """``w <- avg`` for each variable, in place (Keras' method of that name)."""
        averages = self._model_variables_moving_average
        if len(variables) != len(averages):
            raise ValueError(
                f"{type(self).__name__}: {len(variables)} variables to overwrite with their "
                f"moving averages, but the optimizer holds {len(averages)}: was it built on "
                "this model's trainable weights?")
        for variable, average in zip(variables, averages, strict=True):
            np.copyto(variable, average)

    def finalize_variable_values(self, var_list: Sequence[np.ndarray]) -> None:
        """The weights' final values: with ``use_ema``, the moving averages replace them
        (``fit`` calls this after its last epoch, as Keras). Otherwise nothing changes.

        Args:
            var_list: the model's trainable weights, in the order the optimizer was built on.
        """
        if self.use_ema and self.built:
            self._overwrite_model_variables_with_average_value(list(var_list))

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (or ``loss`` unchanged when it is None): what a
        training step differentiates, so that the gradients come scaled by the same factor
        (:meth:`apply` divides them back).

        Example:
            >>> from minired.optimizers import SGD
            >>> SGD(loss_scale_factor=8.0).scale_loss(0.25)
            2.0
        """
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def _is_built_step(self, grads, variables) -> bool:
        """Whether this step needs none of :meth:`_check_step`'s checks: the optimizer is
        built, ``variables`` are the built arrays in the built order (or ``None``), and each
        gradient is an array of its variable's shape. Only identities and shapes are
        compared: the variables themselves were checked by :meth:`build`."""
        built = self._trainable_variables
        if not self.built or len(grads) != len(built):
            return False
        if variables is not None and (
            len(variables) != len(built)
            or not all(map(operator.is_, variables, built))
        ):
            return False
        return all(type(g) is np.ndarray and g.shape == b.shape
                   for g, b in zip(grads, built, strict=True))

    def _check_step(self, grads: list, trainable_variables):
        """Every check of one step's arguments (building the optimizer on the first call);
        return the gradients as arrays and their variables, None gradients left out."""
        cls = type(self).__name__
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{cls}.apply: `trainable_variables` is None but the optimizer is not "
                    "built yet; pass the variables, or call `build(variables)` first."
                )
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"{cls}.apply: `grads` must hold one gradient per variable "
                f"({len(variables)}), got {len(grads)}."
            )
        if not self.built:      # the first call creates the state (a build of yours too)
            self.build(variables)
        unknown = [i for i, v in enumerate(variables)
                   if id(v) not in self._trainable_variables_indices]
        if unknown:
            raise ValueError(
                f"{cls}.apply: variables at positions {unknown} are not among the "
                f"{len(self._trainable_variables)} arrays this optimizer was built with. "
                "Variables must be updated in place, never replaced; for a new set of "
                "variables create a new optimizer."
            )
        grads, variables = self._filter_empty_gradients(grads, variables)
        for i, (g, v) in enumerate(zip(grads, variables, strict=True)):
            if np.shape(g) != v.shape:
                raise ValueError(
                    f"{cls}.apply: gradient {i} must have its variable's shape {v.shape}, "
                    f"got {np.shape(g)}."
                )
        return [np.asarray(g) for g in grads], variables

    def _filter_empty_gradients(self, grads, variables):
        """Drop ``(None, variable)`` pairs with a warning; all None is an error (as Keras)."""
        kept = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        if not kept:
            raise ValueError(f"{type(self).__name__}.apply: no gradients provided (all None).")
        if len(kept) < len(grads):
            missing = [i for i, g in enumerate(grads) if g is None]
            warnings.warn(
                f"{type(self).__name__}: gradients are None for variables at positions "
                f"{missing}; those variables are not updated.",
                stacklevel=4,  # the caller of apply (apply -> _check_step -> here)
            )
        return [g for g, _ in kept], [v for _, v in kept]

    def _clip_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Clip the gradients with whichever of the three options is set (truthy, as Keras)."""
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return self._clip_by_global_norm(grads)
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -g.dtype.type(self.clipvalue), g.dtype.type(self.clipvalue))
                    for g in grads]
        return grads

    def _clip_by_norm(self, g: np.ndarray) -> np.ndarray:
        """``g*c / max(||g||, c)``: unchanged when ``||g|| <= c``, rescaled to norm c otherwise.

        Written exactly as ``tf.clip_by_norm``: multiply first, then divide, even when the
        norm is below c (in float32, ``(g*c)/c`` may differ from ``g`` by one ulp).
        """
        c = g.dtype.type(self.clipnorm)
        l2norm = np.sqrt(np.sum(g * g))
        return (g * c) / np.maximum(l2norm, c)

    def _clip_by_global_norm(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Scale all gradients by ``c / max(n, c)``, ``n = sqrt(Σ_i Σ g_i²)`` (one joint norm)."""
        use_norm = np.sqrt(np.sum(np.stack([np.sum(np.square(g)) for g in grads])))
        dt = use_norm.dtype.type
        c = self.global_clipnorm
        # The NumPy warnings are silenced because both special cases are intended:
        with np.errstate(divide="ignore", invalid="ignore"):
            # scale = c * min(1/n, 1/c); for n = 0, 1/n = inf and min() picks 1/c.
            scale = dt(c) * np.minimum(1 / use_norm, dt(1.0 / c))
            # (n - n) is 0 for a finite norm and NaN otherwise: an inf/NaN gradient poisons all.
            scale = scale + (use_norm - use_norm)
        return [g * scale.astype(g.dtype) for g in grads]

    def _apply_weight_decay(self, variables: list[np.ndarray], learning_rate) -> None:
        """Decoupled weight decay, ``w <- w - w*wd*lr``, on every variable before the update."""
        if self.weight_decay is None:
            return
        factors = {}  # dtype -> (wd, lr) in that dtype, cast once per step
        excluding = "_exclude_from_weight_decay" in self.__dict__
        for variable in variables:
            if excluding and not optimizer_variables.use_weight_decay(self, variable):
                continue
            if variable.dtype not in factors:
                factors[variable.dtype] = (
                    keras_numerics.as_keras_constant(self.weight_decay, variable.dtype),
                    variable.dtype.type(learning_rate),
                )
            wd, lr = factors[variable.dtype]
            decay = self._scratch[self._get_variable_index(variable)][0]
            np.multiply(variable, wd, out=decay)   # w*wd
            decay *= lr                            # w*wd*lr
            variable -= decay                      # w <- w - w*wd*lr

    def _update_variables(self, grads, variables, learning_rate) -> None:
        """Run :meth:`update_step` on each pair, in order (Nadam adds a shared step first).

        When ``variables`` are the built ones, the small variables of each group are
        updated together instead: their gradients and weights are copied into the group's
        flat arrays, ``update_step`` runs once on those, and the new weights are copied back
        (see :mod:`~minired.optimizers.variable_groups`).
        """
        groups = self._groups if variables is self._trainable_variables else ()
        grouped = self._grouped_indices if groups else ()
        for i, (gradient, variable) in enumerate(zip(grads, variables, strict=True)):
            if i not in grouped:
                self.update_step(gradient.astype(variable.dtype, copy=False), variable,
                                 learning_rate)
        for group in groups:
            group.gather(grads, variables)
            self.update_step(group.gradient, group.weights, learning_rate)
            group.scatter(variables)

    def _apply_constraints(self, variables) -> None:
        """``w <- c(w)`` for each updated variable with a constraint (a layer's
        ``kernel_constraint``..., a Variable's ``constraint``), after every update, as Keras."""
        apply_constraints(variables)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate) -> None:
        """Update ``variable`` in place from ``gradient`` (already cast to its dtype).

        Called by :meth:`apply`, once per variable of the step.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update_step().")

    def _scalars(self, dtype: np.dtype, learning_rate) -> tuple:
        """This step's scalars in ``dtype``, from :meth:`_compute_scalars`: computed for the
        first variable of that dtype, then reused by the others of the step (:meth:`apply`
        starts each step with none)."""
        scalars = self._scalars_of_this_step.get(dtype)
        if scalars is None:
            scalars = self._compute_scalars(dtype.type, learning_rate)
            self._scalars_of_this_step[dtype] = scalars
        return scalars

    def _compute_scalars(self, dt: type, learning_rate) -> tuple:
        """The scalars one step's update needs, in the dtype ``dt`` (a NumPy scalar type);
        here just the learning rate. Subclasses return what their ``update_step`` reads."""
        return (dt(learning_rate),)

    # -- configuration ------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, as in Keras (a float learning rate as stored, in floatx)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            learning_rate = serialize_schedule(self._learning_rate)
        elif callable(self._learning_rate):
            learning_rate = self._learning_rate
        else:
            learning_rate = float(self._learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """Create a fresh optimizer (no state) from :meth:`get_config`'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"])
        return cls(**config)

    # -- saving: the state in Keras' order (minired.saving) -----------------------------------
    #: The slot lists in the order Keras creates them. Each tuple is one call of Keras'
    #: ``add_optimizer_variables``, which interleaves its lists variable by variable (Adam:
    #: m₀, v₀, m₁, v₁, ...).
    _keras_slot_order: tuple[tuple[str, ...], ...] = ()
    #: Scalar state Keras creates after the slots (Nadam's running product).
    _keras_scalar_state: tuple[str, ...] = ()

    def _keras_state(self) -> list[np.ndarray]:
        """The optimizer's variables as Keras lists them: :attr:`variables`."""
        return self.variables

    def save_own_variables(self, store: dict) -> None:
        """Write the state into ``store`` as ``"0", "1", ...``, in Keras' order."""
        for i, value in enumerate(self.variables):
            store[str(i)] = np.asarray(value)   # Variables as plain arrays

    def check_own_variables(self, values: list, variables: list[np.ndarray]) -> list:
        """Check saved state (Keras' order) against this optimizer built on ``variables``;
        return it ready for :meth:`load_own_variables`. Nothing is changed except building
        the optimizer (empty state) when the file holds slots."""
        fixed = 2 if isinstance(self._learning_rate, Variable) else 1   # iterations, lr
        if len(values) > fixed and not self.built:
            self.build(variables)
        expected = self.variables if len(values) > fixed else self.variables[:fixed]
        if len(values) != len(expected):
            raise ValueError(
                f"Optimizer {self.name!r} ({type(self).__name__}) has {len(expected)} state "
                f"variables for this model, but the file has {len(values)}: it was saved "
                "with other optimizer settings (e.g. momentum, amsgrad) or another model.")
        for i, (target, value) in enumerate(zip(expected, values, strict=True)):
            if np.shape(value) != np.shape(target):
                raise ValueError(f"Optimizer {self.name!r}: state variable {i} has shape "
                                 f"{np.shape(value)} in the file, {np.shape(target)} here.")
        return values

    def load_own_variables(self, values: list, variables: list[np.ndarray]) -> None:
        """Restore the state checked by :meth:`check_own_variables` (a file saved before the
        first step holds only ``iterations`` and the learning rate)."""
        for target, value in zip(self.variables[:len(values)], values, strict=True):
            target[...] = value   # in place, in the target's dtype


Optimizer.__doc__ = _fill_template(Optimizer.__doc__)  # subclasses are filled as they are defined
