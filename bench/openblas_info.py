"""What OpenBLAS (the BLAS behind Debian's torch) reports about itself, for
the benchmarks' PyTorch/transformers peers (decode_torch.py, hf_torch.py)."""
import ctypes


def openblas():
    """(threads, core) OpenBLAS reports, or None if torch does not use it."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_num_threads(), \
            lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None
