/* stdlib.h in C: number parsing, abs, sorting and searching. malloc and abort are in Rust. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

/* Value of digit character `c`, or 36 (never valid) when it is not one. */
static unsigned digit_value(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 36;
}

/* The strto* core (C11 7.22.1.4): parses the magnitude, saturating at `limit`, or at `limit`
 * plus one (LLONG_MIN's magnitude) for negative numbers when `is_signed`. Unsigned results of a
 * negative number are negated, as C requires. errno becomes ERANGE on overflow and EINVAL for a
 * bad base; otherwise it is left alone. With no digits, *endptr is `s` and 0 is returned. */
static unsigned long long parse(const char *s, char **endptr, int base, unsigned long long limit,
                                int is_signed) {
    const char *p = s;
    if (endptr != NULL)
        *endptr = (char *)s;
    if (base < 0 || base == 1 || base > 36) {
        errno = EINVAL;
        return 0;
    }
    while (isspace((unsigned char)*p))
        p++;
    int negative = 0;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value((unsigned char)p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }

    unsigned long long max = is_signed && negative ? limit + 1 : limit;
    unsigned long long value = 0;
    int any = 0, overflow = 0;
    for (unsigned d; (d = digit_value((unsigned char)*p)) < (unsigned)base; p++) {
        any = 1;
        if (value > (max - d) / (unsigned)base)
            overflow = 1;
        else
            value = value * (unsigned)base + d;
    }
    if (!any)
        return 0;
    if (endptr != NULL)
        *endptr = (char *)p;
    if (overflow) {
        errno = ERANGE;
        return is_signed && negative ? 0ULL - max : max;
    }
    return negative ? 0ULL - value : value;
}

long long strtoll(const char *restrict s, char **restrict endptr, int base) {
    return (long long)parse(s, endptr, base, LLONG_MAX, 1);
}

unsigned long long strtoull(const char *restrict s, char **restrict endptr, int base) {
    return parse(s, endptr, base, ULLONG_MAX, 0);
}

/* long and long long are both 64-bit on x86_64 LP64. */
long strtol(const char *restrict s, char **restrict endptr, int base) {
    return (long)parse(s, endptr, base, LONG_MAX, 1);
}

unsigned long strtoul(const char *restrict s, char **restrict endptr, int base) {
    return (unsigned long)parse(s, endptr, base, ULONG_MAX, 0);
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }
long long atoll(const char *s) { return strtoll(s, NULL, 10); }

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
    for (size_t i = 0; i < size; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Restores the max-heap property below `root` in the first `n` elements. */
static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*compar)(const void *, const void *)) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && compar(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (compar(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

/* Heapsort: O(n log n) in the worst case, no recursion, no extra memory; not stable. */
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *)) {
    unsigned char *b = base;
    if (nmemb < 2 || size == 0)
        return;
    for (size_t i = nmemb / 2; i-- > 0;)
        sift_down(b, i, nmemb, size, compar);
    for (size_t n = nmemb - 1; n > 0; n--) {
        swap_bytes(b, b + n * size, size);
        sift_down(b, 0, n, size, compar);
    }
}

void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
              int (*compar)(const void *, const void *)) {
    const unsigned char *lo = base;
    while (nmemb > 0) {
        const unsigned char *mid = lo + (nmemb / 2) * size;
        int c = compar(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            lo = mid + size;
            nmemb -= nmemb / 2 + 1;
        } else {
            nmemb /= 2;
        }
    }
    return NULL;
}
