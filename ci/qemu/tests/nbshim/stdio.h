/* stdio.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
typedef struct __sFILE FILE;
extern FILE *stdout, *stderr;
int printf(const char *, ...);
int fprintf(FILE *, const char *, ...);
int vfprintf(FILE *, const char *, __builtin_va_list);
int snprintf(char *, size_t, const char *, ...);
int fflush(FILE *);
int setvbuf(FILE *, char *, int, size_t);
#define _IOLBF 1
