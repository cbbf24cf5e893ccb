/* fcntl.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/fcntl.h>
int open(const char *, int, ...);
