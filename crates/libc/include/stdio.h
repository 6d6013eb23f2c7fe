/* stdio.h: formatted output into buffers and onto the console.
 *
 * There is no file system: stdout and stderr both write to the console, through the writer the
 * runtime installs at boot (output is dropped until then). Output is not buffered across calls.
 * Floating-point conversions (%f %F %e %E %g %G %a %A) are not supported: they print the
 * conversion specification itself (for example "%.2f") and, where the compiler has SSE (never
 * in bare-metal images), consume the double argument. */
#ifndef _MORGANA_STDIO_H
#define _MORGANA_STDIO_H

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
#define NULL ((void *)0)
#define EOF (-1)

typedef struct __morgana_file FILE;
extern FILE *stdout;
extern FILE *stderr;

#define __MORGANA_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))

int snprintf(char *__restrict buf, size_t n, const char *__restrict fmt, ...) __MORGANA_PRINTF(3, 4);
int vsnprintf(char *__restrict buf, size_t n, const char *__restrict fmt, __builtin_va_list ap)
    __MORGANA_PRINTF(3, 0);
int sprintf(char *__restrict buf, const char *__restrict fmt, ...) __MORGANA_PRINTF(2, 3);
int vsprintf(char *__restrict buf, const char *__restrict fmt, __builtin_va_list ap)
    __MORGANA_PRINTF(2, 0);

int printf(const char *__restrict fmt, ...) __MORGANA_PRINTF(1, 2);
int vprintf(const char *__restrict fmt, __builtin_va_list ap) __MORGANA_PRINTF(1, 0);
int fprintf(FILE *__restrict stream, const char *__restrict fmt, ...) __MORGANA_PRINTF(2, 3);
int vfprintf(FILE *__restrict stream, const char *__restrict fmt, __builtin_va_list ap)
    __MORGANA_PRINTF(2, 0);

/* puts appends a newline; fputs does not. */
int puts(const char *s);
int fputs(const char *__restrict s, FILE *__restrict stream);
int putchar(int c);
int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
size_t fwrite(const void *__restrict ptr, size_t size, size_t nmemb, FILE *__restrict stream);
/* Nothing is buffered: always 0. */
int fflush(FILE *stream);

#endif
