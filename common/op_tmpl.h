/* op_tmpl.h — compiles one source for both element types. A templated file
 * (op_*.c, net_exec.c) is laid out as
 *     #ifndef MN_TMPL_PASS
 *     ...includes and type-independent helpers...
 *     #define MN_TMPL_FILE "op_x.c"
 *     #include "op_tmpl.h"
 *     #else
 *     ...code written with T (element type) and F(name) (name_f32 / name_f64)...
 *     #endif
 * and this header includes the file back twice: with T = float and with T = double.
 * One source keeps the float64 engine (synflow, finite-difference tests) identical to
 * the float32 one; a separate double engine would duplicate every kernel. No include
 * guard: each templated file includes it once. */
#define MN_TMPL_PASS 1

#define T float
#define F(name) name##_f32
#include MN_TMPL_FILE
#undef T
#undef F

#define T double
#define F(name) name##_f64
#include MN_TMPL_FILE
#undef T
#undef F

#undef MN_TMPL_PASS
