/* testutil.h — helpers shared by the Check suites: locating the shared reference data
 * and the built binaries. */
#ifndef MN_TESTUTIL_H
#define MN_TESTUTIL_H

/* Path of a file under ../shared/data (beside the checkout) written into buf, or NULL
 * when that folder is absent (tests then skip with a message). */
const char *tu_shared_data(const char *rel, char *buf, unsigned len);
/* Path of a built binary ("monasd", "monas-worker") from MONAS_BIN_DIR (default build). */
const char *tu_bin(const char *name, char *buf, unsigned len);
/* Prints "SKIP <what>: <why>" once; used when optional data is missing. */
void tu_skip(const char *what, const char *why);

#endif
