/*	$NetBSD$	*/

/*
 * kt_common.c -- output, strings and errno names for cellktest, shared
 * by the freestanding and the libc system layers (kt.h).  Output goes to
 * fd 1 with one write per line-sized buffer, so lines from processes
 * that print at the same time do not interleave within a line.
 */

#include <sys/types.h>
#include <sys/errno.h>
#include <sys/null.h>
#include <sys/stdarg.h>

#include "kt.h"

struct kt_buf {
	char	*b_p;
	size_t	 b_len;
	size_t	 b_size;
};

static void
kt_putc(struct kt_buf *b, char c)
{

	if (b->b_len + 1 < b->b_size)
		b->b_p[b->b_len] = c;
	b->b_len++;
}

static void
kt_puts(struct kt_buf *b, const char *s)
{

	if (s == NULL)
		s = "(null)";
	while (*s != '\0')
		kt_putc(b, *s++);
}

static void
kt_putnum(struct kt_buf *b, unsigned long long v, unsigned base, int neg,
    int width, char pad)
{
	char tmp[24];
	int n;

	n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0 && n < (int)sizeof(tmp));
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		kt_putc(b, pad);
	while (n > 0)
		kt_putc(b, tmp[--n]);
}

static void
kt_format(struct kt_buf *b, const char *fmt, va_list ap)
{
	unsigned long long u;
	long long s;
	int lng, width;
	char pad;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			kt_putc(b, *fmt);
			continue;
		}
		fmt++;
		pad = ' ';
		width = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		lng = 0;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			s = lng > 1 ? va_arg(ap, long long) :
			    lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			kt_putnum(b, s < 0 ? -(unsigned long long)s :
			    (unsigned long long)s, 10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = lng > 1 ? va_arg(ap, unsigned long long) :
			    lng == 1 ? va_arg(ap, unsigned long) :
			    va_arg(ap, unsigned);
			kt_putnum(b, u, *fmt == 'x' ? 16 : 10, 0, width, pad);
			break;
		case 's':
			kt_puts(b, va_arg(ap, const char *));
			break;
		case 'c':
			kt_putc(b, (char)va_arg(ap, int));
			break;
		case '%':
			kt_putc(b, '%');
			break;
		default:
			kt_putc(b, '?');
			break;
		}
	}
	if (b->b_size > 0)
		b->b_p[b->b_len < b->b_size ? b->b_len : b->b_size - 1] =
		    '\0';
}

void
kt_vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	struct kt_buf b = { buf, 0, sizeof(buf) };

	kt_format(&b, fmt, ap);
	(void)kt_write(1, buf, b.b_len < sizeof(buf) ? b.b_len :
	    sizeof(buf) - 1);
}

void
kt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vprintf(fmt, ap);
	va_end(ap);
}

int
kt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct kt_buf b = { buf, 0, size };
	va_list ap;

	va_start(ap, fmt);
	kt_format(&b, fmt, ap);
	va_end(ap);
	return (int)b.b_len;
}

size_t
kt_strlen(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		continue;
	return n;
}

int
kt_strcmp(const char *a, const char *b)
{

	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
kt_strncmp(const char *a, const char *b, size_t n)
{

	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			break;
	}
	return 0;
}

const char *
kt_errname(long rv)
{
	static char buf[16];

	switch (rv >= 0 ? 0 : -rv) {
	case 0:		return "ok";
	case EPERM:	return "EPERM";
	case ENOENT:	return "ENOENT";
	case ESRCH:	return "ESRCH";
	case EINTR:	return "EINTR";
	case EIO:	return "EIO";
	case ENXIO:	return "ENXIO";
	case E2BIG:	return "E2BIG";
	case ECHILD:	return "ECHILD";
	case ENOMEM:	return "ENOMEM";
	case EACCES:	return "EACCES";
	case EFAULT:	return "EFAULT";
	case EBUSY:	return "EBUSY";
	case EEXIST:	return "EEXIST";
	case ENODEV:	return "ENODEV";
	case ENOTDIR:	return "ENOTDIR";
	case EINVAL:	return "EINVAL";
	case ENOSPC:	return "ENOSPC";
	case EROFS:	return "EROFS";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS:	return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EPROTO:	return "EPROTO";
	case ENOTTY:	return "ENOTTY";
	case EFTYPE:	return "EFTYPE";
	default:
		(void)kt_snprintf(buf, sizeof(buf), "E%ld", -rv);
		return buf;
	}
}
