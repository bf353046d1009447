"""Callbacks: hooks into ``fit``, ``evaluate`` and ``predict``, as in ``keras.callbacks``."""

from minired.callbacks import hparams
from minired.callbacks.callback import Callback
from minired.callbacks.callback_list import CallbackList
from minired.callbacks.early_stopping import EarlyStopping
from minired.callbacks.history import History
from minired.callbacks.monitor_callback import MonitorCallback
from minired.callbacks.progbar_logger import ProgbarLogger
from minired.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from minired.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "hparams",
]
