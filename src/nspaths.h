/* nspaths.h - the namespace paths both programs name, written once: the
 * prefix every namespace has (WSP_NAMESPACE_PREFIX, public in wspulse.h)
 * and the built-in namespaces wspulsed registers (daemon/builtin.c) and
 * wspulse.fcgi publishes to (fcgi/h_todo.c) or names (the admin page). */
#ifndef WSP_NSPATHS_H
#define WSP_NSPATHS_H

#include "wspulse/wspulse.h"

#define WSP_NS_HELLO_EMOJI WSP_NAMESPACE_PREFIX "hello-emoji"
#define WSP_NS_HELLO_TODO WSP_NAMESPACE_PREFIX "hello-todo"
#define WSP_NS_STATUS WSP_NAMESPACE_PREFIX "jpulse-ws-status"
#define WSP_NS_TEST WSP_NAMESPACE_PREFIX "jpulse-ws-test"

#endif
