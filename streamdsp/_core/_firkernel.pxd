# The direct-form FIR kernel (_src/sd_fir.c), for every block that runs a
# convolution sum: FIR, SavitzkyGolay, Correlator.  An extension that
# cimports this must also compile streamdsp/_src/sd_fir.c (setup.py C_SOURCES).

cdef extern from "sd_fir.h" nogil:
    enum: SD_FIR_PAD
    void sd_fir_f32(const float* hr, size_t ntaps, const float* buf, size_t frames,
                    float* y, size_t ystride)
    void sd_fir_f64(const double* hr, size_t ntaps, const double* buf, size_t frames,
                    double* y, size_t ystride)


from streamdsp._core._types cimport real_t


cdef inline void fir_kernel(const real_t* hr, size_t ntaps, const real_t* buf, size_t frames,
                            real_t* y, size_t ystride) noexcept nogil:
    """sd_fir_f32 or sd_fir_f64, picked at compile time by the pointer type."""
    if real_t is float:
        sd_fir_f32(hr, ntaps, buf, frames, y, ystride)
    else:
        sd_fir_f64(hr, ntaps, buf, frames, y, ystride)
