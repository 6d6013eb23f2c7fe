/* strings.h: case-insensitive comparison (C locale) and bcmp. */
#ifndef _MORGANA_STRINGS_H
#define _MORGANA_STRINGS_H

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif

int bcmp(const void *a, const void *b, size_t n);
int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);

#endif
