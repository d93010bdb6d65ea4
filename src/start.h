/*
 * A program's start, the same for both programs: its settings, logging,
 * the program's own checks of its settings, the store's start-up check.
 */
#ifndef ISBITCOINLIT_START_H
#define ISBITCOINLIT_START_H

#include "cfg.h"

struct start {
	const char *prog;	/* as messages name it: "isbitcoinlit-api" */
	const char *log_name;	/* as the log names it: "api" */
	unsigned mask;		/* whose settings: CFG_API, CFG_REFRESH */
	/* more checks of the settings: print why, return -1; or NULL */
	int (*check)(const struct cfg *cfg, const char *prog);
};

/*
 * Load cfg from the environment and argv (cfg_load_or_exit(): --help,
 * --version and a bad value end the process there), start logging, run
 * how->check, then store_startup_check().  Returns 0, or the exit status
 * (2) with cfg freed.
 */
int start_up(struct cfg *cfg, const struct start *how, int argc,
    char *argv[]);

#endif
