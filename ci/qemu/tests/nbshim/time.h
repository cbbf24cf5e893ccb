/* time.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/time.h>
int clock_gettime(clockid_t, struct timespec *); int clock_settime(clockid_t, const struct timespec *);
int nanosleep(const struct timespec *, struct timespec *);
