/* signal.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/signal.h>
int kill(pid_t, int);
