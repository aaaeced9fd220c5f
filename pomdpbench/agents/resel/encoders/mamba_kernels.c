/* The Mamba block's CPU kernels: the selective scan with reset flags (compiled_scan.py) and the
 * depthwise causal convolution (compiled_conv.py), forward and backward.
 *
 * Plain C with no PyTorch headers, so that a build takes about a second. Tensors arrive as
 * contiguous batch-major arrays, as the pure-PyTorch scan (scan.py) takes them:
 *
 *   u, dt, delta, z, y, out, gy, slope, grad_*:  (batch, length, dim)  delta = softplus(dt)
 *   A, A2, grad_A:                               (dim, nstate)         A2 = A * log2(e)
 *   B, C, grad_B, grad_C:                        (batch, length, nstate)
 *   D, grad_D:                                   (dim)
 *   keep:                                        (batch, length)       0 where the state resets
 *
 * Per (row, channel) the state vector (nstate entries) stays in a small local array while the
 * scan walks time, so every state entry is computed once and never leaves the cache:
 *
 *   h[t] = exp2(delta[t] * A2) * keep[t] * h[t-1] + delta[t] * u[t] * B[t]
 *   y[t] = sum_n C[t, n] * h[t, n]
 *
 * The backward pass recomputes the channel's states and decays into two (length, nstate)
 * scratch arrays (256 KiB each at the paper's sizes: they stay in the L2 cache, and reading a
 * stored decay is cheaper than a second exponential: 76 against 113 ms a backward pass there),
 * then walks time in reverse with the adjoint G[t] = gy[t] C[t] + decay[t+1] G[t+1]. A reset
 * multiplies the decay by exactly zero, so no value and no gradient crosses it.
 * Gradients with respect to B, C and A are sums over channels (B, C) or rows and steps (A):
 * they are accumulated into the output arrays, which the caller zeroes. The skip and gate,
 * out = (y + D u) silu(z), and the derivatives of gate and softplus are pointwise passes
 * vectorized over channels.
 *
 * The exponential is a polynomial written so that the compiler vectorizes it (libm's exp2 is
 * a scalar call): 2^x = 2^n * 2^f with n = round(x), |f| <= 1/2, and 2^f by a polynomial:
 * degree 6 interpolating at Chebyshev nodes (float: 2.5e-9 relative before rounding, 1.1e-7
 * after, about 1 ulp), the Taylor series to degree 13 (double, 4e-18). Results under
 * 2^-126 (float) or 2^-1022 (double) are returned as 0, where libm returns subnormals.
 * Reductions over the state are marked `omp simd` (compile with -fopenmp-simd, no OpenMP
 * runtime is used), which lets the compiler vectorize them without -ffast-math.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LN2 0.6931471805599453094
#define LOG2E 1.4426950408889634074
#define LOG2E 1.4426950408889634074
#define LOG2E 1.4426950408889634074

static inline float exp2_float(float x) {
    float xc = x < -126.0f ? -126.0f : (x > 127.0f ? 127.0f : x);
    float shifted = xc + 12582912.0f; /* 1.5 * 2^23: the low mantissa bits now hold round(x) */
    float n = shifted - 12582912.0f;
    float f = xc - n;
    /* 2^f on [-1/2, 1/2]: interpolation at Chebyshev nodes, degree 6 (2.5e-9 relative) */
    float p = 1.5461445e-4f;
    p = p * f + 1.3400428e-3f;
    p = p * f + 9.6180569e-3f;
    p = p * f + 5.5503272e-2f;
    p = p * f + 2.4022651e-1f;
    p = p * f + 6.9314718e-1f;
    p = p * f + 1.0f;
    union { float f; int32_t i; } bits;
    bits.f = shifted;
    bits.i = (bits.i + 127) << 23; /* (round(x) + 127) in the exponent field: 2^round(x) */
    return x < -126.0f ? 0.0f : p * bits.f;
}

static inline double exp2_double(double x) {
    double xc = x < -1022.0 ? -1022.0 : (x > 1023.0 ? 1023.0 : x);
    double shifted = xc + 6755399441055744.0; /* 1.5 * 2^52 */
    double n = shifted - 6755399441055744.0;
    double f = xc - n;
    /* Taylor coefficients LN2^k / k!, k = 13 .. 0 */
    static const double c[14] = {
        1.0,
        0.69314718055994530942,
        0.24022650695910071233,
        0.055504108664821579953,
        0.0096181291076284771620,
        0.0013333558146428443423,
        1.5403530393381609954e-4,
        1.5252733804059840280e-5,
        1.3215486790144309488e-6,
        1.0178086009239699727e-7,
        7.0549116208011233298e-9,
        4.4455382718708114975e-10,
        2.5678435993488202983e-11,
        1.3691488853904124338e-12,
    };
    double p = c[13];
    for (int k = 12; k >= 0; --k) p = p * f + c[k];
    union { double f; int64_t i; } bits;
    bits.f = shifted;
    bits.i = (int64_t)((uint64_t)(bits.i + 1023) << 52);
    return x < -1022.0 ? 0.0 : p * bits.f;
}

