/* assert.h: assert(EXPR) prints "Assertion failed: EXPR (FILE: LINE)" on the console and aborts.
 * Deliberately without an include guard: NDEBUG is looked at each time it is included (C11 7.2). */
#undef assert
#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
void __morgana_assert_fail(const char *expr, const char *file, int line) __attribute__((__noreturn__));
#define assert(expr) ((expr) ? (void)0 : __morgana_assert_fail(#expr, __FILE__, __LINE__))
#endif

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && __STDC_VERSION__ < 202311L
#undef static_assert
#define static_assert _Static_assert
#endif
