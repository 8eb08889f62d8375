import numpy as np

def my_backward(da, caches):
    """I renamed it so it doesn't clash with the notebook."""
    caches, x = caches
    grads = {}
    return grads
