/* string.h: byte-string and memory functions. */
#ifndef _MORGANA_STRING_H
#define _MORGANA_STRING_H

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
#define NULL ((void *)0)

/* Provided by the Rust toolchain's compiler_builtins (build-std feature
 * compiler-builtins-mem) in bare-metal images, by the system libc on the host. */
void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Provided by this library. */
void *memchr(const void *s, int c, size_t n);
void *memrchr(const void *s, int c, size_t n);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int strcoll(const char *a, const char *b);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
char *strpbrk(const char *s, const char *accept);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strcpy(char *__restrict dst, const char *__restrict src);
char *strncpy(char *__restrict dst, const char *__restrict src, size_t n);
char *strcat(char *__restrict dst, const char *__restrict src);
char *strncat(char *__restrict dst, const char *__restrict src, size_t n);
char *strtok(char *__restrict s, const char *__restrict delim);
char *strtok_r(char *__restrict s, const char *__restrict delim, char **__restrict saveptr);
/* Allocate with malloc; NULL (errno ENOMEM) when out of memory. */
char *strdup(const char *s);
char *strndup(const char *s, size_t n);
/* A static description of an errno value; "Unknown error" for others. */
char *strerror(int errnum);

#endif
