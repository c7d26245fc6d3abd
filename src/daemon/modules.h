/* modules.h - dlopen() of the site modules the config names, each one's
 * wsp_module_api_version read and its wsp_module_init(srv) called. */
#ifndef WSP_MODULES_H
#define WSP_MODULES_H

#include "daemon/server.h"

/* Load every module of srv->cfg->modules in order.  0, or a negative
 * WSP_ERR_* with err naming the module and why. */
int wsp__modules_load(wsp_server *srv, wsp_error *err);

#endif
