/* Includes every header of the library and uses what each declares, so that compiling this
 * file with -nostdinc proves the headers are self-contained and agree with each other. */
#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* Every header twice: include guards (and assert.h's deliberate lack of one) must cope. */
#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

_Static_assert(sizeof(int8_t) == 1 && sizeof(int16_t) == 2, "exact widths");
_Static_assert(sizeof(int32_t) == 4 && sizeof(int64_t) == 8, "exact widths");
_Static_assert(sizeof(size_t) == 8 && sizeof(ptrdiff_t) == 8 && sizeof(intptr_t) == 8, "LP64");
_Static_assert(sizeof(ssize_t) == sizeof(size_t) && sizeof(off_t) == 8, "POSIX types");
_Static_assert(INT64_MAX == LONG_MAX && INT64_MIN == LONG_MIN, "int64_t is long");
_Static_assert(UINT64_MAX == ULONG_MAX && SIZE_MAX == UINT64_MAX, "limits agree");
_Static_assert(INT32_MAX == INT_MAX && INT16_MIN == SHRT_MIN && UINT8_MAX == UCHAR_MAX, "limits agree");
_Static_assert(INT64_C(1) << 62 > INT32_MAX && UINT64_C(1) << 63 > 0, "constant macros");
_Static_assert(_Alignof(max_align_t) == 16, "malloc alignment");
_Static_assert(offsetof(struct { char c; int i; }, i) == 4, "offsetof");
_Static_assert(CHAR_BIT == 8 && CHAR_MIN == SCHAR_MIN, "char is signed on x86_64");
_Static_assert(BYTE_ORDER == LITTLE_ENDIAN, "x86_64 is little-endian");
_Static_assert(htobe16(0x1234) == 0x3412 && be32toh(0x11223344) == 0x44332211, "bswap");
_Static_assert(htole64(0x0102030405060708) == 0x0102030405060708, "little-endian no-op");
_Static_assert(true == 1 && false == 0 && sizeof(bool) == 1, "stdbool");
_Static_assert(ERANGE == 34 && ENOMEM == 12 && EINVAL == 22, "Linux errno values");
_Static_assert(EOF == -1 && EXIT_FAILURE == 1, "stdio/stdlib constants");
static_assert(sizeof(PRId64) == 3 && sizeof(PRIxPTR) == 3 && sizeof(PRIu8) == 2, "PRI macros");

static int compare_ints(const void *a, const void *b) {
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* A variadic wrapper: the printf family's va_list type must be the one stdarg.h gives. */
int log_line(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int log_line(char *buf, size_t n, const char *fmt, ...) {
    va_list ap, copy;
    va_start(ap, fmt);
    va_copy(copy, ap);
    int r = vsnprintf(buf, n, fmt, ap);
    if (r >= 0 && (size_t)r < n)
        r += vfprintf(stderr, fmt, copy);
    va_end(copy);
    va_end(ap);
    return r;
}

int use_everything(char *buf, size_t n, const char *text) {
    int values[4] = {3, 1, 2, 0};
    qsort(values, 4, sizeof values[0], compare_ints);
    int *hit = bsearch(&values[1], values, 4, sizeof values[0], compare_ints);
    char *end;
    long parsed = strtol(text, &end, 0) + (long)strtoul(text, NULL, 16) + strtoll(text, NULL, 8) +
                  (long)strtoull(text, NULL, 2) + atoi(text) + atol(text) + (long)atoll(text);
    char *copy = strdup(text);
    char *more = malloc(32), *zeroed = calloc(4, 8);
    more = realloc(more, 64);
    assert(copy != NULL && more != NULL);
    errno = 0;
    if (isalpha((unsigned char)*text) || isspace((unsigned char)*text) || isxdigit('f'))
        parsed += toupper('a') + tolower('A') + abs(-1) + labs(-2L) + (long)llabs(-3LL);
    size_t sizes = strlen(text) + strnlen(text, 4) + strspn(text, "ab") + strcspn(text, "ab");
    int cmp = strcmp(text, "x") + strncmp(text, "x", 1) + strcasecmp(text, "X") + memcmp(text, "x", 1);
    void *found = memchr(text, 'x', 1);
    char *s = strchr(text, 'x');
    s = s ? s : strrchr(text, 'y');
    s = s ? s : strstr(text, "yz");
    memset(more, 0, 64);
    memcpy(more, text, 1);
    memmove(more + 1, more, 1);
    strncpy(more, text, 8);
    more[8] = '\0';
    strcat(more, "!");
    int r = snprintf(buf, n, "%" PRId64 " %" PRIu32 " %" PRIxPTR " %zu %d %p %p %s %s %d",
                     (int64_t)parsed, (uint32_t)sizes, (uintptr_t)hit, sizes, cmp, found, (void *)end,
                     s ? s : "-", strerror(ERANGE), (int)be64toh(1));
    printf("%s\n", buf);
    puts(more);
    putchar('\n');
    fprintf(stdout, "%d\n", r);
    fflush(stdout);
    free(copy);
    free(more);
    free(zeroed);
    if (r < 0)
        abort();
    return r;
}
