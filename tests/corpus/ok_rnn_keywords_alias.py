import numpy
from numpy import zeros


def rnn_backward(da, caches):
    cell = rnn_cell_backward
    cache_list, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = zeros((n_x, m, T_x), dtype=numpy.float64)
    dWax, dWaa, dba = zeros((n_a, n_x)), zeros((n_a, n_a)), zeros((n_a, 1))
    da_prevt = zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = cell(da_next=da[:, :, t] + da_prevt, cache=cache_list[t])
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax = numpy.add(dWax, g["dWax"])
        dWaa = numpy.add(dWaa, g["dWaa"])
        dba = numpy.add(dba, g["dba"])
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
