/* The printf family: one formatting engine writing either into a caller's buffer or, in chunks,
 * onto the console (through the writer the Rust side holds).
 *
 * Supported: %d %i %u %o %x %X %c %s %p %n %%, flags "-+ #0", width and precision (digits or
 * '*'), length modifiers hh h l ll z j t (and L, q as ll). Results match C11 7.21.6.1 and, where
 * the standard leaves room, glibc: %p prints "(nil)" for NULL, %s prints "(null)" for NULL.
 * Floating-point conversions print their own specification text (see stdio.h). */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Implemented in Rust: hand bytes to the console writer (dropped when none is installed). */
void __morgana_libc_console_write(const char *buf, size_t len);

struct __morgana_file {
    int unused;
};
static struct __morgana_file console_stream;
FILE *stdout = &console_stream;
FILE *stderr = &console_stream;

/* Where formatted output goes. In buffer mode `buf[0..cap)` receives characters (the NUL is
 * added by the caller); in console mode `buf` is a staging area flushed when full. `len` counts
 * every character produced, whether or not it fit. */
struct out {
    char *buf;
    size_t cap;
    size_t used;
    size_t len;
    int console;
};

static void flush(struct out *o) {
    if (o->console && o->used > 0) {
        __morgana_libc_console_write(o->buf, o->used);
        o->used = 0;
    }
}

static void emit(struct out *o, const char *s, size_t n) {
    o->len += n;
    while (n > 0) {
        if (o->used == o->cap) {
            if (!o->console)
                return;
            flush(o);
        }
        size_t room = o->cap - o->used;
        size_t take = n < room ? n : room;
        memcpy(o->buf + o->used, s, take);
        o->used += take;
        s += take;
        n -= take;
    }
}

static void emit_repeat(struct out *o, char c, size_t n) {
    char chunk[16];
    memset(chunk, c, sizeof chunk);
    while (n > 0) {
        size_t take = n < sizeof chunk ? n : sizeof chunk;
        emit(o, chunk, take);
        n -= take;
    }
}

/* One conversion specification after parsing. `prec` is -1 when absent. */
struct spec {
    int minus, plus, space, hash, zero;
    int width;
    int prec;
};

static size_t zmax(long a) { return a > 0 ? (size_t)a : 0; }

/* Prints `prefix` (sign or 0x), leading zeros and `body` padded to the field width. */
static void emit_field(struct out *o, const struct spec *sp, const char *prefix, size_t zeros,
                       const char *body, size_t body_len) {
    size_t plen = strlen(prefix);
    size_t content = plen + zeros + body_len;
    size_t pad = zmax((long)sp->width - (long)content);
    if (sp->zero && !sp->minus && sp->prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!sp->minus)
        emit_repeat(o, ' ', pad);
    emit(o, prefix, plen);
    emit_repeat(o, '0', zeros);
    emit(o, body, body_len);
    if (sp->minus)
        emit_repeat(o, ' ', pad);
}

static void emit_int(struct out *o, const struct spec *sp, unsigned long long v, int negative,
                     int is_signed, int base, int upper, int is_pointer) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24]; /* 64 bits in octal are 22 digits */
    size_t n = sizeof buf;
    int zero_value = v == 0;
    if (!(sp->prec == 0 && zero_value)) {
        do {
            buf[--n] = digits[v % (unsigned)base];
            v /= (unsigned)base;
        } while (v != 0);
    }
    size_t ndigits = sizeof buf - n;
    size_t zeros = sp->prec > 0 ? zmax((long)sp->prec - (long)ndigits) : 0;
    if (sp->hash && base == 8 && zeros == 0 && (ndigits == 0 || buf[n] != '0'))
        zeros = 1;

    const char *prefix = "";
    if (is_signed)
        prefix = negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    else if (base == 16 && ((sp->hash && !zero_value) || is_pointer))
        prefix = upper ? "0X" : "0x";
    emit_field(o, sp, prefix, zeros, buf + n, ndigits);
}

