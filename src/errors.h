/*
 * One error type for every module (as jansson's json_error_t): a code,
 * the module's own status enum, and a one-line text for logs and error
 * bodies.  Filled only by error_set() and error_prefix().
 */
#ifndef ISBITCOINLIT_ERRORS_H
#define ISBITCOINLIT_ERRORS_H

/* Room for one error line, with its NUL. */
#define ERROR_TEXT_MAX 512

struct error {
	int code;		/* 0: none; else the module's status */
	char text[ERROR_TEXT_MAX];
};

/*
 * Set code and the printf-style text (truncated to fit).  e may be NULL.
 * Returns -1, so that a failing function can end with
 * "return error_set(err, ...);".
 */
int error_set(struct error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put a printf-style prefix before the text already in e; code unchanged. */
void error_prefix(struct error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
