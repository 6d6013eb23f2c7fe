/* stdlib.h: memory allocation, number parsing, sorting, abort. */
#ifndef _MORGANA_STDLIB_H
#define _MORGANA_STDLIB_H

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
#define NULL ((void *)0)

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* On the Rust global allocator; every block is 16-byte aligned. malloc(0) returns a unique
 * pointer that free accepts; realloc(p, 0) returns such a pointer too (p is released).
 * On failure NULL is returned and errno is ENOMEM. */
void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

/* Panics: the image prints the panic message and halts with status 255. */
void abort(void) __attribute__((__noreturn__));

long strtol(const char *__restrict s, char **__restrict endptr, int base);
long long strtoll(const char *__restrict s, char **__restrict endptr, int base);
unsigned long strtoul(const char *__restrict s, char **__restrict endptr, int base);
unsigned long long strtoull(const char *__restrict s, char **__restrict endptr, int base);
int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);

int abs(int x);
long labs(long x);
long long llabs(long long x);

void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
              int (*compar)(const void *, const void *));

#endif