/* Length modifiers, in increasing width. */
enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

static long long arg_signed(va_list *ap, enum length len) {
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z: return va_arg(*ap, long); /* signed type of size_t */
    case LEN_J: return va_arg(*ap, intmax_t);
    case LEN_T: return va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, int);
    }
}

static unsigned long long arg_unsigned(va_list *ap, enum length len) {
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    case LEN_J: return va_arg(*ap, uintmax_t);
    case LEN_T: return (unsigned long)va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, unsigned);
    }
}

static void store_count(va_list *ap, enum length len, size_t count) {
    switch (len) {
    case LEN_HH: *va_arg(*ap, signed char *) = (signed char)count; break;
    case LEN_H: *va_arg(*ap, short *) = (short)count; break;
    case LEN_L: *va_arg(*ap, long *) = (long)count; break;
    case LEN_LL: *va_arg(*ap, long long *) = (long long)count; break;
    case LEN_Z: *va_arg(*ap, size_t *) = count; break;
    case LEN_J: *va_arg(*ap, intmax_t *) = (intmax_t)count; break;
    case LEN_T: *va_arg(*ap, ptrdiff_t *) = (ptrdiff_t)count; break;
    default: *va_arg(*ap, int *) = (int)count; break;
    }
}

/* Reads a decimal number, saturating at INT_MAX. */
static int read_decimal(const char **p) {
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        int d = *(*p)++ - '0';
        v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
    }
    return v;
}

static void format(struct out *o, const char *fmt, va_list *ap) {
    while (*fmt) {
        if (*fmt != '%') {
            const char *run = fmt;
            while (*fmt && *fmt != '%')
                fmt++;
            emit(o, run, (size_t)(fmt - run));
            continue;
        }
        const char *start = fmt++;
        struct spec sp = {0, 0, 0, 0, 0, 0, -1};
        for (;; fmt++) {
            if (*fmt == '-') sp.minus = 1;
            else if (*fmt == '+') sp.plus = 1;
            else if (*fmt == ' ') sp.space = 1;
            else if (*fmt == '#') sp.hash = 1;
            else if (*fmt == '0') sp.zero = 1;
            else break;
        }
        if (*fmt == '*') {
            fmt++;
            int w = va_arg(*ap, int);
            if (w < 0) {
                sp.minus = 1;
                w = w == INT_MIN ? INT_MAX : -w;
            }
            sp.width = w;
        } else {
            sp.width = read_decimal(&fmt);
        }
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                fmt++;
                int p = va_arg(*ap, int);
                sp.prec = p < 0 ? -1 : p;
            } else {
                sp.prec = read_decimal(&fmt);
            }
        }
        enum length len = LEN_NONE;
        switch (*fmt) {
        case 'h':
            len = LEN_H;
            if (*++fmt == 'h') {
                fmt++;
                len = LEN_HH;
            }
            break;
        case 'l':
            len = LEN_L;
            if (*++fmt == 'l') {
                fmt++;
                len = LEN_LL;
            }
            break;
        case 'q': case 'L': fmt++; len = LEN_LL; break;
        case 'z': fmt++; len = LEN_Z; break;
        case 'j': fmt++; len = LEN_J; break;
        case 't': fmt++; len = LEN_T; break;
        default: break;
        }

        char conv = *fmt;
        if (conv == '\0') {
            /* A lone '%' (plus flags) at the end: print it as it stands. */
            emit(o, start, (size_t)(fmt - start));
            break;
        }
        fmt++;
        switch (conv) {
        case 'd':
        case 'i': {
            long long v = arg_signed(ap, len);
            unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            emit_int(o, &sp, mag, v < 0, 1, 10, 0, 0);
            break;
        }
        case 'u': emit_int(o, &sp, arg_unsigned(ap, len), 0, 0, 10, 0, 0); break;
        case 'o': emit_int(o, &sp, arg_unsigned(ap, len), 0, 0, 8, 0, 0); break;
        case 'x': emit_int(o, &sp, arg_unsigned(ap, len), 0, 0, 16, 0, 0); break;
        case 'X': emit_int(o, &sp, arg_unsigned(ap, len), 0, 0, 16, 1, 0); break;
        case 'p': {
            uintptr_t p = (uintptr_t)va_arg(*ap, void *);
            if (p == 0) {
                sp.prec = -1;
                sp.zero = 0;
                emit_field(o, &sp, "", 0, "(nil)", 5);
            } else {
                emit_int(o, &sp, p, 0, 0, 16, 0, 1);
            }
            break;
        }
        case 'c': {
            char c = (char)va_arg(*ap, int);
            sp.prec = -1;
            sp.zero = 0;
            emit_field(o, &sp, "", 0, &c, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(*ap, const char *);
            if (s == NULL)
                s = sp.prec >= 0 && sp.prec < 6 ? "" : "(null)";
            size_t n = sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s);
            sp.prec = -1;
            sp.zero = 0;
            emit_field(o, &sp, "", 0, s, n);
            break;
        }
        case 'n': store_count(ap, len, o->len); break;
        case '%': emit(o, "%", 1); break;
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
#ifdef __SSE__
            if (len == LEN_LL) /* 'L': long double */
                (void)va_arg(*ap, long double);
            else
                (void)va_arg(*ap, double);
#endif
            emit(o, start, (size_t)(fmt - start));
            break;
        default:
            /* Unknown conversion: print the specification as it stands, consume nothing. */
            emit(o, start, (size_t)(fmt - start));
            break;
        }
    }
}

