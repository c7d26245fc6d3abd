/* future-module.c - a module built for a module API version this daemon
 * does not have yet: loading it must stop start-up with both versions. */
typedef struct wsp_server wsp_server;
const int wsp_module_api_version = 99;
int wsp_module_init(wsp_server *srv);
int wsp_module_init(wsp_server *srv)
{
	(void)srv;
	return 0;
}
