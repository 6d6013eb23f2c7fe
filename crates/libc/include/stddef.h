/* stddef.h: common definitions (morgana libc, x86_64 LP64, freestanding). */
#ifndef _MORGANA_STDDEF_H
#define _MORGANA_STDDEF_H

#if !defined(__x86_64__) || !defined(__LP64__)
#error "morgana libc headers support x86_64 LP64 only"
#endif

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
typedef __PTRDIFF_TYPE__ ptrdiff_t;
typedef __WCHAR_TYPE__ wchar_t;

/* The most strictly aligned scalar type: 16 bytes, the alignment malloc guarantees. */
typedef struct {
    long long __ll __attribute__((__aligned__(__alignof__(long long))));
    long double __ld __attribute__((__aligned__(__alignof__(long double))));
} max_align_t;

#define NULL ((void *)0)
#define offsetof(type, member) __builtin_offsetof(type, member)

#endif
