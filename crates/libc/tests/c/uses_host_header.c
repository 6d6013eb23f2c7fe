/* Must NOT compile against this library alone: <math.h> is not provided. Proves the test's
 * compiler invocation really sees only this library's headers. */
#include <math.h>

double half(double x) { return x / 2; }
