/* stdbool.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#define bool _Bool
#define true 1
#define false 0
