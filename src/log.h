/* Logging: one line per event on stderr, "ts level component message k=v...". */
#ifndef ISBITCOINLIT_LOG_H
#define ISBITCOINLIT_LOG_H

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

/* Set the component name (e.g. "api") and the lowest level written. */
void log_init(const char *component, int level);

/* Returns the level named name ("debug", "info", "warn", "error") or -1. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

/*
 * Write one line: the timestamp, level, component, then the formatted
 * message.  Callers format key=value pairs themselves and never pass
 * secrets: use redis_url_redact() for Redis URLs.
 */
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

#endif
