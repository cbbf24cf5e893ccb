/* limits.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/syslimits.h>
#include <machine/limits.h>
