/*
 * A pool stopped right after it answered exits.  The SIGTERM reaches the
 * worker while it goes back from its answer to accept(); a worker that
 * took the signal just before accept() blocked there for good, and the
 * master with it.  That moment lasts about a millisecond under valgrind,
 * which widens it: there, before the fix, about half of these rounds
 * hung.  Each round: a pool of one worker settled in accept(), one
 * request, SIGTERM 0, 1 or 2 ms after the answer, and the master must be
 * gone within STOP_LIMIT_MS.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define ROUNDS 12
/* generous: valgrind takes about a second to stop a pool */
#define STOP_LIMIT_MS 30000
#define SETTLE_MS 1000
#define STEP_MS 1

/* Wait up to ms for pid to end; its exit status, or -1 if it still runs. */
static int
wait_at_most(pid_t pid, long ms)
{
	for (long waited = 0; waited < ms; waited += 50) {
		if (!tl_running(pid))
			return 0;
		tl_msleep(50);
	}
	return -1;
}

int
main(void)
{
	static const char *const p[] = { "REQUEST_METHOD=GET",
	    "DOCUMENT_URI=/healthz", NULL };
	char dir[] = "/tmp/isbitcoinlit-stop-XXXXXX";
	char bin[512], sock[300], log[300];
	const char *top = getenv("top_builddir");
	const char *argv[] = { bin, "--listen", sock, "--workers", "1", NULL };
	struct tl_env e;
	struct stat st;
	int hung = 0;

	snprintf(bin, sizeof(bin), "%s/src/isbitcoinlit-api", top ? top : ".");
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "make a temporary directory");
		return tl_done();
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	snprintf(log, sizeof(log), "%s/api.log", dir);
	tl_env_init(&e);
	/* nothing listens there: /healthz answers 503 at once, enough here */
	tl_env_set(&e, "ISBITCOINLIT_REDIS_URL=redis://127.0.0.1:1/0");
	tl_env_set(&e, "ISBITCOINLIT_REDIS_TIMEOUT_MS=200");
	tl_env_set(&e, "ISBITCOINLIT_LOG_LEVEL=error");

	for (int round = 1; round <= ROUNDS; round++) {
		pid_t pid = tl_spawn_log(argv, &e, 1, log);
		char *out;
		int answered;

		for (int i = 0; i < 400 && stat(sock, &st) != 0; i++)
			tl_msleep(25);
		/* the worker waits in accept() before the request comes */
		tl_msleep(SETTLE_MS);
		out = tl_fcgi_request(sock, p);
		answered = out != NULL && strncmp(out, "Status: ", 8) == 0;
		free(out);
		/* 0, 1 or 2 ms later: the moment is that short, even under valgrind */
		tl_msleep((round - 1) % 3 * STEP_MS);
		kill(pid, SIGTERM);
		if (!answered || wait_at_most(pid, STOP_LIMIT_MS) < 0) {
			tl_diag("round %d: answered: %s; still running %d ms "
			    "after SIGTERM", round, answered ? "yes" : "no",
			    STOP_LIMIT_MS);
			hung++;
			/* the worker follows its master (parent-death signal) */
			kill(pid, SIGKILL);
			tl_wait(pid);
			tl_msleep(500);
		}
		unlink(sock);
	}
	CHECK(hung == 0, "%d rounds of one answer then SIGTERM: every pool "
	    "answered and stopped within %d ms (%d did not)", ROUNDS,
	    STOP_LIMIT_MS, hung);
	tl_env_free(&e);
	unlink(log);
	rmdir(dir);
	return tl_done();
}
