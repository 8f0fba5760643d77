# The two compute dtypes of a stream, for cdef kernels written once for both
# (dispatch happens once per call on the block's _f32 flag, never in Python).

ctypedef fused real_t:
    float
    double
