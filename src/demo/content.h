/*
 * The demo's content library: the catalogue the demo history names
 * (history.h, mr_hist_catalogue: ids C00001…, title, topic, product) as
 * rows of the content master data, sent into a world sink (world.h) the way
 * the world's entities are. `medreach demo` so loads them through the same
 * importer as a customer's content.csv (and --csv writes that file), and
 * every content id an event of the history names exists as a content row
 * with its topic and product.
 *
 * The one entity "content" has the columns
 *   id, title, topic, product, status, expires_at
 * every item approved, expiring on a date (Asia/Shanghai) one to two years
 * after the world's today; product is "" for general medical education.
 */
#ifndef MR_DEMO_CONTENT_H
#define MR_DEMO_CONTENT_H

#include <stdint.h>

#include "base/err.h"
#include "demo/world.h"

/*
 * Emits the catalogue of seed into sink as the entity "content" (begin,
 * the rows, end); *rows (may be NULL) counts the rows sent. The same seed
 * and day of now_us give the same rows. Stops at the first negative code a
 * sink callback returns and returns it.
 */
int mr_demo_content(uint64_t seed, int64_t now_us, const struct mr_demo_sink *sink, int64_t *rows,
		    struct mr_err *err);

#endif
