/* proxy_data.c — real-image inputs for the proxies: CIFAR-10 binary batches (records
 * of one label byte and 3×32×32 planar RGB bytes) and IDX files (MNIST, Fashion-MNIST:
 * big-endian header, magic 0x00000803 for images n×h×w, 0x00000801 for labels n).
 * Images are drawn at random, cropped at random to the network input's height and
 * width, reduced to its channel count by a random sorted channel subset (TE-NAS's
 * RandChannel), and normalised with the dataset's usual mean and std. Only the drawn
 * records are read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_impl.h"

enum fmt { F_CIFAR, F_IDX };

static const struct {
    enum fmt fmt;
    double mean[3], std[3];
} dsets[DS_COUNT] = {
    [DS_CIFAR10] = {F_CIFAR, {125.3 / 255, 123.0 / 255, 113.9 / 255},
                    {63.0 / 255, 62.1 / 255, 66.7 / 255}},
    [DS_MNIST] = {F_IDX, {0.1307}, {0.3081}},
    [DS_FASHION] = {F_IDX, {0.2860}, {0.3530}},
};

#define CIFAR_RECORD 3073

struct src {
    FILE *f, *lf;
    int c, h, w;
    long count, offset, record; /* images, first image byte, bytes per record */
    int label_in_record;        /* CIFAR: byte 0 of a record */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static long file_size(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return -1;
    long n = ftell(f);
    return fseek(f, 0, SEEK_SET) == 0 ? n : -1;
}

/* Reads an IDX header of `dims` dimensions with element type ubyte into d[]. */
static int idx_header(FILE *f, int dims, long *d)
{
    unsigned char h[16];
    if (fread(h, 1, (size_t)(4 + 4 * dims), f) != (size_t)(4 + 4 * dims) || h[0] || h[1] ||
        h[2] != 0x08 || h[3] != dims)
        return -1;
    for (int i = 0; i < dims; i++)
        if ((d[i] = (long)be32(h + 4 + 4 * i)) <= 0 || d[i] > (1L << 24))
            return -1;
    return 0;
}

static int open_src(struct mn_proxy_ctx *ctx, struct src *s)
{
    const struct mn_proxy_settings *st = ctx->s;
    memset(s, 0, sizeof *s);
    if (!(s->f = fopen(st->data_path, "rb")))
        return mn_error_set(ctx->err, MN_EIO, "dataset.path", "cannot open %s",
                            st->data_path);
    long size = file_size(s->f);
    if (dsets[st->dataset].fmt == F_CIFAR) {
        if (size < CIFAR_RECORD || size % CIFAR_RECORD)
            return mn_error_set(ctx->err, MN_EPARSE, "dataset.path", "%s is not a CIFAR-10 "
                                "binary batch (size %ld is not a multiple of %d)",
                                st->data_path, size, CIFAR_RECORD);
        *s = (struct src){s->f, NULL, 3, 32, 32, size / CIFAR_RECORD, 1, CIFAR_RECORD, 1};
        return MN_OK;
    }
    long d[3];
    if (idx_header(s->f, 3, d) || size < 16 + d[0] * d[1] * d[2])
        return mn_error_set(ctx->err, MN_EPARSE, "dataset.path", "%s is not an IDX ubyte "
                            "image file (magic 0x00000803, n×h×w) of its size",
                            st->data_path);
    *s = (struct src){s->f, NULL, 1, (int)d[1], (int)d[2], d[0], 16, d[1] * d[2], 0};
    if (!st->labels_path)
        return MN_OK;
    long ln;
    if (!(s->lf = fopen(st->labels_path, "rb")))
        return mn_error_set(ctx->err, MN_EIO, "dataset.labels", "cannot open %s",
                            st->labels_path);
    size = file_size(s->lf);
    if (idx_header(s->lf, 1, &ln) || ln != s->count || size < 8 + ln)
        return mn_error_set(ctx->err, MN_EPARSE, "dataset.labels", "%s is not an IDX label "
                            "file (magic 0x00000801) for %ld images", st->labels_path,
                            s->count);
    return MN_OK;
}

static int read_at(FILE *f, long off, unsigned char *buf, long n)
{
    return fseek(f, off, SEEK_SET) == 0 && fread(buf, 1, (size_t)n, f) == (size_t)n ? 0 : -1;
}

int mn_proxy_dataset_batch(struct mn_proxy_ctx *ctx, struct mn_rng *r, float *x, int n,
                           int *labels)
{
    struct src s;
    struct mn_shape in = ctx->g->layers[0].out;
    const double *mean = dsets[ctx->s->dataset].mean, *std = dsets[ctx->s->dataset].std;
    unsigned char *rec = NULL;
    int rc = open_src(ctx, &s);
    if (!rc && (in.c > s.c || in.h > s.h || in.w > s.w))
        rc = mn_error_set(ctx->err, MN_EINVAL, "dataset", "images are %d×%d×%d, smaller than "
                          "the network input %d×%d×%d", s.c, s.h, s.w, in.c, in.h, in.w);
    if (!rc && !(rec = malloc((size_t)s.record)))
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
    int have_labels = s.label_in_record || s.lf;
    for (int i = 0; !rc && i < n; i++) {
        long k = (long)mn_rng_below(r, (uint64_t)s.count);
        int y0 = (int)mn_rng_below(r, (uint64_t)(s.h - in.h + 1));
        int x0 = (int)mn_rng_below(r, (uint64_t)(s.w - in.w + 1));
        int ch[3] = {0, 1, 2};
        for (int j = 0; j < in.c && in.c < s.c; j++) { /* partial shuffle, then sort */
            int m = j + (int)mn_rng_below(r, (uint64_t)(s.c - j)), t = ch[j];
            ch[j] = ch[m];
            ch[m] = t;
        }
        for (int a = 0; a < in.c; a++)
            for (int b = a + 1; b < in.c; b++)
                if (ch[b] < ch[a]) {
                    int t = ch[a];
                    ch[a] = ch[b];
                    ch[b] = t;
                }
        long off = s.label_in_record ? k * s.record : s.offset + k * s.record;
        if (read_at(s.f, off, rec, s.record)) {
            rc = mn_error_set(ctx->err, MN_EIO, "dataset.path", "read error in %s",
                              ctx->s->data_path);
            break;
        }
        const unsigned char *px = rec + (s.label_in_record ? 1 : 0);
        float *xs = x + (int64_t)i * in.c * in.h * in.w;
        for (int c = 0; c < in.c; c++)
            for (int yy = 0; yy < in.h; yy++)
                for (int xx = 0; xx < in.w; xx++)
                    xs[((int64_t)c * in.h + yy) * in.w + xx] =
                        (float)((px[((long)ch[c] * s.h + y0 + yy) * s.w + x0 + xx] / 255.0 -
                                 mean[ch[c]]) / std[ch[c]]);
        if (labels && s.label_in_record) {
            labels[i] = rec[0];
        } else if (labels && s.lf) {
            unsigned char l;
            if (read_at(s.lf, 8 + k, &l, 1))
                rc = mn_error_set(ctx->err, MN_EIO, "dataset.labels", "read error in %s",
                                  ctx->s->labels_path);
            else
                labels[i] = l;
        }
    }
    free(rec);
    if (s.f)
        fclose(s.f);
    if (s.lf)
        fclose(s.lf);
    return rc ? rc : have_labels && labels ? 1 : 0;
}