#define DEFINE_SCAN(T, SUFFIX, EXP2)                                                               \
    int scan_forward_##SUFFIX(int64_t batch, int64_t length, int64_t dim, int64_t nstate,          \
                              const T *u, const T *delta, const T *A2, const T *B, const T *C,     \
                              const T *keep, const T *D, const T *z, T *y, T *out) {               \
        T *h = (T *)malloc((size_t)nstate * sizeof(T));                                            \
        if (h == NULL) return 1;                                                                   \
        for (int64_t b = 0; b < batch; ++b) {                                                      \
            for (int64_t d = 0; d < dim; ++d) {                                                    \
                const T *a2 = A2 + d * nstate;                                                     \
                memset(h, 0, (size_t)nstate * sizeof(T));                                          \
                for (int64_t t = 0; t < length; ++t) {                                             \
                    int64_t row = b * length + t, at = row * dim + d;                              \
                    const T *bt = B + row * nstate, *ct = C + row * nstate;                        \
                    T step = delta[at], push = step * u[at], k = keep[row], acc = 0;               \
                    if (k != 1) /* a reset: keep[row] = 0 drops the carried state */               \
                        for (int64_t n = 0; n < nstate; ++n) h[n] *= k;                            \
                    _Pragma("omp simd reduction(+ : acc)")                                         \
                    for (int64_t n = 0; n < nstate; ++n) {                                         \
                        T state = EXP2(step * a2[n]) * h[n] + push * bt[n];                        \
                        h[n] = state;                                                              \
                        acc += ct[n] * state;                                                      \
                    }                                                                              \
                    y[at] = acc;                                                                   \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        free(h);                                                                                   \
        /* the skip and the gate, vectorized over channels: out = (y + D u) silu(z) */             \
        for (int64_t row = 0; row < batch * length; ++row) {                                       \
            _Pragma("omp simd")                                                                    \
            for (int64_t d = 0; d < dim; ++d) {                                                    \
                int64_t at = row * dim + d;                                                        \
                T gate = z[at] / (1 + EXP2(-z[at] * (T)LOG2E));                                    \
                out[at] = (y[at] + D[d] * u[at]) * gate;                                           \
            }                                                                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* Before the scan's backward pass: gy = d loss / d y, the gradients of z and D (grad_D is     \
     * accumulated: zero it), and the softplus's derivative sigmoid(dt) (1 above 20, as torch). */ \
    int gate_backward_##SUFFIX(int64_t rows, int64_t dim, const T *grad_out, const T *y,           \
                               const T *u, const T *D, const T *z, const T *dt, T *gy, T *grad_z,  \
                               T *grad_D, T *slope) {                                              \
        for (int64_t row = 0; row < rows; ++row) {                                                 \
            _Pragma("omp simd")                                                                    \
            for (int64_t d = 0; d < dim; ++d) {                                                    \
                int64_t at = row * dim + d;                                                        \
                T zz = z[at], g = grad_out[at], skipped = y[at] + D[d] * u[at];                    \
                T sig = 1 / (1 + EXP2(-zz * (T)LOG2E));                                            \
                T through = g * zz * sig;                                                          \
                gy[at] = through;                                                                  \
                grad_z[at] = g * skipped * (sig * (1 + zz * (1 - sig)));                           \
                grad_D[d] += through * u[at];                                                      \
                slope[at] = dt[at] > 20 ? (T)1 : 1 / (1 + EXP2(-dt[at] * (T)LOG2E));               \
            }                                                                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
                                                                                                   \
    int scan_backward_##SUFFIX(int64_t batch, int64_t length, int64_t dim, int64_t nstate,         \
                               const T *u, const T *delta, const T *A, const T *A2, const T *B,    \
                               const T *C, const T *keep, const T *D, const T *gy, const T *slope, \
                               T *grad_u, T *grad_dt, T *grad_A, T *grad_B, T *grad_C) {           \
        /* states: (length + 1, nstate), row 0 the zero state before the first step */             \
        T *states = (T *)calloc((size_t)(length + 1) * (size_t)nstate, sizeof(T));                 \
        T *decays = (T *)malloc((size_t)length * (size_t)nstate * sizeof(T));                      \
        T *carry = (T *)malloc((size_t)nstate * sizeof(T));                                        \
        if (states == NULL || decays == NULL || carry == NULL) {                                   \
            free(states);                                                                          \
            free(decays);                                                                          \
            free(carry);                                                                           \
            return 1;                                                                              \
        }                                                                                          \
        for (int64_t b = 0; b < batch; ++b) {                                                      \
            for (int64_t d = 0; d < dim; ++d) {                                                    \
                const T *a = A + d * nstate, *a2 = A2 + d * nstate;                                \
                T *ga = grad_A + d * nstate;                                                       \
                for (int64_t t = 0; t < length; ++t) {                                             \
                    int64_t row = b * length + t, at = row * dim + d;                              \
                    const T *bt = B + row * nstate, *prev = states + t * nstate;                   \
                    T *next = states + (t + 1) * nstate, *dc = decays + t * nstate;                \
                    T step = delta[at], push = step * u[at], k = keep[row];                        \
                    _Pragma("omp simd")                                                            \
                    for (int64_t n = 0; n < nstate; ++n) {                                         \
                        T decay = EXP2(step * a2[n]) * k;                                          \
                        dc[n] = decay;                                                             \
                        next[n] = decay * prev[n] + push * bt[n];                                  \
                    }                                                                              \
                }                                                                                  \
                memset(carry, 0, (size_t)nstate * sizeof(T));                                      \
                for (int64_t t = length - 1; t >= 0; --t) {                                        \
                    int64_t row = b * length + t, at = row * dim + d;                              \
                    const T *bt = B + row * nstate, *ct = C + row * nstate;                        \
                    const T *prev = states + t * nstate, *here = states + (t + 1) * nstate;        \
                    const T *dc = decays + t * nstate;                                             \
                    T *gbt = grad_B + row * nstate, *gct = grad_C + row * nstate;                  \
                    T step = delta[at], push = step * u[at], g = gy[at];                           \
                    T sum_b = 0, sum_a = 0;                                                        \
                    _Pragma("omp simd reduction(+ : sum_b, sum_a)")                                \
                    for (int64_t n = 0; n < nstate; ++n) {                                         \
                        T decay = dc[n];                                                           \
                        T adjoint = g * ct[n] + carry[n]; /* d loss / d h[t] */                    \
                        T through_decay = adjoint * prev[n] * decay; /* d loss / d (delta A) */    \
                        gct[n] += g * here[n];                                                     \
                        gbt[n] += push * adjoint;                                                  \
                        sum_b += bt[n] * adjoint;                                                  \
                        sum_a += through_decay * a[n];                                             \
                        ga[n] += through_decay * step;                                             \
                        carry[n] = decay * adjoint;                                                \
                    }                                                                              \
                    /* sum_b = d loss / d (delta u); through delta = softplus(dt) to dt */         \
                    grad_u[at] = sum_b * step + g * D[d];                                          \
                    grad_dt[at] = (sum_a + sum_b * u[at]) * slope[at];                             \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        free(states);                                                                              \
        free(decays);                                                                              \
        free(carry);                                                                               \
        return 0;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* The block's depthwise causal convolution along time (width taps, weights (width, dim)):     \
     * out[b, t, d] = bias[d] + sum_j w[j, d] x[b, t - width + 1 + j, d], x = 0 before the row. */ \
    int conv_forward_##SUFFIX(int64_t batch, int64_t length, int64_t dim, int64_t width,           \
                              const T *x, const T *w, const T *bias, T *out) {                     \
        for (int64_t b = 0; b < batch; ++b) {                                                      \
            for (int64_t t = 0; t < length; ++t) {                                                 \
                T *o = out + (b * length + t) * dim;                                               \
                memcpy(o, bias, (size_t)dim * sizeof(T));                                          \
                for (int64_t j = 0; j < width; ++j) {                                              \
                    int64_t s = t - width + 1 + j;                                                 \
                    if (s < 0) continue;                                                           \
                    const T *xs = x + (b * length + s) * dim, *wj = w + j * dim;                   \
                    _Pragma("omp simd")                                                            \
                    for (int64_t d = 0; d < dim; ++d) o[d] += xs[d] * wj[d];                       \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* Its gradients; grad_w (width, dim) and grad_bias (dim) are accumulated: zero them. */       \
    int conv_backward_##SUFFIX(int64_t batch, int64_t length, int64_t dim, int64_t width,          \
                               const T *x, const T *w, const T *grad_out, T *grad_x, T *grad_w,    \
                               T *grad_bias) {                                                     \
        for (int64_t b = 0; b < batch; ++b) {                                                      \
            for (int64_t s = 0; s < length; ++s) {                                                 \
                const T *xs = x + (b * length + s) * dim, *g = grad_out + (b * length + s) * dim;  \
                T *gx = grad_x + (b * length + s) * dim;                                           \
                memset(gx, 0, (size_t)dim * sizeof(T));                                            \
                _Pragma("omp simd")                                                                \
                for (int64_t d = 0; d < dim; ++d) grad_bias[d] += g[d];                            \
                for (int64_t j = 0; j < width; ++j) {                                              \
                    int64_t t = s + width - 1 - j; /* the output that x[s] reaches through tap j */\
                    if (t >= length) continue;                                                     \
                    const T *gt = grad_out + (b * length + t) * dim, *wj = w + j * dim;            \
                    T *gw = grad_w + j * dim;                                                      \
                    _Pragma("omp simd")                                                            \
                    for (int64_t d = 0; d < dim; ++d) {                                            \
                        gx[d] += gt[d] * wj[d];                                                    \
                        gw[d] += gt[d] * xs[d];                                                    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }

DEFINE_SCAN(float, float32, exp2_float)
DEFINE_SCAN(double, float64, exp2_double)
