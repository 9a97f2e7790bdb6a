/* The compiled block parser of word2vec text (see alignment/vectors.py, TextLoading.parser).
 *
 * parse_block(block, dim, out) reads whole lines "word v1 ... v{dim}" (one space apart, at most
 * one trailing space, an optional "\r" before the "\n") and writes row i's values into the
 * float32 C-contiguous buffer ``out`` (at least lines * dim floats). It returns the list of the
 * words as bytes, or None as soon as any line has another shape or a value that is not a number:
 * the caller then reads the block line by line in Python, which names the bad line.
 *
 * A value is the double nearest to its decimal text, then rounded to float32: the same two
 * roundings as numpy's loadtxt (PyOS_string_to_double, then a cast), so results are bit-identical.
 * Most values take Clinger's exact fast path (at most 19 significant digits whose integer is at
 * most 2**53, and a power of ten at most 10**22: one correctly rounded multiplication or
 * division of two exact doubles); any other text goes to PyOS_string_to_double itself. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const double POWERS_OF_TEN[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Python's own parser for a value the fast path does not take; 0 when the text is not a number. */
static int slow_value(const char *start, Py_ssize_t length, double *value) {
    char buffer[128];
    char *end;
    if (length >= (Py_ssize_t)sizeof(buffer)) {
        return 0;
    }
    memcpy(buffer, start, (size_t)length);
    buffer[length] = '\0';
    *value = PyOS_string_to_double(buffer, &end, NULL);
    if (*value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return end == buffer + length;
}

/* The value of the text [start, end); 0 when it is not a number. */
static int parse_value(const char *start, const char *end, double *value) {
    const char *p = start;
    int negative = 0;
    uint64_t mantissa = 0;
    int digits = 0;        /* significant digits kept in mantissa */
    int exponent = 0;      /* power of ten applied to mantissa */
    int seen_digit = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        negative = *p == '-';
        p++;
    }
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        seen_digit = 1;
        if (mantissa == 0 && *p == '0') {
            continue;
        }
        if (++digits > 19) {
            return slow_value(start, end - start, value);
        }
        mantissa = mantissa * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            seen_digit = 1;
            exponent--;
            if (mantissa == 0 && *p == '0') {
                continue;
            }
            if (++digits > 19) {
                return slow_value(start, end - start, value);
            }
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
        }
    }
    if (!seen_digit) {
        return slow_value(start, end - start, value); /* inf, nan, or not a number */
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int exponent_negative = 0;
        int written = 0;
        int seen_exponent_digit = 0;
        p++;
        if (p < end && (*p == '-' || *p == '+')) {
            exponent_negative = *p == '-';
            p++;
        }
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            seen_exponent_digit = 1;
            if (written < 100000) {
                written = written * 10 + (*p - '0');
            }
        }
        if (!seen_exponent_digit) {
            return 0;
        }
        exponent += exponent_negative ? -written : written;
    }
    if (p != end) {
        return 0;
    }
    if (mantissa == 0) {
        *value = negative ? -0.0 : 0.0;
        return 1;
    }
    if (mantissa > ((uint64_t)1 << 53) || exponent < -22 || exponent > 22) {
        return slow_value(start, end - start, value);
    }
    *value = exponent < 0 ? (double)mantissa / POWERS_OF_TEN[-exponent]
                          : (double)mantissa * POWERS_OF_TEN[exponent];
    if (negative) {
        *value = -*value;
    }
    return 1;
}

static PyObject *parse_block(PyObject *module, PyObject *args) {
    Py_buffer text, out;
    Py_ssize_t dim;
    PyObject *words = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*nw*", &text, &dim, &out)) {
        return NULL;
    }
    if (dim < 1) {
        PyErr_SetString(PyExc_ValueError, "dim must be positive");
        goto done;
    }
    words = PyList_New(0);
    if (words == NULL) {
        goto done;
    }
    {
        const char *p = (const char *)text.buf;
        const char *block_end = p + text.len;
        float *row = (float *)out.buf;
        Py_ssize_t capacity = out.len / (Py_ssize_t)sizeof(float);
        Py_ssize_t written = 0;
        while (p < block_end) {
            const char *line_end = memchr(p, '\n', (size_t)(block_end - p));
            const char *next = line_end == NULL ? block_end : line_end + 1;
            const char *space;
            const char *field;
            Py_ssize_t column;
            PyObject *word;
            if (line_end == NULL) {
                line_end = block_end;
            }
            if (line_end > p && line_end[-1] == '\r') {
                line_end--;
            }
            if (line_end > p && line_end[-1] == ' ') {
                line_end--;
            }
            space = memchr(p, ' ', (size_t)(line_end - p));
            if (space == NULL || space == p || written + dim > capacity) {
                goto refuse;
            }
            field = space + 1;
            for (column = 0; column < dim; column++) {
                const char *field_end = column + 1 < dim ? memchr(field, ' ', (size_t)(line_end - field)) : line_end;
                double value;
                if (field_end == NULL || field_end == field || !parse_value(field, field_end, &value)) {
                    goto refuse;
                }
                row[written + column] = (float)value;
                field = field_end + 1;
            }
            word = PyBytes_FromStringAndSize(p, space - p);
            if (word == NULL || PyList_Append(words, word) < 0) {
                Py_XDECREF(word);
                Py_CLEAR(words);
                goto done;
            }
            Py_DECREF(word);
            written += dim;
            p = next;
        }
        goto done;
    refuse:
        Py_CLEAR(words);
        words = Py_None;
        Py_INCREF(words);
    }
done:
    PyBuffer_Release(&text);
    PyBuffer_Release(&out);
    return words;
}

static PyMethodDef METHODS[] = {
    {"parse_block", parse_block, METH_VARARGS,
     "parse_block(block: bytes, dim: int, out: writable float32 buffer) -> list of word bytes, or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_textparse", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__textparse(void) { return PyModule_Create(&MODULE); }
