"""backtrace: backpropagation traced step by step, in the lecture's notation."""

__version__ = "0.1.0"
