/* sys/types.h: the few POSIX types C libraries commonly expect. */
#ifndef _MORGANA_SYS_TYPES_H
#define _MORGANA_SYS_TYPES_H

#ifndef __MORGANA_SIZE_T
#define __MORGANA_SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
typedef long ssize_t;
typedef long off_t;

#endif
