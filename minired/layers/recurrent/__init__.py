"""Recurrent layers: a cell run over the time axis of ``(batch, timesteps, features)``."""

from minired.layers.recurrent.base_rnn import BaseRNN
from minired.layers.recurrent.bidirectional import Bidirectional
from minired.layers.recurrent.cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from minired.layers.recurrent.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from minired.layers.recurrent.gru import GRU
from minired.layers.recurrent.lstm import LSTM
from minired.layers.recurrent.rnn import RNN
from minired.layers.recurrent.simple_rnn import SimpleRNN

__all__ = ["BaseRNN", "Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN",
           "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D",
           "ConvLSTM3D"]
