/*
 * Private to the connection's files: what conn.c asks of topology.c,
 * the layer that knows where the data is (the master the sentinels name,
 * the cluster node that owns a slot) and stands on the transport
 * (conn_net.h).  Only conn.c and topology.c include it.
 */
#ifndef ISBITCOINLIT_TOPOLOGY_H
#define ISBITCOINLIT_TOPOLOGY_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct conn;

/*
 * conn_pipeline(): connect where the data is (the master the sentinels
 * name and ROLE confirms, else the cluster node a MOVED pointed at, else
 * the URL's address or seeds), run the pipeline with conn_pipeline_once(),
 * and follow MOVED, ASK, TRYAGAIN and READONLY.  Same return as
 * conn_pipeline().
 */
int topo_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies);

/* Free the cluster nodes c knows (c itself stays usable). */
void topo_forget_nodes(struct conn *c);

#endif
