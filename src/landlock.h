/*
 * The Landlock half of a worker's confinement (sandbox.h is the whole).
 */
#ifndef ISBITCOINLIT_LANDLOCK_H
#define ISBITCOINLIT_LANDLOCK_H

#include "sandbox.h"

struct cfg;

/*
 * Restrict the process with Landlock for profile p (the files of cfg's
 * file:// feeds among what it reads), the kernel's ABI version into
 * *abi.  Returns 0 when done, 1 when the kernel cannot (nothing done), -1
 * on an error (errno).
 */
int landlock_enter(const struct cfg *cfg, enum sandbox_profile p, int *abi);

/* sandbox_outdated(), for the rules landlock_enter() made. */
int landlock_outdated(void);

#endif
