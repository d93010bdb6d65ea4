/* Logging to stderr, one line per event, written with a single write(2). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fmt.h"
#include "log.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const char *log_component = "isbitcoinlit";
static int log_threshold = LOGL_INFO;

void
log_init(const char *component, int level)
{
	log_component = component;
	log_threshold = level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < LOGL_DEBUG || level > LOGL_ERROR)
		return "?";
	return level_names[level];
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[2048], ts[FMT_RFC3339_MAX];
	va_list ap;
	int n, m;

	if (level < log_threshold)
		return;
	fmt_rfc3339(clock_now_ms(), 1, ts);
	n = snprintf(line, sizeof(line), "%s %s %s ", ts,
	    log_level_name(level), log_component);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Keep it one line whatever the message holds. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
