/* Flush-to-zero and denormals-are-zero for the duration of a kernel call.
 *
 * A recursive filter fed silence decays into subnormal numbers, which x86
 * cores process 10-100x slower (microcode assists), and stays there: an
 * 8th-order low-pass went from 1.3 to 132 us per 256-frame call.  With
 * MXCSR.FTZ (bit 15) and MXCSR.DAZ (bit 6) set, SSE/AVX arithmetic treats
 * subnormals as zero, which is far below any audible or measurable level.
 * The caller's MXCSR is restored afterwards, so Python code and numpy keep
 * IEEE semantics.  Other architectures: no-ops (the kernels are correct
 * either way; only their speed on subnormals differs).
 */
#ifndef SD_FPU_H
#define SD_FPU_H

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
#  include <xmmintrin.h>
#  define SD_FTZ_DAZ 0x8040u

/* Set FTZ|DAZ; return the MXCSR to give back to sd_fpu_leave(). */
static inline unsigned int sd_fpu_enter(void) {
    unsigned int old = _mm_getcsr();
    /* ldmxcsr costs more than stmxcsr: skip it when already set (audio thread) */
    if ((old & SD_FTZ_DAZ) != SD_FTZ_DAZ) _mm_setcsr(old | SD_FTZ_DAZ);
    return old;
}

static inline void sd_fpu_leave(unsigned int old) {
    if ((old & SD_FTZ_DAZ) != SD_FTZ_DAZ) _mm_setcsr(old);
}

/* For a thread that runs nothing but kernels (the live audio thread). */
static inline void sd_fpu_set_thread(void) {
    unsigned int csr = _mm_getcsr();
    if ((csr & SD_FTZ_DAZ) != SD_FTZ_DAZ) _mm_setcsr(csr | SD_FTZ_DAZ);
}

#else
static inline unsigned int sd_fpu_enter(void) { return 0; }
static inline void sd_fpu_leave(unsigned int old) { (void)old; }
static inline void sd_fpu_set_thread(void) {}
#endif

#endif
