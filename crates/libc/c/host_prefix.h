/* Host builds only (tests): force-included before every C source so that each public symbol of
 * this library gets a "morgana_" prefix and can sit beside the host's own libc. The list must
 * name every symbol the library defines; a test checks the built archive against it. Functions
 * implemented in Rust are listed too: the Rust side exports them under the same prefixed names. */
#ifndef _MORGANA_HOST_PREFIX_H
#define _MORGANA_HOST_PREFIX_H

#define errno morgana_errno
#define stdout morgana_stdout
#define stderr morgana_stderr
#define snprintf morgana_snprintf
#define vsnprintf morgana_vsnprintf
#define sprintf morgana_sprintf
#define vsprintf morgana_vsprintf
#define printf morgana_printf
#define vprintf morgana_vprintf
#define fprintf morgana_fprintf
#define vfprintf morgana_vfprintf
#define puts morgana_puts
#define fputs morgana_fputs
#define putchar morgana_putchar
#define fputc morgana_fputc
#define putc morgana_putc
#define fwrite morgana_fwrite
#define fflush morgana_fflush
#define memchr morgana_memchr
#define memrchr morgana_memrchr
#define strnlen morgana_strnlen
#define strcmp morgana_strcmp
#define strncmp morgana_strncmp
#define strcoll morgana_strcoll
#define strchr morgana_strchr
#define strrchr morgana_strrchr
#define strstr morgana_strstr
#define strpbrk morgana_strpbrk
#define strspn morgana_strspn
#define strcspn morgana_strcspn
#define strcpy morgana_strcpy
#define strncpy morgana_strncpy
#define strcat morgana_strcat
#define strncat morgana_strncat
#define strtok morgana_strtok
#define strtok_r morgana_strtok_r
#define strdup morgana_strdup
#define strndup morgana_strndup
#define strerror morgana_strerror
#define strcasecmp morgana_strcasecmp
#define strncasecmp morgana_strncasecmp
#define strtol morgana_strtol
#define strtoll morgana_strtoll
#define strtoul morgana_strtoul
#define strtoull morgana_strtoull
#define atoi morgana_atoi
#define atol morgana_atol
#define atoll morgana_atoll
#define abs morgana_abs
#define labs morgana_labs
#define llabs morgana_llabs
#define qsort morgana_qsort
#define bsearch morgana_bsearch
#define isalnum morgana_isalnum
#define isalpha morgana_isalpha
#define isascii morgana_isascii
#define isblank morgana_isblank
#define iscntrl morgana_iscntrl
#define isdigit morgana_isdigit
#define isgraph morgana_isgraph
#define islower morgana_islower
#define isprint morgana_isprint
#define ispunct morgana_ispunct
#define isspace morgana_isspace
#define isupper morgana_isupper
#define isxdigit morgana_isxdigit
#define tolower morgana_tolower
#define toupper morgana_toupper
#define malloc morgana_malloc
#define calloc morgana_calloc
#define realloc morgana_realloc
#define free morgana_free
#define abort morgana_abort

#endif
