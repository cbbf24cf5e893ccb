/* stdarg.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
typedef __builtin_va_list va_list;
#define va_start(a,b) __builtin_va_start(a,b)
#define va_end(a) __builtin_va_end(a)
