/* string.h: the few libc declarations cellprobe.c uses, for its NetBSD syntax check. */
#include <sys/types.h>
int strcmp(const char *, const char *); int strncmp(const char *, const char *, size_t);
size_t strlen(const char *); char *strcpy(char *, const char *); void *memset(void *, int, size_t);
char *strerror(int);
char *strchr(const char *, int); char *strpbrk(const char *, const char *);
void *memcpy(void *, const void *, size_t); int memcmp(const void *, const void *, size_t);
