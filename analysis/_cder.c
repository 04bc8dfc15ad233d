/* Optional C accelerator for analysis/der.py: walks one DER certificate and returns offsets.
 *
 * parse(der: bytes) -> tuple | None
 *   (serial_start, serial_end, issuer_start, issuer_end, subject_start, subject_end,
 *    spki_start, spki_end, not_before_us, not_after_us, is_precert, is_ca, sct_us|None,
 *    san_start, san_end, sct_ignored)                         -- -1 where absent
 * sct_ignored counts SCTs whose timestamp exceeds MAX_SCT_MS (der.py): left out of sct_us.
 * None means "not the common shape": the pure-Python reader then decides (and words the error).
 * The pure-Python reader stays the reference; the property test runs both against cryptography.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef Py_ssize_t ssz;

/* The largest SCT timestamp (ms) whose microseconds fit a signed 64-bit integer (der.MAX_SCT_MS). */
#define MAX_SCT_MS ((uint64_t)(INT64_MAX / 1000))

static int hdr(const unsigned char *b, ssz limit, ssz i, int *tag, ssz *a, ssz *e) {
    if (i < 0 || i + 2 > limit) return -1;
    *tag = b[i];
    uint64_t len = b[i + 1];
    ssz p = i + 2;
    if (len & 0x80) {
        int k = (int)(len & 0x7f);
        if (k == 0 || k > 4 || p + k > limit) return -1;
        len = 0;
        for (int j = 0; j < k; j++) len = (len << 8) | b[p + j];
        p += k;
    }
    if ((uint64_t)p + len > (uint64_t)limit) return -1;
    *a = p;
    *e = p + (ssz)len;
    return 0;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ -> microseconds; -1 otherwise. */
static int parse_time(const unsigned char *b, int tag, ssz a, ssz e, int64_t *out) {
    ssz n = e - a;
    if (!((tag == 0x17 && n == 13) || (tag == 0x18 && n == 15))) return -1;
    if (b[e - 1] != 'Z') return -1;
    int v[15];
    for (ssz i = 0; i < n - 1; i++) {
        if (b[a + i] < '0' || b[a + i] > '9') return -1;
        v[i] = b[a + i] - '0';
    }
    int64_t year;
    int off;
    if (tag == 0x17) {
        year = v[0] * 10 + v[1];
        year += year >= 50 ? 1900 : 2000;
        off = 2;
    } else {
        year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
        off = 4;
    }
    int month = v[off] * 10 + v[off + 1], day = v[off + 2] * 10 + v[off + 3];
    int hour = v[off + 4] * 10 + v[off + 5], minute = v[off + 6] * 10 + v[off + 7];
    int second = v[off + 8] * 10 + v[off + 9];
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return -1;
    *out = (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000000LL;
    return 0;
}

/* Position just after the OID TLV `pat` where it opens an Extension SEQUENCE, or -1. */
static ssz find_ext(const unsigned char *b, ssz start, ssz end, const unsigned char *pat, ssz plen) {
    for (ssz p = start; p + plen <= end; p++) {
        if (b[p] != pat[0] || memcmp(b + p, pat, plen) != 0) continue;
        if ((p - 2 >= start && b[p - 2] == 0x30) || (p - 3 >= start && b[p - 3] == 0x30 && b[p - 2] == 0x81) ||
            (p - 4 >= start && b[p - 4] == 0x30 && b[p - 3] == 0x82))
            return p + plen;
    }
    return -1;
}

/* The extnValue OCTET STRING content after an extension's OID (skipping `critical`). */
static int ext_value(const unsigned char *b, ssz k, ssz end, ssz *va, ssz *vb) {
    int t;
    if (hdr(b, end, k, &t, va, vb)) return -1;
    if (t == 0x01 && hdr(b, end, *vb, &t, va, vb)) return -1;
    return t == 0x04 ? 0 : -1;
}

static const unsigned char TLV_BC[] = {0x06, 0x03, 0x55, 0x1d, 0x13};
static const unsigned char TLV_SAN[] = {0x06, 0x03, 0x55, 0x1d, 0x11};
static const unsigned char TLV_POISON[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};
static const unsigned char TLV_SCT[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};

#define NOPE Py_RETURN_NONE

static PyObject *cder_parse(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *b = (const unsigned char *)view.buf;
    ssz n = view.len;
    PyObject *result = NULL;
    int t;
    ssz s, e, ts, te, a, x, i;
#define FAIL goto none
    if (hdr(b, n, 0, &t, &s, &e) || t != 0x30 || e != n) FAIL;
    if (hdr(b, e, s, &t, &ts, &te) || t != 0x30) FAIL;
    i = ts;
    if (hdr(b, te, i, &t, &a, &x)) FAIL;
    if (t == 0xA0) {
        i = x;
        if (hdr(b, te, i, &t, &a, &x)) FAIL;
    }
    if (t != 0x02 || x <= a) FAIL;
    ssz serial_a = a, serial_e = x;
    if (hdr(b, te, x, &t, &a, &i)) FAIL; /* signature algorithm */
    ssz issuer_s = i;
    if (hdr(b, te, i, &t, &a, &x) || t != 0x30) FAIL;
    ssz issuer_e = x;
    ssz va_, vb_;
    if (hdr(b, te, x, &t, &va_, &vb_) || t != 0x30) FAIL; /* validity */
    int t1, t2;
    ssz a1, e1, a2, e2;
    if (hdr(b, vb_, va_, &t1, &a1, &e1) || hdr(b, vb_, e1, &t2, &a2, &e2)) FAIL;
    int64_t nb, na;
    if (parse_time(b, t1, a1, e1, &nb) || parse_time(b, t2, a2, e2, &na)) FAIL;
    i = vb_;
    ssz subject_s = i;
    if (hdr(b, te, i, &t, &a, &x) || t != 0x30) FAIL;
    ssz subject_e = x;
    ssz spki_s = x;
    if (hdr(b, te, x, &t, &a, &i) || t != 0x30) FAIL;
    ssz spki_e = i;
    int is_precert = 0, is_ca = 0, have_sct = 0;
    int64_t sct_us = 0;
    Py_ssize_t sct_ignored = 0;
    ssz san_a = -1, san_e = -1;
    while (i < te) {
        if (hdr(b, te, i, &t, &a, &x)) FAIL;
        if (t == 0xA3) {
            ssz xa, xb;
            if (hdr(b, x, a, &t, &xa, &xb)) FAIL;
            ssz k, va, vb;
            if (find_ext(b, xa, xb, TLV_POISON, sizeof TLV_POISON) >= 0) is_precert = 1;
            k = find_ext(b, xa, xb, TLV_BC, sizeof TLV_BC);
            if (k >= 0) {
                ssz ba, bb, ca, cb;
                int ct;
                if (ext_value(b, k, xb, &va, &vb) || hdr(b, vb, va, &t, &ba, &bb)) FAIL;
                if (ba < bb) {
                    if (hdr(b, bb, ba, &ct, &ca, &cb)) FAIL;
                    is_ca = ct == 0x01 && cb > ca && b[ca] != 0;
                }
            }
            k = find_ext(b, xa, xb, TLV_SCT, sizeof TLV_SCT);
            if (k >= 0) {
                ssz ia, ib;
                if (ext_value(b, k, xb, &va, &vb)) FAIL;
                /* a malformed inner OCTET STRING: the Python reader words the error */
                if (hdr(b, vb, va, &t, &ia, &ib)) FAIL;
                if (t == 0x04 && ib - ia >= 2) {
                    ssz total = (b[ia] << 8) | b[ia + 1];
                    ssz pos = ia + 2, end = ia + 2 + total;
                    if (end > ib) end = ib;
                    while (pos + 2 <= end) {
                        ssz len = (b[pos] << 8) | b[pos + 1];
                        ssz item = pos + 2;
                        if (len >= 41 && item + 41 <= ib) {
                            /* unsigned: a timestamp with the high bit set must not wrap negative */
                            uint64_t ms = 0;
                            for (int j = 0; j < 8; j++) ms = (ms << 8) | b[item + 33 + j];
                            if (ms > MAX_SCT_MS) {
                                sct_ignored++;
                            } else if (!have_sct || (int64_t)ms * 1000 < sct_us) {
                                sct_us = (int64_t)ms * 1000;
                                have_sct = 1;
                            }
                        }
                        pos += 2 + len;
                    }
                }
            }
            k = find_ext(b, xa, xb, TLV_SAN, sizeof TLV_SAN);
            if (k >= 0) {
                if (ext_value(b, k, xb, &san_a, &san_e)) FAIL;
            }
        }
        i = x;
    }
    PyObject *sct = have_sct ? PyLong_FromLongLong(sct_us) : (Py_INCREF(Py_None), Py_None);
    result = Py_BuildValue("(nnnnnnnnLLOONnnn)", serial_a, serial_e, issuer_s, issuer_e, subject_s, subject_e,
                           spki_s, spki_e, (long long)nb, (long long)na, is_precert ? Py_True : Py_False,
                           is_ca ? Py_True : Py_False, sct, san_a, san_e, sct_ignored);
    PyBuffer_Release(&view);
    return result;
none:
    PyBuffer_Release(&view);
    NOPE;
}

static PyMethodDef methods[] = {
    {"parse", cder_parse, METH_O, "Offsets of one DER certificate's fields, or None (see analysis/der.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cder", NULL, -1, methods};

PyMODINIT_FUNC PyInit__cder(void) { return PyModule_Create(&module); }
