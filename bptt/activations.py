"""The two helpers the course's `rnn_utils.py` provides."""

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, elementwise. sigmoid(np.zeros(2)) -> [0.5, 0.5]"""
    return 1 / (1 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over axis 0, the class axis of an (n_y, m) array. softmax(np.zeros((2, 1))) -> [[0.5], [0.5]]"""
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))  # shifting by the max keeps exp from overflowing
    return e_x / e_x.sum(axis=0, keepdims=True)
