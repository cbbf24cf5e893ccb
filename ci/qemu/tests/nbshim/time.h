/* time.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/time.h>
