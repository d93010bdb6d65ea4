/* A program's start. */
#include "config.h"

#include "log.h"
#include "start.h"
#include "store.h"

int
start_up(struct cfg *cfg, const struct start *how, int argc, char *argv[])
{
	cfg_load_or_exit(cfg, how->prog, how->mask, argc, argv);
	log_init(how->log_name, cfg->log_level);
	if ((how->check != NULL && how->check(cfg, how->prog) < 0) ||
	    store_startup_check(cfg) < 0) {
		cfg_free(cfg);
		return 2;
	}
	return 0;
}
