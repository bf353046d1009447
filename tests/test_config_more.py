"""Keras' ``keras.config`` switches minired records (traceback filtering, unsafe
deserialization, flash attention, NNX) and ``keras.utils.Config``: the same values, in the
same order of calls, as Keras.
"""

from __future__ import annotations

import json

import pytest

import minired as mr
from minired.saving import serialization_lib
from minired.utils import Config

SWITCHES = ["is_traceback_filtering_enabled", "enable_traceback_filtering",
            "disable_traceback_filtering", "enable_unsafe_deserialization",
            "is_flash_attention_enabled", "enable_flash_attention", "disable_flash_attention",
            "is_nnx_enabled"]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


@pytest.fixture
def restored(keras, monkeypatch):
    """Both libraries' switches back to their defaults after the test."""
    from keras.src.backend.common import global_state

    scope = serialization_lib._SCOPE
    monkeypatch.setitem(scope, "safe_mode", scope["safe_mode"])
    safe = global_state.get_global_attribute("safe_mode_saving")
    yield
    for library in (mr, keras):
        library.config.enable_traceback_filtering()
        library.config.enable_flash_attention()
    global_state.set_global_attribute("safe_mode_saving", safe)


def test_the_switches_are_keras_names(keras):
    keras_names = {name for name in dir(keras.config) if not name.startswith("_")}
    for name in SWITCHES:
        assert name in keras_names
        assert callable(getattr(mr.config, name))


def test_switches_read_back_as_in_keras(keras, restored):
    calls = ["is_traceback_filtering_enabled", "disable_traceback_filtering",
             "is_traceback_filtering_enabled", "enable_traceback_filtering",
             "is_traceback_filtering_enabled", "is_flash_attention_enabled",
             "disable_flash_attention", "is_flash_attention_enabled",
             "enable_flash_attention", "is_flash_attention_enabled", "is_nnx_enabled"]
    mine = [getattr(mr.config, name)() for name in calls]
    theirs = [getattr(keras.config, name)() for name in calls]
    assert mine == theirs == [True, None, False, None, True, None, None, False, None, None,
                              False]


def test_unsafe_deserialization_sets_the_scope_but_code_is_still_refused(keras, restored):
    from keras.src.saving import serialization_lib as keras_serialization

    mr.config.enable_unsafe_deserialization()
    keras.config.enable_unsafe_deserialization()
    assert keras_serialization.in_safe_mode() is False
    assert serialization_lib._SCOPE["safe_mode"] is False
    stored_lambda = {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None,
                                                            "closure": None}}
    with pytest.raises(ValueError, match="never runs code from a file"):
        mr.saving.deserialize_keras_object(stored_lambda)


def test_unsafe_deserialization_reaches_lambda_from_config(keras, restored):
    config = keras.layers.Lambda(lambda x: x + 1).get_config()      # its code, as bytecode
    with pytest.raises(ValueError, match="passing `safe_mode=False`"):   # Keras' message
        mr.layers.Lambda.from_config(dict(config))
    mr.config.enable_unsafe_deserialization()      # as if safe_mode=False: still refused
    with pytest.raises(ValueError, match="never runs code from a file, whatever safe_mode"):
        mr.layers.Lambda.from_config(dict(config))


# -- keras.utils.Config -------------------------------------------------------------------------
def both(keras):
    return Config(learning_rate=0.1, momentum=0.9), keras.utils.Config(learning_rate=0.1,
                                                                       momentum=0.9)


def test_config_reads_and_writes_as_keras(keras):
    mine, theirs = both(keras)
    for c in (mine, theirs):
        c.use_ema, c["seed"] = True, 123
        c.update({"beta": 2}, gamma=3)
        assert c.pop("gamma") == 3 and c.pop("missing", "default") == "default"
    assert list(mine) == list(theirs) == ["beta", "learning_rate", "momentum", "seed",
                                          "use_ema"]                    # sorted, as Keras
    assert list(mine.items()) == list(theirs.items())                   # insertion order
    assert list(mine.keys()) == list(theirs.keys())
    assert list(mine.values()) == list(theirs.values())
    assert mine.as_dict() == theirs.as_dict() and mine.as_dict() is not mine._config
    assert json.loads(mine.to_json()) == json.loads(theirs.to_json())
    assert mine.to_json() == theirs.to_json() and repr(mine) == repr(theirs)
    assert len(mine) == len(theirs) == 5 and ("seed" in mine) == ("seed" in theirs) is True
    assert mine.get("nope", 7) == theirs.get("nope", 7) == 7
    assert mine.seed == theirs.seed == mine["seed"] == 123
    del mine["beta"]
    del theirs["beta"]
    assert mine.as_dict() == theirs.as_dict()


def test_frozen_config_refuses_every_change_as_keras(keras):
    for c in both(keras):
        c.freeze()
        assert c.frozen
        for change in (lambda c: setattr(c, "x", 1), lambda c: c.__setitem__("x", 1),
                       lambda c: c.update(x=1), lambda c: c.pop("momentum"),
                       lambda c: c.__delitem__("momentum")):
            with pytest.raises(ValueError, match="because the config is frozen"):
                change(c)
        c.unfreeze()
        c.x = 1
        assert c.x == 1 and not c.frozen


def test_unknown_attribute_suggests_the_closest_name(keras):
    for c in both(keras):
        with pytest.raises(AttributeError,
                           match=r"Unknown attribute: 'learning_rat'\. Did you mean "
                                 r"'learning_rate'\?"):
            c.learning_rat   # noqa: B018
        with pytest.raises(AttributeError, match=r"^Unknown attribute: 'zzz'\.$"):
            c.zzz   # noqa: B018
        with pytest.raises(KeyError):
            c["zzz"]   # noqa: B018
