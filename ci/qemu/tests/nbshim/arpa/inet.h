/* arpa/inet.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
int inet_pton(int, const char * __restrict, void * __restrict);
