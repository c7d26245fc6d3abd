/* modules.c - site modules: dlopen() each `modules =` entry in config order
 * and call its wsp_module_init().  Any failure stops start-up with the
 * module's path and the dlerror() text.  A module's API version (see
 * wspulse.h) says how to read the options it registers with.  Modules stay loaded for the life of
 * the process (their namespaces hold pointers into them). */
#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include "daemon/modules.h"
#include "log.h"

int wsp__modules_load(wsp_server *srv, wsp_error *err)
{
	for (int i = 0; i < srv->cfg->modules.n; i++) {
		const char *path = srv->cfg->modules.v[i];
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		int (*init)(wsp_server *);
		const char *e;
		int rc;

		const int *ver;
		int v;

		if (!h)
			return wsp_error_set(err, WSP_ERR_INVALID, "module %s: cannot load: %s", path, dlerror());
		/* The API version the module was built for (wspulse.h defines it;
		 * a module from before version 2 has none: version 1). */
		dlerror();
		ver = dlsym(h, "wsp_module_api_version");
		v = ver && !dlerror() ? *ver : 1;
		if (v < 1 || v > WSP_API_VERSION)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "module %s: built for module API version %d, this wspulsed has version %d: rebuild it against this wspulse.h",
					     path, v, WSP_API_VERSION);
		dlerror();
		*(void **)&init = dlsym(h, "wsp_module_init");
		e = dlerror();
		if (e || !init)
			return wsp_error_set(err, WSP_ERR_INVALID, "module %s: no wsp_module_init: %s", path,
					     e ? e : "symbol is NULL");
		srv->module_api = v;
		rc = init(srv);
		srv->module_api = 0;
		if (rc != 0)
			return wsp_error_set(err, WSP_ERR_INVALID, "module %s: wsp_module_init failed (see the log above)",
					     path);
		wsp_info(NULL, "module %s loaded (module API version %d)", path, v);
	}
	return 0;
}
