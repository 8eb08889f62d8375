"""What a page writes in the notation it is set to: names, sizes, heatmap axes and arrays (pure python, no streamlit).

The numbers never change between notations; CS231n holds every 2-D array transposed (batch
first, weights on the right), so a heatmap of it swaps its rows and columns, and the names are
those of the homework's rnn_layers.py (bptt/notation.py holds the mapping).

    label("dWaa", "rnn", "cs231n")                 # 'dWh'
    words("Wrong: `dWaa` (5% off).", "rnn", "cs231n")  # 'Wrong: `dWh` (5% off).'
    shown(np.zeros((5, 10)), "cs231n").shape       # (10, 5): dnext_h is (N, H)
"""

import re

import numpy as np

from ..notation import as_cs231n, name, translate

INDEXED = (
    (re.compile(r"(?<![\w.])(d?)a\[:, ?:, ?([\w+\-]+)\]"), r"\1h[:, \2, :]"),  # da[:,:,t] -> dh[:, t, :]
    (re.compile(r"(?<![\w.])(d?)x\[:, ?:, ?([\w+\-]+)\]"), r"\1x[:, \2, :]"),
    (re.compile(r"(?<![\w.])a<([\w+\-]+)>"), r"h[:, \1, :]"),  # the course's a<t> is h[:, t, :]
    (re.compile(r"(?<![\w.])x<([\w+\-]+)>"), r"x[:, \1, :]"),
)
LETTERS = {"n_x": "D", "n_a": "H", "m": "N", "T_x": "T"}  # the course's sizes in CS231n's letters

# a heatmap axis's words in CS231n's names (a course axis label -> the homework's)
AXES = {
    "unit": "hidden unit (H)", "example": "example (N)", "input": "input (D)", "unit of a_prev": "unit of prev_h",
    "[a_prev; xt] column": "[prev_h; x] row", "[a_prev; xt] row": "[prev_h; x] row", "column": "row", "row": "column",
}


def label(key: str, cell: str, notation: str, t: int | None = None) -> str:
    """A course quantity's name in the notation; a name the homework has no word for stays the course's.

    label("da_prevt", "lstm", "cs231n") -> 'dprev_h';  label("da_t", "rnn", "course", t=2) -> 'da[:,:,2]'
    """
    try:
        return name(key, cell, notation, t)
    except KeyError:
        return key


def words(text: str, cell: str, notation: str) -> str:
    """A sentence about the course's code (markdown) in the notation's names.

    words("in `da_next`", "rnn", "cs231n") -> 'in `dnext_h`';  words("da[:,:,3]", "rnn", "cs231n") -> 'dh[:, 3, :]'
    """
    if notation == "course":
        return text
    for course, homework in INDEXED:  # a step written in (da[:,:,3], a<3>) is batch first in the homework
        text = course.sub(homework, text)
    return translate(text, cell)


def sizes(config, notation: str) -> str:
    """'n_x = 3, n_a = 5, m = 10, T_x = 4', or in CS231n's letters 'D = 3, H = 5, N = 10, T = 4'."""
    return ", ".join(f"{LETTERS[n] if notation == 'cs231n' else n} = {getattr(config, n)}" for n in LETTERS)


def shown(values: np.ndarray, notation: str) -> np.ndarray:
    """The array as the notation holds it: CS231n's transpose of a course array (a bias (n, 1) is the row (1, n)).

    shown(np.zeros((5, 3)), "cs231n").shape -> (3, 5)
    """
    return as_cs231n(values) if notation == "cs231n" else np.asarray(values)


def axes(values: np.ndarray, rows: str, cols: str, notation: str) -> tuple:
    """(rows, cols) labels of a heatmap of the course array `values` once `shown` in the notation.

    axes(np.zeros((5, 10)), "unit", "example", "cs231n") -> ('example (N)', 'hidden unit (H)')
    """
    if notation == "course":
        return rows, cols
    if np.ndim(values) == 2:  # transposed: the course's columns are the homework's rows
        rows, cols = cols, rows
    return AXES.get(rows, rows), AXES.get(cols, cols)


def split(values: np.ndarray, n_a: int | None, notation: str) -> dict:
    """heatmap()'s divider between a_prev's and xt's columns of a gated cell's weight gradient, in the notation.

    In CS231n's layout the course's [a_prev; xt] columns are rows, where a column divider cannot sit: none.
    """
    return {"split": n_a} if n_a is not None and notation == "course" else {}
