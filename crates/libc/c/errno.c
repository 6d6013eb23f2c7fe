/* The one errno: single core, no threads. */
#include <errno.h>

int errno;
