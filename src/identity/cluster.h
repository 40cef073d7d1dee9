/*
 * From matched pairs to entities: union-find over record indices, so that
 * when A matches B and B matches C all three are one cluster even if A and
 * C were never compared. A cluster is named by its smallest record index
 * (the first of its records in the input), which is stable and lets a
 * caller print the first record's id as the cluster's id.
 *
 * Also the pairwise quality of a clustering against a known truth:
 * precision and recall over the pairs of records put together, counted
 * from cluster sizes and the sizes of (cluster, true entity) cells, never
 * by listing pairs, so it costs O(n log n) however big the clusters are.
 */
#ifndef MR_IDENTITY_CLUSTER_H
#define MR_IDENTITY_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct mr_cluster {
	uint32_t *parent;
	size_t n;
};

/* n singleton clusters, one per record; n must be below 2^32. */
void mr_cluster_init(struct mr_cluster *c, size_t n);
/* Frees c. */
void mr_cluster_release(struct mr_cluster *c);
/* The smallest record index in x's cluster. */
uint32_t mr_cluster_find(struct mr_cluster *c, uint32_t x);
/* Puts x and y in one cluster; returns 1 when they were in two. */
int mr_cluster_union(struct mr_cluster *c, uint32_t x, uint32_t y);
/* Writes each record's cluster (its smallest record index) to out[0..n); returns the number of clusters. */
size_t mr_cluster_labels(struct mr_cluster *c, uint32_t *out);

struct mr_cluster_quality {
	uint64_t predicted; /* pairs of records in one predicted cluster */
	uint64_t actual;    /* pairs of records of one true entity */
	uint64_t correct;   /* pairs in both */
	double precision, recall, f1; /* 1 when there is nothing to get wrong */
};

/* Pairwise precision, recall and F1 of labels pred against truth (both values in [0, n)). */
void mr_cluster_quality(const uint32_t *pred, const uint32_t *truth, size_t n,
			struct mr_cluster_quality *q);

#endif
