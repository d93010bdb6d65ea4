/*
 * libFuzzer target: Redis URL parsing, redaction and scrubbing, and the
 * option table; aborts when a password shows through.
 *
 * The property, for an input text t (up to its first NUL) holding an '@'
 * (after "://" when it has one): let a be t's LAST '@', and the secret s
 * the bytes from after the first ':' following "://" (or the text's start
 * when it has no "://") up to a (from there itself when no ':' comes
 * before a) -- what a password may be, whatever the text.
 * When s is at least 4 bytes long and occurs nowhere in t outside its own
 * span (not before it, not from a on), then:
 *  - the redacted text does not contain s (unless s holds a '*': the mask
 *    "***" could then complete it by chance);
 *  - the scrubbed copy holds 'x' over exactly s's span and t elsewhere
 *    (checked for every t, with or without such a secret);
 *  - a parse error, and the option table's error for the variable and for
 *    --redis-url, carry the URL only in its redacted form: everything
 *    from the first '"' is '"', a prefix of the redacted text, and at most
 *    a closing '"' (the reason before it is fixed text that echoes no
 *    input; no reason holds a '"').  With the first point, s is in no
 *    part of a message that comes from the input.
 * Each of these holds for any text, so a failure is a real leak, never a
 * false alarm.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "redis_url.h"

/* The secret shorter than this is too likely to occur by chance. */
#define MIN_SECRET 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does the haystack h[0..hlen) contain n[0..nlen)? */
static int
has(const char *h, size_t hlen, const char *n, size_t nlen)
{
	return nlen <= hlen && memmem(h, hlen, n, nlen) != NULL;
}

/*
 * The secret span of t as the property defines it: [*start, *end) and 1
 * when t has one, else 0; *applies tells whether it is long enough and
 * nowhere else in t.
 */
static int
secret_span(const char *t, size_t *start, size_t *end, int *applies)
{
	const char *p = strstr(t, "://"), *a = strrchr(t, '@'), *colon;
	size_t len = strlen(t), slen;

	*applies = 0;
	p = p != NULL ? p + 3 : t;
	if (a == NULL || a < p)
		return 0;
	colon = memchr(p, ':', (size_t)(a - p));
	*start = (size_t)((colon != NULL ? colon + 1 : p) - t);
	*end = (size_t)(a - t);
	slen = *end - *start;
	*applies = slen >= MIN_SECRET && !has(t, *start, t + *start, slen) &&
	    !has(t + *end, len - *end, t + *start, slen);
	return 1;
}

/* Abort unless msg shows the URL only as '"' red... '"' after its reason. */
static void
check_message(const char *msg, const char *red)
{
	const char *q = strchr(msg, '"');
	size_t tlen, rlen = strlen(red);

	if (q == NULL)
		abort();	/* every URL error ends with the URL */
	q++;
	tlen = strlen(q);
	if (tlen <= rlen ? strncmp(q, red, tlen) != 0 :
	    strncmp(q, red, rlen) != 0 || tlen != rlen + 1 || q[rlen] != '"')
		abort();
}

/*
 * The configuration from argv and env; a refusal of the URL t (unless
 * NULL or empty) shows it only as red.
 */
static void
parse_cfg(int argc, char **argv, char **env, const char *t, const char *red)
{
	struct cfg cfg;
	struct error cerr;

	if (cfg_parse(&cfg, CFG_ALL, argc, argv, env, &cerr) == 0)
		cfg_free(&cfg);
	else if (t != NULL && *t != '\0')
		check_message(cerr.text, red);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redis_url url;
	struct error err;
	char red[ERROR_TEXT_MAX], prog[] = "prog", opt[] = "--redis-url";
	char *s, *t, *scrubbed, *env[2], *argv[4];
	size_t start = 0, end = 0, len;
	int span, secret;

	if ((s = malloc(size + 32)) == NULL)
		return 0;
	memcpy(s, "ISBITCOINLIT_REDIS_URL=", 23);
	memcpy(s + 23, data, size);
	s[23 + size] = '\0';
	t = s + 23;
	len = strlen(t);
	span = secret_span(t, &start, &end, &secret);

	redis_url_redact(t, red, sizeof(red));
	if (secret && memchr(t + start, '*', end - start) == NULL &&
	    has(red, strlen(red), t + start, end - start))
		abort();
	if (redis_url_parse(t, &url, &err) == 0)
		redis_url_free(&url);
	else
		check_message(err.text, red);

	/* the argv scrub, on a copy */
	if ((scrubbed = strdup(t)) == NULL) {
		free(s);
		return 0;
	}
	redis_url_scrub(scrubbed);
	for (size_t i = 0; i < len; i++)
		if (span && i >= start && i < end ? scrubbed[i] != 'x' :
		    scrubbed[i] != t[i])
			abort();
	free(scrubbed);

	/* the same text through the environment and the command line */
	env[0] = s;
	env[1] = NULL;
	argv[0] = prog;
	argv[1] = t;
	argv[2] = NULL;
	parse_cfg(1, argv, env, t, red);
	parse_cfg(2, argv, NULL, NULL, red);	/* a stray argument */
	argv[1] = opt;
	argv[2] = t;
	argv[3] = NULL;
	parse_cfg(3, argv, NULL, t, red);
	free(s);
	return 0;
}
