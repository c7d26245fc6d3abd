/* builtin.h - the built-in namespaces (builtin.c says which), written
 * against the public module API (wspulse.h) only, like a site module. */
#ifndef WSP_BUILTIN_H
#define WSP_BUILTIN_H

#include <stdbool.h>

#include "wspulse/wspulse.h"

/* Register them: the demo ones only with `demo`; jpulse-ws-status pushes
 * stats every stats_ms.  0 or a negative WSP_ERR_*. */
int wsp__builtin_init(wsp_server *srv, bool demo, unsigned stats_ms);

#endif
