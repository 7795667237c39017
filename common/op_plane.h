/* op_plane.h — explicit vectors and zero-padded planes for the templated kernels
 * (op_tmpl.h); included in the typed half of op_conv.c and op_pool.c, which #undef its
 * macros at their end. No include guard: it is included once per element type.
 *
 * The inner loops of the direct convolution and the stride-1 pools run on GCC/Clang
 * vector types of 32 bytes (8 floats, 4 doubles): auto-vectorisation spilled
 * register-blocked sums to the stack. On x86-64 the kernels are compiled three times
 * (AVX-512, AVX2, and the SSE2 baseline, which splits each vector into two registers)
 * and the loader picks one per CPU (ops.h MN_CLONES); lane-wise arithmetic is that of
 * scalar code (no FMA contraction in ISO C mode), so all give the same bits.
 *
 * A zero-padded plane holds a feature map inside zeros, so that a window's elements are
 * constant offsets from its first one and no loop tests for the border; adding a
 * padding zero leaves a sum as it is (but for the sign of a zero sum). */
typedef T F(vec) __attribute__((vector_size(32)));
#define VN ((int)(sizeof(F(vec)) / sizeof(T)))
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))
/* every lane s, in a register once (s − 0 is s for every s, −0 included) */
#define VSPLAT(s) ((s) - (F(vec)){0})

/* d[i] = s[i], i < n: the short rows of a feature map, copied in registers (a
 * library call per row costs more than the copy). */
static inline MN_INLINE void F(copy)(T *restrict d, const T *restrict s, int n)
{
    int i = 0;
    for (F(vec) v; i + VN <= n; i += VN) {
        VLOAD(v, s + i);
        VSTORE(d + i, v);
    }
    for (; i < n; i++)
        d[i] = s[i];
}

/* dst [c][rows][wd] ← src [c][h][w] placed at row top, column left; zeros elsewhere,
 * which only a `fresh` dst needs written: a kernel call pads into the same place with
 * the same geometry sample after sample, so the zeros stay. */
static inline MN_INLINE void F(pad)(T *dst, const T *src, int c, int h, int w, int top,
                                    int left, int rows, int wd, int fresh)
{
    if (fresh)
        memset(dst, 0, (size_t)c * rows * wd * sizeof *dst);
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
            F(copy)(dst + ((int64_t)k * rows + top + y) * wd + left,
                    src + ((int64_t)k * h + y) * w, w);
}
