/* Kernels of the rate-reducing blocks (Decimate, MaxPool).
 *
 * Polyphase FIR (Decimate)
 * ------------------------
 *   y[m * ystride] = sum_{r < D} sum_{q < Q} hr[r * Q + q] * lin[r * linlen + m + q]
 *   for 0 <= m < M.
 * Phase r of the input (every D-th sample, offset r before each kept one)
 * sits in its own buffer `lin + r * linlen`, after Q - 1 samples of
 * history; `hr` holds each phase's taps reversed.  Outputs are computed in
 * register blocks, so each buffer must be readable SD_POLY_PAD samples past
 * lin[r * linlen + Q - 1 + M].
 *
 * Pooling (MaxPool)
 * -----------------
 * Windows of `size` frames start every `stride` frames; `*cnt` counts the
 * input frames still to come before the next window is complete.  Max is
 * numpy's: NaN anywhere in a window makes its maximum NaN.  x and y are
 * interleaved (frames, ch); each call returns the windows it wrote to y.
 *
 * sd_pool_*  (stride >= size: windows do not overlap) keeps the running
 *            maximum of the current window in acc[ch].
 * sd_slide_* (stride < size) is the van Herk / Gil-Werman sliding maximum:
 *            time is cut into blocks of `size` frames and *j is the position
 *            in the current block.  Per channel c (planar state): buf[c *
 *            size + i] holds the raw frames of the current block, pb[c *
 *            size + i] their running maximum from the block start, pre[c]
 *            the latest running maximum, and suf[c * (size + 1) + i] the
 *            suffix maxima of the previous block (suf[c * (size + 1) +
 *            size] = -inf).  The window ending at block position j is
 *            max(suf[j + 1], pb[j]): O(1) per frame, O(size) once per
 *            block, both vectorised scans, no data-dependent branches.
 * sd_slide_flush_* writes the windows that started but did not complete
 *            (the partial windows of flush()), oldest first.
 */
#ifndef SD_MULTIRATE_H
#define SD_MULTIRATE_H
#include <stddef.h>

#define SD_POLY_PAD 128

void sd_polyfir_f32(const float *hr, size_t D, size_t Q, const float *lin, size_t linlen,
                    size_t M, float *y, size_t ystride);
void sd_polyfir_f64(const double *hr, size_t D, size_t Q, const double *lin, size_t linlen,
                    size_t M, double *y, size_t ystride);

size_t sd_pool_f32(const float *x, size_t frames, size_t ch, size_t size, size_t stride,
                   size_t *cnt, float *acc, float *y);
size_t sd_pool_f64(const double *x, size_t frames, size_t ch, size_t size, size_t stride,
                   size_t *cnt, double *acc, double *y);

size_t sd_slide_f32(const float *x, size_t frames, size_t ch, size_t size, size_t stride,
                    size_t *cnt, size_t *j, float *buf, float *pb, float *pre, float *suf, float *y);
size_t sd_slide_f64(const double *x, size_t frames, size_t ch, size_t size, size_t stride,
                    size_t *cnt, size_t *j, double *buf, double *pb, double *pre, double *suf, double *y);

size_t sd_slide_flush_f32(size_t ch, size_t size, size_t stride, size_t cnt, size_t j,
                          const float *buf, const float *pre, const float *suf, float *y);
size_t sd_slide_flush_f64(size_t ch, size_t size, size_t stride, size_t cnt, size_t j,
                          const double *buf, const double *pre, const double *suf, double *y);

#endif
