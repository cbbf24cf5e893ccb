/* grp.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
int setgroups(int, const gid_t *);
