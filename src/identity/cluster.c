/*
 * Union-find with the smaller root always kept as the root, so that a
 * root is its cluster's smallest index, and path halving on every find.
 */
#include "identity/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "identity/block.h"

void mr_cluster_init(struct mr_cluster *c, size_t n)
{
	c->n = n;
	c->parent = mr_malloc((n ? n : 1) * sizeof(*c->parent));
	for (size_t i = 0; i < n; i++)
		c->parent[i] = (uint32_t)i;
}

void mr_cluster_release(struct mr_cluster *c)
{
	free(c->parent);
	c->parent = NULL;
	c->n = 0;
}

uint32_t mr_cluster_find(struct mr_cluster *c, uint32_t x)
{
	while (c->parent[x] != x) {
		c->parent[x] = c->parent[c->parent[x]];
		x = c->parent[x];
	}
	return x;
}

int mr_cluster_union(struct mr_cluster *c, uint32_t x, uint32_t y)
{
	uint32_t rx = mr_cluster_find(c, x), ry = mr_cluster_find(c, y);

	if (rx == ry)
		return 0;
	if (rx < ry)
		c->parent[ry] = rx;
	else
		c->parent[rx] = ry;
	return 1;
}

size_t mr_cluster_labels(struct mr_cluster *c, uint32_t *out)
{
	size_t clusters = 0;

	for (size_t i = 0; i < c->n; i++) {
		out[i] = mr_cluster_find(c, (uint32_t)i);
		clusters += out[i] == i;
	}
	return clusters;
}

/* Sum over groups of size s of s(s-1)/2, the groups being runs of equal keys in sorted keys. */
static uint64_t mr_cluster_pairs_in_runs(const uint64_t *keys, size_t n)
{
	uint64_t pairs = 0;
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1;
		while (j < n && keys[j] == keys[i])
			j++;
		pairs += (uint64_t)(j - i) * (j - i - 1) / 2;
		i = j;
	}
	return pairs;
}

static uint64_t mr_cluster_pairs_of(const uint32_t *label, size_t n)
{
	uint32_t *size = mr_calloc(n ? n : 1, sizeof(*size));
	uint64_t pairs = 0;

	for (size_t i = 0; i < n; i++)
		size[label[i]]++;
	for (size_t i = 0; i < n; i++)
		pairs += (uint64_t)size[i] * (size[i] ? size[i] - 1 : 0) / 2;
	free(size);
	return pairs;
}

void mr_cluster_quality(const uint32_t *pred, const uint32_t *truth, size_t n,
			struct mr_cluster_quality *q)
{
	uint64_t *cell = mr_malloc((n ? n : 1) * sizeof(*cell));

	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < n; i++)
		cell[i] = ((uint64_t)pred[i] << 32) | truth[i];
	mr_block_sort(cell, NULL, n);
	q->correct = mr_cluster_pairs_in_runs(cell, n);
	free(cell);
	q->predicted = mr_cluster_pairs_of(pred, n);
	q->actual = mr_cluster_pairs_of(truth, n);
	q->precision = q->predicted ? (double)q->correct / (double)q->predicted : 1.0;
	q->recall = q->actual ? (double)q->correct / (double)q->actual : 1.0;
	q->f1 = q->precision + q->recall > 0 ?
			2 * q->precision * q->recall / (q->precision + q->recall) : 0.0;
}
