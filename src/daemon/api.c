/* api.c - the module API's sends (wspulse.h): wsp_broadcast,
 * wsp_broadcast_local, wsp_send_to_client, wsp_send_to_user.
 *
 * The top of the broadcast path for a module's message: a history
 * namespace's message goes through the outbox first (relay.h: delivered
 * once its id is known); any other is delivered here at once (delivery.h)
 * and handed to relay.h for the other daemons. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/delivery.h"
#include "daemon/envelope.h"
#include "daemon/relay.h"
#include "daemon/server.h"

/* Local delivery of a module message; `data` stolen. */
static int deliver_local(wsp_namespace *ns, json_t *data, const char *username,
			 const char *client_id, bool count)
{
	wsp_msg *m;

	if (!ns || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (wsp_envelope_stamp(data, username) < 0 || !(m = wsp_envelope_success(data, -1))) {
		json_decref(data);
		return WSP_ERR_NOMEM;
	}
	if (count)
		wsp__ns_count(ns, wsp_envelope_type(data), username, data);
	wsp__deliver(ns, m, client_id, -1);
	wsp_msg_unref(m);
	json_decref(data);
	return 0;
}

int wsp_broadcast(wsp_namespace *ns, json_t *data, const char *username)
{
	if (!ns || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (ns->opts.history)
		return wsp__relay_history(ns, data, username, NULL);
	wsp__relay_broadcast(ns, data, username, NULL);
	return deliver_local(ns, data, username, NULL, true);
}

int wsp_broadcast_local(wsp_namespace *ns, json_t *data, const char *username)
{
	return deliver_local(ns, data, username, NULL, false);
}

int wsp_send_to_client(wsp_namespace *ns, const char *client_id, json_t *data)
{
	if (!ns || !client_id || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	if (ns->opts.history)
		return wsp__relay_history(ns, data, "", client_id);
	wsp__relay_broadcast(ns, data, "", client_id);
	return deliver_local(ns, data, "", client_id, false);
}

int wsp_send_to_user(wsp_namespace *ns, const char *username, json_t *data)
{
	char to[sizeof(WSP_TO_USER) + WSP_USERNAME_MAX];
	size_t n = username ? strlen(username) : 0;

	if (!ns || !n || n > WSP_USERNAME_MAX || strchr(username, ':') || !json_is_object(data)) {
		json_decref(data);
		return WSP_ERR_INVALID;
	}
	snprintf(to, sizeof(to), WSP_TO_USER "%s", username);
	if (ns->opts.history)
		return wsp__relay_history(ns, data, "", to);
	wsp__relay_broadcast(ns, data, "", to);
	return deliver_local(ns, data, "", to, false);
}

