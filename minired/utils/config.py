"""``mr.utils.Config``: Keras' dict of named settings, read and written as attributes."""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterator
from typing import Any


class Config:
    """A dict-like container of named values, as ``keras.utils.Config``.

    Over a plain dict it adds: values set and read as attributes (``config.seed``) as well
    as keys (``config["seed"]``); :meth:`freeze`, after which any change raises ValueError;
    and :meth:`to_json`. As in Keras, iterating gives the keys **sorted**, while
    :meth:`keys`, :meth:`items` and :meth:`as_dict` keep the insertion order.

    Args:
        **kwargs: the first entries.

    Example:
        >>> config = Config(learning_rate=0.1, momentum=0.9)
        >>> config.seed = 123
        >>> config["seed"], config.learning_rate, list(config)
        (123, 0.1, ['learning_rate', 'momentum', 'seed'])
        >>> config.freeze()
        >>> config.seed = 0
        Traceback (most recent call last):
        ValueError: Cannot mutate attribute(s) because the config is frozen.
    """

    # The names of the object's own attributes and methods; every other attribute name is
    # an entry of the config. None while __init__ runs.
    __attrs__: set[str] | None = None

    def __init__(self, **kwargs: Any):
        self._config = kwargs
        self._frozen = False
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self) -> bool:
        """Whether the config is frozen."""
        return self._frozen

    def freeze(self) -> None:
        """Forbid any further change (set, update, pop, delete)."""
        self._frozen = True

    def unfreeze(self) -> None:
        """Allow changes again."""
        self._frozen = False

    def _raise_if_frozen(self) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self) -> dict[str, Any]:
        """A shallow copy of the entries as a plain dict."""
        return copy.copy(self._config)

    def to_json(self) -> str:
        """The entries as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        """The entry names (insertion order)."""
        return self._config.keys()

    def values(self):
        """The entry values (insertion order)."""
        return self._config.values()

    def items(self):
        """The ``(name, value)`` pairs (insertion order)."""
        return self._config.items()

    def pop(self, *args: Any) -> Any:
        """Remove an entry and return its value, as ``dict.pop``."""
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add or replace entries, as ``dict.update``."""
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def get(self, keyname: str, value: Any = None) -> Any:
        """The entry ``keyname``, or ``value`` if there is none."""
        return self._config.get(keyname, value)

    def __setattr__(self, name: str, value: Any) -> None:
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            object.__setattr__(self, name, value)
            return
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name: str) -> Any:
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        if name in self._config:
            return self._config[name]
        message = f"Unknown attribute: '{name}'."
        closest = difflib.get_close_matches(name, self._config.keys(), n=1, cutoff=0.7)
        if closest:
            message += f" Did you mean '{closest[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key: str, item: Any) -> None:
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __delitem__(self, key: str) -> None:
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item: Any) -> bool:
        return item in self._config

    def __iter__(self) -> Iterator[str]:
        yield from sorted(self._config.keys())

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"