/* The C return value: the count, or -1 with EOVERFLOW when it does not fit an int. */
static int result(size_t len) {
    if (len > INT_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    return (int)len;
}

int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap) {
    struct out o = {buf, n > 0 ? n - 1 : 0, 0, 0, 0};
    va_list aq;
    va_copy(aq, ap);
    format(&o, fmt, &aq);
    va_end(aq);
    if (n > 0)
        buf[o.used] = '\0';
    return result(o.len);
}

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap) {
    return vsnprintf(buf, SIZE_MAX, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, SIZE_MAX, fmt, ap);
    va_end(ap);
    return r;
}

int vfprintf(FILE *restrict stream, const char *restrict fmt, va_list ap) {
    (void)stream;
    char staging[128];
    struct out o = {staging, sizeof staging, 0, 0, 1};
    va_list aq;
    va_copy(aq, ap);
    format(&o, fmt, &aq);
    va_end(aq);
    flush(&o);
    return result(o.len);
}

int fprintf(FILE *restrict stream, const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stream, fmt, ap);
    va_end(ap);
    return r;
}

int vprintf(const char *restrict fmt, va_list ap) { return vfprintf(stdout, fmt, ap); }

int printf(const char *restrict fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}

int fputs(const char *restrict s, FILE *restrict stream) {
    (void)stream;
    __morgana_libc_console_write(s, strlen(s));
    return 0;
}

int puts(const char *s) {
    __morgana_libc_console_write(s, strlen(s));
    __morgana_libc_console_write("\n", 1);
    return 0;
}

int fputc(int c, FILE *stream) {
    (void)stream;
    char ch = (char)c;
    __morgana_libc_console_write(&ch, 1);
    return (unsigned char)c;
}

int putc(int c, FILE *stream) { return fputc(c, stream); }

int putchar(int c) { return fputc(c, stdout); }

size_t fwrite(const void *restrict ptr, size_t size, size_t nmemb, FILE *restrict stream) {
    (void)stream;
    if (size == 0 || nmemb == 0)
        return 0;
    if (nmemb > SIZE_MAX / size) {
        errno = EOVERFLOW;
        return 0;
    }
    __morgana_libc_console_write(ptr, size * nmemb);
    return nmemb;
}

int fflush(FILE *stream) {
    (void)stream;
    return 0;
}

void __morgana_assert_fail(const char *expr, const char *file, int line) {
    printf("Assertion failed: %s (%s: %d)\n", expr, file, line);
    abort();
}
