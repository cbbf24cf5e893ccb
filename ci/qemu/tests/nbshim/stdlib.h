/* stdlib.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
void exit(int) __attribute__((__noreturn__));
void *malloc(size_t); void free(void *);
long strtol(const char *, char **, int);
