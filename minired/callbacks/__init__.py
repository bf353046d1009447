"""Callbacks: hooks into ``fit``, ``evaluate`` and ``predict``, as in ``keras.callbacks``."""

from minired.callbacks import hparams
from minired.callbacks.backup_and_restore import BackupAndRestore
from minired.callbacks.callback import Callback
from minired.callbacks.callback_list import CallbackList
from minired.callbacks.csv_logger import CSVLogger
from minired.callbacks.early_stopping import EarlyStopping
from minired.callbacks.history import History
from minired.callbacks.lambda_callback import LambdaCallback
from minired.callbacks.learning_rate_scheduler import LearningRateScheduler
from minired.callbacks.model_checkpoint import ModelCheckpoint
from minired.callbacks.monitor_callback import MonitorCallback
from minired.callbacks.orbax_checkpoint import OrbaxCheckpoint
from minired.callbacks.progbar_logger import ProgbarLogger
from minired.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from minired.callbacks.remote_monitor import RemoteMonitor
from minired.callbacks.swap_ema_weights import SwapEMAWeights
from minired.callbacks.tensorboard import TensorBoard
from minired.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "OrbaxCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
    "hparams",
]
